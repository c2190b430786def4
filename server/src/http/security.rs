//! Headers every response carries, and the check that state-changing requests come from our own pages.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, Uri, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use rand::RngCore;

use crate::AppState;

/// The per-response nonce that lets the page's own inline scripts (hydration, streamed resources) run
/// under the Content-Security-Policy. The page renderer reads it from the request's extensions.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

/// Adds the security headers, with a fresh CSP nonce for the page to use.
pub async fn headers(mut request: Request, next: Next) -> Response {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let nonce = STANDARD.encode(bytes);
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data: https:; \
         connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Refuses a state-changing request whose `Origin` (or, failing that, `Referer`) is not this site: the
/// configured public URL, or without one the host the request was sent to. A request with neither
/// header is refused too; browsers always send one of them with a POST.
pub async fn same_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|value| value.to_str().ok())
        .and_then(origin_of);
    let expected = match &state.config.public_url {
        Some(url) => origin_of(url).map(Expected::Origin),
        None => headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .map(|host| Expected::Host(host.to_owned())),
    };
    let allowed = match (&claimed, &expected) {
        (Some(claimed), Some(Expected::Origin(origin))) => claimed == origin,
        (Some(claimed), Some(Expected::Host(host))) => claimed
            .split_once("://")
            .is_some_and(|(_, authority)| authority == host),
        _ => false,
    };
    if allowed {
        next.run(request).await
    } else {
        tracing::warn!(origin = ?claimed, expected = ?expected, "refused a cross-site request");
        (
            StatusCode::FORBIDDEN,
            "This request did not come from this site's pages.",
        )
            .into_response()
    }
}

/// What a state-changing request's origin must be: the configured public origin, or the host it was sent to.
#[derive(Debug)]
enum Expected {
    Origin(String),
    Host(String),
}

/// `scheme://authority` of a URL, lower-cased.
fn origin_of(url: &str) -> Option<String> {
    let uri: Uri = url.parse().ok()?;
    Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?).to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_drop_paths_and_case() {
        assert_eq!(
            origin_of("https://Music.Example.org/login?x=1").as_deref(),
            Some("https://music.example.org")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:3000").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(origin_of("null"), None);
        assert_eq!(origin_of("/relative"), None);
    }
}
