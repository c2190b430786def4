//! What the integration tests share: an app on a fresh database and a scratch data directory, reached
//! through the real router without a network socket.

use axum::{
    body::{Body, to_bytes},
    http::{Request, StatusCode, header::HeaderMap},
};
use clap::Parser;
use server::{AppState, config::Config};
use sqlx::PgPool;
use tower::ServiceExt;

pub struct TestApp {
    pub state: AppState,
    pub router: axum::Router,
    /// Kept so the data directory lives as long as the app.
    pub data_dir: tempfile::TempDir,
}

/// A test's database is dropped when the test ends, which waits for every connection to come back: the
/// queue loops must stop first.
impl Drop for TestApp {
    fn drop(&mut self) {
        self.state.jobs.begin_shutdown();
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestApp {
    /// The whole application on `pool` (a `#[sqlx::test]` database), migrated, with its queues running.
    pub async fn start(pool: PgPool) -> Self {
        Self::start_with(pool, |_| {}).await
    }

    /// As [`TestApp::start`], with the configuration changed by `adjust` first.
    pub async fn start_with(pool: PgPool, adjust: impl FnOnce(&mut Config)) -> Self {
        let data_dir = tempfile::tempdir().expect("a scratch data directory");
        let mut config = config(data_dir.path());
        adjust(&mut config);
        let state = AppState::with_pool(config, pool).await.expect("the app starts");
        let router = app::site::router(state.clone());
        Self {
            state,
            router,
            data_dir,
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).expect("a valid request"))
            .await
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), 16 << 20)
            .await
            .expect("a readable body");
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}

/// A configuration for tests: defaults, with `data_dir` for files. The pool comes from the test, so the
/// database URL here is never dialled.
pub fn config(data_dir: &std::path::Path) -> Config {
    let data_dir = data_dir.to_str().expect("a UTF-8 temporary path");
    Config::try_parse_from([
        "sfa",
        "--database-url",
        "postgres://unused",
        "--data-dir",
        data_dir,
    ])
    .expect("a valid test configuration")
}
