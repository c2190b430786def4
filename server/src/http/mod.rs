//! The HTTP plumbing around the pages: `/health`, request ids, request logs, compression, security
//! headers, the same-origin check, the client's address, sessions and the log-in requirement.

pub mod client;
pub mod security;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    middleware::{from_fn, from_fn_with_state},
    response::IntoResponse,
    routing::get,
};
use serde::Serialize;
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{AppState, auth, db};

/// `site` holds the pages and server functions (built by `app`); this adds the rest and the layers that
/// every request passes through, outermost first. `public` lists what needs no session.
pub fn router(state: AppState, site: Router, public: auth::PublicPaths) -> Router {
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    let trace = TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
        let id = request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok());
        tracing::info_span!("request", id = id.unwrap_or("-"), method = %request.method(), uri = %request.uri())
    });
    Router::new()
        .route("/health", get(health))
        .merge(crate::upload::routes(&state))
        .merge(crate::files::routes())
        .merge(crate::live::routes())
        .with_state(state.clone())
        .merge(site)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(CompressionLayer::new())
                .layer(from_fn(security::headers))
                .layer(from_fn_with_state(state.clone(), client::resolve))
                .layer(from_fn_with_state(state.clone(), security::same_origin))
                .layer(auth::layer(&state))
                .layer(from_fn_with_state(state.clone(), auth::enforce_absolute_expiry))
                .layer(from_fn_with_state(public, auth::require_login)),
        )
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    database: bool,
    queue: bool,
}

/// A database that does not answer within this is down, as far as a load balancer should know.
const HEALTH_DB_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let database = tokio::time::timeout(HEALTH_DB_TIMEOUT, db::ping(&state.pool))
        .await
        .unwrap_or(false);
    let queue = state.jobs.running();
    let healthy = database && queue;
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(Health {
            status: if healthy { "ok" } else { "unavailable" },
            database,
            queue,
        }),
    )
}
