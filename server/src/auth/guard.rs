//! Deny by default: a page or file needs a session unless it is on the public list. Anonymous visits
//! to a page are sent to log in, and come back after.

use std::{collections::HashSet, sync::Arc};

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::auth::AuthSession;

/// What anyone may fetch without a session: the pages for getting one, the built site's assets and
/// `/health`. Server functions (`POST`) check the session themselves.
#[derive(Clone)]
pub struct PublicPaths {
    exact: Arc<HashSet<String>>,
}

/// Prefixes that are always public: the site bundle and the server functions' endpoint.
const PUBLIC_PREFIXES: [&str; 2] = ["/pkg/", "/api/"];

impl PublicPaths {
    /// `pages` are the public pages' paths; every file at the top of `site_root` (favicon, robots.txt)
    /// is public too.
    pub fn new(pages: &[&str], site_root: &std::path::Path) -> Self {
        let mut exact: HashSet<String> = pages.iter().map(|page| (*page).to_owned()).collect();
        exact.insert("/health".to_owned());
        if let Ok(entries) = std::fs::read_dir(site_root) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|kind| kind.is_file()) {
                    exact.insert(format!("/{}", entry.file_name().to_string_lossy()));
                }
            }
        }
        Self {
            exact: Arc::new(exact),
        }
    }

    fn contains(&self, path: &str) -> bool {
        self.exact.contains(path) || PUBLIC_PREFIXES.iter().any(|prefix| path.starts_with(prefix))
    }
}

pub async fn require_login(State(public): State<PublicPaths>, request: Request, next: Next) -> Response {
    let signed_in = request
        .extensions()
        .get::<AuthSession>()
        .is_some_and(|session| session.user.is_some());
    let path = request.uri().path();
    if signed_in || public.contains(path) {
        return next.run(request).await;
    }
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        let wanted = request.uri().path_and_query().map_or(path, |pq| pq.as_str());
        let next_param = utf8_percent_encode(wanted, NON_ALPHANUMERIC);
        return Redirect::to(&format!("/login?next={next_param}")).into_response();
    }
    axum::http::StatusCode::UNAUTHORIZED.into_response()
}

/// Where to go after logging in: a path on this site, never elsewhere (`//evil.example`, `https://…`).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\") => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_log_in() {
        assert_eq!(safe_next(Some("/tracks/1?tab=stems")), "/tracks/1?tab=stems");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn site_files_and_listed_pages_are_public_and_nothing_else() {
        let root = tempfile::tempdir().expect("a directory");
        std::fs::write(root.path().join("favicon.svg"), "<svg/>").expect("writes");
        std::fs::create_dir(root.path().join("secret")).expect("creates");
        let public = PublicPaths::new(&["/login"], root.path());
        for path in ["/login", "/favicon.svg", "/health", "/pkg/app.wasm", "/api/login"] {
            assert!(public.contains(path), "{path}");
        }
        for path in ["/", "/login/x", "/secret", "/tracks/1", "/favicon.svg/x"] {
            assert!(!public.contains(path), "{path}");
        }
    }
}
