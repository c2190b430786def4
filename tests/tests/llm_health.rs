//! Health checks against a local fake of each provider's API, through our real HTTP client: the five
//! request shapes, and what each answer (success, 401, 429, 500, silence) makes of the provider.

use std::time::Duration;

use axum::{
    Router,
    extract::Query,
    http::{HeaderMap, StatusCode},
    routing::get,
};
use integration_tests::{TestApp, serve};
use server::{
    SecretString,
    llm::{
        health::{self, ANTHROPIC_VERSION, AZURE_API_VERSION, Health, Target},
        providers::Kind,
    },
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// What the fake does for a key: `good` answers, `bad` is refused, `busy` is over its limit, `broken`
/// fails, `slow` never answers in time.
async fn answer(key: Option<&str>) -> (StatusCode, &'static str) {
    match key {
        Some("good") => (StatusCode::OK, r#"{"data": [], "models": []}"#),
        Some("bad") => (StatusCode::UNAUTHORIZED, r#"{"error": "invalid x-api-key"}"#),
        Some("busy") => (StatusCode::TOO_MANY_REQUESTS, r#"{"error": "rate limited"}"#),
        Some("broken") => (StatusCode::INTERNAL_SERVER_ERROR, r#"{"error": "overloaded"}"#),
        Some("slow") => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            (StatusCode::OK, "{}")
        }
        _ => (StatusCode::UNAUTHORIZED, r#"{"error": "no key"}"#),
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// One fake speaking all five APIs' documented model-listing requests, each authenticated its own way.
fn fake_providers() -> Router {
    Router::new()
        .route(
            "/v1/models",
            get(|headers: HeaderMap| async move {
                // Anthropic names its key and version in headers; OpenAI sends a bearer token.
                if let Some(key) = header(&headers, "x-api-key") {
                    if header(&headers, "anthropic-version") != Some(ANTHROPIC_VERSION) {
                        return (StatusCode::BAD_REQUEST, r#"{"error": "anthropic-version"}"#);
                    }
                    return answer(Some(key)).await;
                }
                answer(header(&headers, "authorization").and_then(|auth| auth.strip_prefix("Bearer "))).await
            }),
        )
        .route(
            "/v1beta/models",
            get(|headers: HeaderMap| async move { answer(header(&headers, "x-goog-api-key")).await }),
        )
        .route(
            "/openai/models",
            get(
                |headers: HeaderMap, Query(query): Query<std::collections::HashMap<String, String>>| async move {
                    if query.get("api-version").map(String::as_str) != Some(AZURE_API_VERSION) {
                        return (StatusCode::NOT_FOUND, r#"{"error": "api-version"}"#);
                    }
                    answer(header(&headers, "api-key")).await
                },
            ),
        )
        .route("/api/tags", get(|| async { (StatusCode::OK, r#"{"models": []}"#) }))
}

fn target(kind: Kind, base: &str, key: Option<&str>) -> Target {
    Target {
        kind,
        base_url: Some(base.to_owned()),
        model: Some("a-model".to_owned()),
        key: key.map(|key| SecretString::from(key.to_owned())),
    }
}

#[tokio::test]
async fn each_api_is_asked_its_own_way_and_only_a_success_is_healthy() {
    let base = format!("http://{}", serve(fake_providers()).await);
    let clients = server::http_client::HttpClients::new(true).expect("our HTTP clients");
    let client = clients.services;
    let short = Duration::from_millis(500);
    for kind in [
        Kind::Anthropic,
        Kind::OpenAi,
        Kind::GoogleGemini,
        Kind::AzureOpenAi,
    ] {
        for (key, expected) in [
            ("good", None),
            ("bad", Some("key rejected (401)")),
            ("busy", Some("rate limited (429)")),
            ("broken", Some("the service failed (500)")),
            ("slow", Some("no answer within a second")),
        ] {
            let health = health::check(&client, &target(kind, &base, Some(key)), short).await;
            match expected {
                None => assert_eq!(health, Health::Healthy, "{kind:?} with {key}"),
                Some(words) => assert!(
                    health.detail().is_some_and(|detail| detail.starts_with(words)),
                    "{kind:?} with {key}: {health:?}"
                ),
            }
            assert!(
                !health.detail().unwrap_or_default().contains("x-api-key"),
                "never the provider's words"
            );
        }
    }
    assert_eq!(
        health::check(&client, &target(Kind::Ollama, &base, None), short).await,
        Health::Healthy
    );
    // Nothing listens on port 9 of this machine.
    let nowhere = health::check(&client, &target(Kind::Ollama, "http://127.0.0.1:9", None), short).await;
    assert_eq!(nowhere.detail(), Some("could not connect: check the base URL"));
    let wrong_path = health::check(
        &client,
        &target(Kind::OpenAi, &format!("{base}/nothing"), Some("good")),
        short,
    )
    .await;
    assert!(
        wrong_path
            .detail()
            .is_some_and(|d| d.starts_with("not found (404)")),
        "{wrong_path:?}"
    );
}

#[sqlx::test(migrations = false)]
async fn test_now_records_the_outcome_and_says_why(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        let base = format!("http://{}", serve(fake_providers()).await);
        let mut client = app.signed_in("dj@example.org", "velvet thunder orchard").await;
        let fields = [
            ("kind", "openai"),
            ("name", "Compatible"),
            ("api_key", "good"),
            ("base_url", base.as_str()),
            ("model", ""),
        ];
        assert_eq!(client.call("add-provider", &fields).await.status, StatusCode::OK);
        let listed = |body: &str| -> serde_json::Value {
            serde_json::from_str::<serde_json::Value>(body).expect("JSON")[0].clone()
        };
        let id = listed(&client.call("providers", &[]).await.body)["id"]
            .as_str()
            .expect("an id")
            .to_owned();

        let reply = client.call("test-provider", &[("id", &id)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let provider = listed(&client.call("providers", &[]).await.body);
        assert_eq!(
            (&provider["health"], &provider["health_detail"]),
            (&"healthy".into(), &serde_json::Value::Null)
        );
        let checked: Option<chrono::DateTime<chrono::Utc>> =
            sqlx::query_scalar("select last_health_check_at from llm_providers")
                .fetch_one(&app.state.pool)
                .await
                .expect("the row");
        assert!(checked.is_some(), "the time of the check is kept");

        let edit = [
            ("id", id.as_str()),
            ("kind", "openai"),
            ("name", "Compatible"),
            ("api_key", "bad"),
            ("base_url", base.as_str()),
            ("model", ""),
            ("enabled", "on"),
        ];
        assert_eq!(client.call("edit-provider", &edit).await.status, StatusCode::OK);
        assert_eq!(
            listed(&client.call("providers", &[]).await.body)["health"],
            "unknown",
            "a new key is unchecked"
        );
        assert_eq!(
            client.call("test-provider", &[("id", &id)]).await.status,
            StatusCode::OK
        );
        let provider = listed(&client.call("providers", &[]).await.body);
        assert_eq!(
            (&provider["health"], &provider["health_detail"]),
            (&"unreachable".into(), &"key rejected (401)".into())
        );
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn the_periodic_round_checks_every_enabled_provider_of_every_user(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run_without_workers(
        options,
        connect,
        |_| {},
        async |app| {
            let base = format!("http://{}", serve(fake_providers()).await);
            for (email, key) in [("a@example.org", "good"), ("b@example.org", "bad")] {
                let mut client = app.signed_in(email, "velvet thunder orchard").await;
                let fields = [
                    ("kind", "anthropic"),
                    ("name", "Claude"),
                    ("api_key", key),
                    ("base_url", base.as_str()),
                    ("model", ""),
                ];
                assert_eq!(client.call("add-provider", &fields).await.status, StatusCode::OK);
                let fields = [
                    ("kind", "ollama"),
                    ("name", "Off"),
                    ("api_key", ""),
                    ("base_url", base.as_str()),
                    ("model", ""),
                ];
                assert_eq!(client.call("add-provider", &fields).await.status, StatusCode::OK);
            }
            sqlx::query("update llm_providers set enabled = false where name = 'Off'")
                .execute(&app.state.pool)
                .await
                .expect("switched off");
            let checked = health::check_all(&app.state.pool, &app.state.vault, &app.state.http.services)
                .await
                .expect("a round");
            assert_eq!(checked, 2, "the enabled ones");
            let states: Vec<(String, String, String, Option<String>, bool)> = sqlx::query_as(
                "select u.email, p.name, p.health_status, p.health_detail, p.last_health_check_at is not null
             from llm_providers p join users u on u.id = p.user_id order by u.email, p.name",
            )
            .fetch_all(&app.state.pool)
            .await
            .expect("the rows");
            assert_eq!(
                states,
                [
                    (
                        "a@example.org".into(),
                        "Claude".into(),
                        "healthy".into(),
                        None,
                        true
                    ),
                    (
                        "a@example.org".into(),
                        "Off".into(),
                        "unknown".into(),
                        None,
                        false
                    ),
                    (
                        "b@example.org".into(),
                        "Claude".into(),
                        "unreachable".into(),
                        Some("key rejected (401)".into()),
                        true
                    ),
                    (
                        "b@example.org".into(),
                        "Off".into(),
                        "unknown".into(),
                        None,
                        false
                    ),
                ]
            );
        },
    )
    .await;
}
