//! The pages and the plumbing around them, through the real router on a real database.

use axum::http::StatusCode;
use integration_tests::TestApp;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn health_reports_database_and_queue(pool: PgPool) {
    let app = TestApp::start(pool).await;
    let reply = app.get("/health").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let health: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    assert_eq!(
        health,
        serde_json::json!({ "status": "ok", "database": true, "queue": true })
    );

    app.state.jobs.shutdown().await;
    let reply = app.get("/health").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        reply.body.contains(r#""database":true,"queue":false"#),
        "{}",
        reply.body
    );

    app.state.pool.close().await;
    let reply = app.get("/health").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.body.contains(r#""database":false"#), "{}", reply.body);
}

#[sqlx::test(migrations = false)]
async fn every_response_carries_a_request_id(pool: PgPool) {
    let app = TestApp::start(pool).await;
    let first = app.get("/health").await.headers["x-request-id"].clone();
    let second = app.get("/").await.headers["x-request-id"].clone();
    assert_eq!(first.len(), 36, "{first:?}");
    assert_ne!(first, second);
}

#[sqlx::test(migrations = false)]
async fn the_library_is_rendered_on_the_server_with_its_hydration_script(pool: PgPool) {
    let app = TestApp::start(pool).await;
    let reply = app.get("/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .expect("ASCII")
            .starts_with("text/html")
    );
    for expected in [
        "<title>Library · Sound Forge Alchemy</title>",
        "Your library is empty",
        r#"data-hydrated="false""#,
        "/pkg/sound-forge-alchemy.js",
        "/pkg/sound-forge-alchemy.css",
    ] {
        assert!(
            reply.body.contains(expected),
            "{expected:?} missing from\n{}",
            reply.body
        );
    }
}

#[sqlx::test(migrations = false)]
async fn an_unknown_page_is_a_404_page(pool: PgPool) {
    let app = TestApp::start(pool).await;
    let reply = app.get("/tracks/../../etc/passwd").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app.get("/no/such/page").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body.contains("Nothing here"), "{}", reply.body);
}

#[sqlx::test(migrations = false)]
async fn static_files_come_from_the_site_root(pool: PgPool) {
    let site = tempfile::tempdir().expect("a site root");
    std::fs::create_dir_all(site.path().join("pkg")).expect("pkg dir");
    std::fs::write(site.path().join("pkg/app.css"), "body{}").expect("a file");
    let app = TestApp::start_with(pool, |config| config.site_root = site.path().to_owned()).await;
    let reply = app.get("/pkg/app.css").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "body{}");
    assert_eq!(app.get("/pkg/missing.css").await.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = false)]
async fn responses_are_compressed_for_clients_that_accept_it(pool: PgPool) {
    let app = TestApp::start(pool).await;
    let request = axum::http::Request::get("/")
        .header("accept-encoding", "gzip")
        .body(axum::body::Body::empty())
        .expect("a valid request");
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers.get("content-encoding").map(|v| v.as_bytes()),
        Some(&b"gzip"[..])
    );
}
