//! No API key reaches a log line, an answer or an error message, even when a provider echoes it back: every
//! path that handles a key runs here with our crates logging everything, and the log is searched.

use std::sync::{Arc, Mutex};

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use integration_tests::{TestApp, serve};
use server::llm::{chat::Prompt, router};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tracing_subscriber::util::SubscriberInitExt;

const KEY: &str = "sk-proj-Echoed-Secret-Key-0123456789abcdef";
const OTHER_KEY: &str = "sk-proj-Another-Echoed-Key-fedcba9876543210";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("the log").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn bearer(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A careless provider: it refuses with the key it was sent in its answer, or starts answering and then
/// reports an error that quotes it.
fn echoing_provider() -> Router {
    Router::new()
        .route(
            "/v1/models",
            get(|headers: HeaderMap| async move {
                (
                    StatusCode::UNAUTHORIZED,
                    format!("{{\"error\": \"invalid key {}\"}}", bearer(&headers)),
                )
            }),
        )
        .route(
            "/v1/chat/completions",
            post(|headers: HeaderMap| async move {
                let key = bearer(&headers);
                if key.ends_with(KEY) {
                    return (
                        StatusCode::UNAUTHORIZED,
                        format!("{{\"error\": \"invalid key {key}\"}}"),
                    )
                        .into_response();
                }
                let events = format!(
                    "data: {{\"choices\": [{{\"delta\": {{\"content\": \"Half \"}}}}]}}\n\n\
                     data: {{\"error\": {{\"message\": \"quota exceeded for {key}\"}}}}\n\n"
                );
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from(events))
                    .expect("a response")
            }),
        )
}

#[sqlx::test(migrations = false)]
async fn keys_stay_out_of_logs_answers_and_errors(options: PgPoolOptions, connect: PgConnectOptions) {
    let log = Captured::default();
    let writer = log.clone();
    // Our crates at every level, the others as the server runs them.
    let _capture = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_env_filter("info,server=trace,app=trace")
        .finish()
        .set_default();
    let mut bodies = Vec::new();
    TestApp::run(options, connect, async |app| {
        let base = format!("http://{}", serve(echoing_provider()).await);
        let mut client = app.signed_in("dj@example.org", "velvet thunder orchard").await;
        for (name, key) in [("Refuses", KEY), ("Quotes", OTHER_KEY)] {
            let fields = [("kind", "openai"), ("name", name), ("api_key", key), ("base_url", base.as_str()), ("model", "")];
            bodies.push(client.call("add-provider", &fields).await.body);
        }
        let listed = client.call("providers", &[]).await.body;
        let providers: Vec<serde_json::Value> = serde_json::from_str(&listed).expect("JSON");
        bodies.push(listed);
        for provider in &providers {
            let id = provider["id"].as_str().expect("an id");
            bodies.push(client.call("test-provider", &[("id", id)]).await.body);
        }
        bodies.push(client.call("providers", &[]).await.body);

        let user = server::auth::user::find_by_email(&app.state.pool, "dj@example.org")
            .await
            .expect("reads")
            .expect("the user");
        let prompt = Prompt {
            system: "You help DJs.".into(),
            question: "Where do I start?".into(),
        };
        // Both are unreachable after their checks, so both are tried: one refuses, one breaks off.
        let routed = router::ask(&app.state.pool, &app.state.vault, &app.state.http.services, &user, &prompt)
            .await
            .expect("one starts answering");
        let pieces: Vec<_> = futures_util::StreamExt::collect(routed.answer).await;
        for piece in pieces {
            match piece {
                Ok(text) => bodies.push(text),
                Err(err) => bodies.push(format!("{err} / {}", err.public_message())),
            }
        }
        // A sealed key copied into another row fails to open, and says so in the log.
        sqlx::query("update llm_providers set api_key = (select api_key from llm_providers where name = 'Refuses') where name = 'Quotes'")
            .execute(&app.state.pool)
            .await
            .expect("copied");
        bodies.push(client.call("providers", &[]).await.body);
    })
    .await;

    let log = String::from_utf8(log.0.lock().expect("the log").clone()).expect("text");
    assert!(
        log.contains("a provider reported an error mid-answer"),
        "the capture caught our lines:\n{log}"
    );
    assert!(
        log.contains("a provider's key does not open"),
        "and the warning:\n{log}"
    );
    for key in [KEY, OTHER_KEY] {
        let part = &key[8..28];
        assert!(!log.contains(part), "a key in the log:\n{log}");
        for body in &bodies {
            assert!(!body.contains(part), "a key in an answer: {body}");
        }
    }
}
