//! The client's address, for rate limits and logs: the connection's peer, or behind a trusted reverse
//! proxy the address it appended to `X-Forwarded-For`.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::request::Parts,
    middleware::Next,
    response::Response,
};

use crate::AppState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);

/// Works out the address once per request and puts it in the extensions.
pub async fn resolve(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    let forwarded = state
        .config
        .trust_proxy
        .then(|| request.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|value| value.to_str().ok())
        // The proxy appends the address it saw; what comes before it the client could have made up.
        .and_then(|list| list.rsplit(',').next())
        .map(|last| last.trim().to_owned())
        .filter(|last| last.parse::<std::net::IpAddr>().is_ok());
    let address = forwarded.or(peer).unwrap_or_else(|| "unknown".to_owned());
    request.extensions_mut().insert(ClientAddress(address));
    next.run(request).await
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Self>()
            .cloned()
            .unwrap_or_else(|| Self("unknown".to_owned())))
    }
}
