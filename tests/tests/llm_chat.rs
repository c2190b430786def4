//! Asking providers, through our real HTTP client, of a local fake that speaks each API's documented
//! streaming request and answer; and the router's order and fallback.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use futures_util::StreamExt;
use integration_tests::{TestApp, serve};
use serde_json::Value;
use server::{
    SecretString,
    llm::{
        chat::{self, Prompt},
        health::{Health, Target},
        providers::Kind,
        router,
    },
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

const ANSWER: [&str; 3] = ["Play it ", "at 124 ", "BPM."];

#[derive(Clone, Default)]
struct Asked(Arc<AtomicUsize>);

/// The answer's pieces as `kind` streams them: server-sent events, or Ollama's JSON lines.
fn streamed(kind: Kind, fail_midway: bool) -> Response {
    let mut lines: Vec<String> = ANSWER
        .iter()
        .map(|text| match kind {
            Kind::Anthropic => format!(
                "event: content_block_delta\ndata: {}\n\n",
                serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}})
            ),
            Kind::OpenAi | Kind::AzureOpenAi => {
                format!("data: {}\n\n", serde_json::json!({"choices": [{"delta": {"content": text}}]}))
            }
            Kind::GoogleGemini => format!(
                "data: {}\n\n",
                serde_json::json!({"candidates": [{"content": {"parts": [{"text": text}]}}]})
            ),
            Kind::Ollama => format!("{}\n", serde_json::json!({"message": {"role": "assistant", "content": text}, "done": false})),
        })
        .collect();
    if fail_midway {
        lines.truncate(1);
        lines.push("data: {\"error\": {\"message\": \"overloaded\"}}\n\n".to_owned());
    } else {
        lines.push(match kind {
            Kind::Anthropic => "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_owned(),
            Kind::Ollama => "{\"done\": true}\n".to_owned(),
            _ => "data: [DONE]\n\n".to_owned(),
        });
    }
    // One piece per chunk, so the client must put lines together across reads.
    let chunks = futures_util::stream::iter(
        lines
            .into_iter()
            .map(|line| Ok::<_, std::io::Error>(Bytes::from(line))),
    );
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(chunks))
        .expect("a response")
}

fn key_of(headers: &HeaderMap) -> Option<String> {
    ["x-api-key", "x-goog-api-key", "api-key"]
        .iter()
        .find_map(|name| headers.get(*name))
        .or_else(|| headers.get("authorization"))
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim_start_matches("Bearer ").to_owned())
}

async fn reply(asked: &Asked, kind: Kind, headers: &HeaderMap, body: &Value) -> Response {
    asked.0.fetch_add(1, Ordering::SeqCst);
    let text = body.to_string();
    assert!(text.contains("How do I mix this?"), "the question goes: {text}");
    assert!(text.contains("124 BPM, 8A"), "the context goes: {text}");
    if kind != Kind::GoogleGemini && kind != Kind::AzureOpenAi {
        assert_eq!(body["stream"], true, "{kind:?} is asked to stream");
    }
    match key_of(headers).as_deref() {
        _ if kind == Kind::Ollama => streamed(kind, false),
        Some("good") => streamed(kind, false),
        Some("erratic") => streamed(kind, true),
        Some("broken") => (StatusCode::INTERNAL_SERVER_ERROR, "overloaded").into_response(),
        _ => (StatusCode::UNAUTHORIZED, "{\"error\": \"invalid key\"}").into_response(),
    }
}

fn fake_llms(asked: Asked) -> Router {
    Router::new()
        .route(
            "/v1/messages",
            post(|State(a): State<Asked>, h: HeaderMap, Json(b): Json<Value>| async move { reply(&a, Kind::Anthropic, &h, &b).await }),
        )
        .route(
            "/v1/chat/completions",
            post(|State(a): State<Asked>, h: HeaderMap, Json(b): Json<Value>| async move { reply(&a, Kind::OpenAi, &h, &b).await }),
        )
        .route(
            "/openai/deployments/{deployment}/chat/completions",
            post(
                |State(a): State<Asked>, Path(deployment): Path<String>, h: HeaderMap, Json(b): Json<Value>| async move {
                    assert_eq!(deployment, "my-gpt", "the deployment is the model");
                    reply(&a, Kind::AzureOpenAi, &h, &b).await
                },
            ),
        )
        .route(
            "/v1beta/models/{model}",
            post(
                |State(a): State<Asked>, Path(model): Path<String>, h: HeaderMap, Json(b): Json<Value>| async move {
                    assert_eq!(model, "gemini-2.0-flash:streamGenerateContent", "the default model, streaming");
                    reply(&a, Kind::GoogleGemini, &h, &b).await
                },
            ),
        )
        .route(
            "/api/chat",
            post(|State(a): State<Asked>, h: HeaderMap, Json(b): Json<Value>| async move { reply(&a, Kind::Ollama, &h, &b).await }),
        )
        .with_state(asked)
}

