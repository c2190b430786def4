//! The pages and the plumbing around them, through the real router on a real database.

use axum::http::StatusCode;
use integration_tests::TestApp;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

#[sqlx::test(migrations = false)]
async fn health_reports_database_and_queue(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
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
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn every_response_carries_a_request_id(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        let first = app.get("/health").await.headers["x-request-id"].clone();
        let second = app.get("/").await.headers["x-request-id"].clone();
        assert_eq!(first.len(), 36, "{first:?}");
        assert_ne!(first, second);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn the_library_is_rendered_on_the_server_with_its_hydration_script(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        let mut client = app.signed_in("dj@example.org", "velvet thunder orchard").await;
        let reply = client.get("/").await;
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
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn an_unknown_page_is_a_404_page(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        let mut client = app.signed_in("dj@example.org", "velvet thunder orchard").await;
        let reply = client.get("/tracks/../../etc/passwd").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        let reply = client.get("/no/such/page").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert!(reply.body.contains("Nothing here"), "{}", reply.body);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn pages_need_a_session_and_send_visitors_to_log_in_and_back(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        for path in app::site::page_paths() {
            let path = if path.is_empty() { "/".to_owned() } else { path };
            let reply = app.get(&path).await;
            if app::PUBLIC_PAGES.contains(&path.as_str()) {
                assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
            } else {
                assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path} without a session");
                let encoded = serde_urlencoded::to_string([("next", path.as_str())]).expect("encodes");
                assert_eq!(
                    reply.header("location"),
                    Some(format!("/login?{encoded}").as_str())
                );
            }
        }
        let reply = app.get("/no/such/page?x=1").await;
        assert_eq!(
            reply.header("location"),
            Some("/login?next=%2Fno%2Fsuch%2Fpage%3Fx%3D1")
        );
        assert_eq!(app.get("/pkg/missing.js").await.status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn every_response_has_security_headers_and_the_page_scripts_carry_the_csp_nonce(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        let reply = app.get("/login").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("referrer-policy"), Some("same-origin"));
        let policy = reply.header("content-security-policy").expect("a CSP");
        for directive in [
            "default-src 'self'",
            "'wasm-unsafe-eval'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(policy.contains(directive), "{directive} missing from {policy}");
        }
        let script_src = policy
            .split(';')
            .find(|directive| directive.trim().starts_with("script-src"))
            .expect("a script-src");
        assert!(!script_src.contains("unsafe-inline"), "{script_src}");
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce in the CSP");
        assert!(
            reply.body.contains(&format!(r#"nonce="{nonce}""#)),
            "the hydration script lacks the nonce"
        );
        let inline_scripts = reply.body.matches("<script").count();
        let with_nonce = reply.body.matches(&format!(r#"nonce="{nonce}""#)).count();
        assert!(
            with_nonce >= inline_scripts.min(1),
            "{inline_scripts} scripts, {with_nonce} with the nonce"
        );

        // The 404 page is rendered by the fallback, which must use the same nonce.
        let mut client = app.signed_in("dj@example.org", "velvet thunder orchard").await;
        let missing = client.get("/no/such/page").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let policy_404 = missing.header("content-security-policy").expect("a CSP");
        let nonce_404 = policy_404
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce");
        assert!(
            missing.body.contains(&format!(r#"nonce="{nonce_404}""#)),
            "the 404 page's script lacks the nonce"
        );

        let again = app.get("/login").await;
        assert_ne!(
            again.header("content-security-policy"),
            Some(policy),
            "a fresh nonce each time"
        );
        assert!(
            app.get("/health")
                .await
                .header("content-security-policy")
                .is_some()
        );
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn state_changing_requests_must_come_from_this_site(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        assert_eq!(app.send(post(None, None)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            app.send(post(Some("https://evil.example"), None)).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.send(post(Some("null"), None)).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.send(post(None, Some("https://evil.example/page")))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.send(post(Some("http://127.0.0.1:3000"), None)).await.status,
            StatusCode::OK
        );
        assert_eq!(
            app.send(post(None, Some("http://127.0.0.1:3000/forgot-password")))
                .await
                .status,
            StatusCode::OK
        );
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn static_files_come_from_the_site_root(options: PgPoolOptions, connect: PgConnectOptions) {
    let site = tempfile::tempdir().expect("a site root");
    std::fs::create_dir_all(site.path().join("pkg")).expect("pkg dir");
    std::fs::write(site.path().join("pkg/app.css"), "body{}").expect("a file");
    TestApp::run_with(
        options,
        connect,
        |config| config.site_root = site.path().to_owned(),
        async |app| {
            let reply = app.get("/pkg/app.css").await;
            assert_eq!(reply.status, StatusCode::OK);
            assert_eq!(reply.body, "body{}");
            assert_eq!(app.get("/pkg/missing.css").await.status, StatusCode::NOT_FOUND);
        },
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn responses_are_compressed_for_clients_that_accept_it(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        let request = axum::http::Request::get("/login")
            .header("accept-encoding", "gzip")
            .body(axum::body::Body::empty())
            .expect("a valid request");
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.headers.get("content-encoding").map(|v| v.as_bytes()),
            Some(&b"gzip"[..])
        );
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn the_built_sites_files_are_public(options: PgPoolOptions, connect: PgConnectOptions) {
    let site = tempfile::tempdir().expect("a site root");
    std::fs::write(site.path().join("favicon.svg"), "<svg/>").expect("a file");
    TestApp::run_with(
        options,
        connect,
        |config| config.site_root = site.path().to_owned(),
        async |app| {
            assert_eq!(app.get("/favicon.svg").await.status, StatusCode::OK);
        },
    )
    .await;
}

/// A server-function call with the given `Origin` and `Referer`.
fn post(origin: Option<&str>, referer: Option<&str>) -> axum::http::Request<axum::body::Body> {
    let mut request = axum::http::Request::post("/api/forgot-password")
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json");
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    if let Some(referer) = referer {
        request = request.header("referer", referer);
    }
    request
        .body(axum::body::Body::from("email=a%40example.org"))
        .expect("a request")
}

#[sqlx::test(migrations = false)]
async fn behind_a_proxy_the_configured_public_url_is_the_only_origin(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run_with(
        options,
        connect,
        |config| {
            config.public_url = Some("https://music.example.org".into());
        },
        async |app| {
            assert_eq!(
                app.send(post(Some("http://127.0.0.1:3000"), None)).await.status,
                StatusCode::FORBIDDEN
            );
            let reply = app.send(post(Some("https://music.example.org"), None)).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        },
    )
    .await;
}