fn prompt() -> Prompt {
    Prompt {
        system: "You help DJs. The track: 124 BPM, 8A.".into(),
        question: "How do I mix this?".into(),
    }
}

async fn collect(mut answer: chat::Answer) -> (String, bool) {
    let mut pieces = Vec::new();
    while let Some(piece) = answer.next().await {
        pieces.push(piece);
    }
    // A response body may be asked again after its end (the compression layer does): it stays ended.
    assert!(answer.next().await.is_none());
    let failed = pieces.iter().any(Result::is_err);
    (pieces.into_iter().filter_map(Result::ok).collect(), failed)
}

#[tokio::test]
async fn each_api_streams_its_answer_and_a_refusal_says_why() {
    let base = format!("http://{}", serve(fake_llms(Asked::default())).await);
    let client = server::http_client::HttpClients::new(true)
        .expect("our clients")
        .services;
    let target = |kind: Kind, key: Option<&str>| Target {
        kind,
        base_url: Some(base.clone()),
        model: (kind == Kind::AzureOpenAi).then(|| "my-gpt".to_owned()),
        key: key.map(|key| SecretString::from(key.to_owned())),
    };
    for kind in [
        Kind::Anthropic,
        Kind::OpenAi,
        Kind::GoogleGemini,
        Kind::AzureOpenAi,
        Kind::Ollama,
    ] {
        let key = (kind != Kind::Ollama).then_some("good");
        let answer = chat::ask(&client, &target(kind, key), &prompt())
            .await
            .expect("answers");
        assert_eq!(collect(answer).await, (ANSWER.concat(), false), "{kind:?}");
        if kind != Kind::Ollama {
            let refused = chat::ask(&client, &target(kind, Some("bad")), &prompt())
                .await
                .err();
            assert_eq!(
                refused,
                Some(Health::Unreachable("key rejected (401)".into())),
                "{kind:?}"
            );
            let broken = chat::ask(&client, &target(kind, Some("broken")), &prompt())
                .await
                .err();
            assert_eq!(
                broken,
                Some(Health::Unreachable("the service failed (500)".into())),
                "{kind:?}"
            );
        }
    }
    let answer = chat::ask(&client, &target(Kind::OpenAi, Some("erratic")), &prompt())
        .await
        .expect("starts");
    assert_eq!(
        collect(answer).await,
        (ANSWER[0].to_owned(), true),
        "what came, then the error"
    );
}

#[sqlx::test(migrations = false)]
async fn the_router_falls_back_in_order_and_remembers_who_failed(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run_without_workers(options, connect, |_| {}, async |app| {
        let asked = Asked::default();
        let base = format!("http://{}", serve(fake_llms(asked.clone())).await);
        let mut client = app.signed_in("dj@example.org", "velvet thunder orchard").await;
        for (kind, name, key) in [("anthropic", "First", "bad"), ("openai", "Second", "good")] {
            let fields = [("kind", kind), ("name", name), ("api_key", key), ("base_url", base.as_str()), ("model", "")];
            assert_eq!(client.call("add-provider", &fields).await.status, StatusCode::OK);
        }
        let user = server::auth::user::find_by_email(&app.state.pool, "dj@example.org")
            .await
            .expect("reads")
            .expect("the user");
        let question = prompt();
        let ask = || router::ask(&app.state.pool, &app.state.vault, &app.state.http.services, &user, &question);

        let routed = ask().await.expect("someone answers");
        assert_eq!(routed.provider, "Second");
        assert_eq!(collect(routed.answer).await.0, ANSWER.concat());
        assert_eq!(asked.0.load(Ordering::SeqCst), 2, "First was tried, then Second");
        let first: (String, Option<String>) =
            sqlx::query_as("select health_status, health_detail from llm_providers where name = 'First'")
                .fetch_one(&app.state.pool)
                .await
                .expect("the row");
        assert_eq!(first, ("unreachable".into(), Some("key rejected (401)".into())));

        let routed = ask().await.expect("answers again");
        assert_eq!(routed.provider, "Second");
        assert_eq!(asked.0.load(Ordering::SeqCst), 3, "the unreachable one now goes last, so is not asked");

        sqlx::query("update llm_providers set api_key = null, provider_type = 'ollama', base_url = 'http://127.0.0.1:9' where name = 'Second'")
            .execute(&app.state.pool)
            .await
            .expect("broken");
        let Err(err) = ask().await else { panic!("nobody can answer") };
        assert_eq!(
            err.public_message(),
            "No provider answered. Second: could not connect: check the base URL; First: key rejected (401)."
        );
        sqlx::query("update llm_providers set enabled = false").execute(&app.state.pool).await.expect("all off");
        let Err(err) = ask().await else { panic!("none on") };
        assert!(err.public_message().contains("in Settings"), "{}", err.public_message());
    })
    .await;
}
