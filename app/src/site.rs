//! The whole web application as one axum router: the pages and server functions from this crate, inside
//! the plumbing from `server`.

use axum::Router;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use server::{AppState, auth::PublicPaths, http::security::CspNonce};

use crate::{App, OUTPUT_NAME, PUBLIC_PAGES, shell};

/// The paths of every page, as the router knows them.
pub fn page_paths() -> Vec<String> {
    generate_route_list(App)
        .iter()
        .map(|route| route.path().to_owned())
        .collect()
}

pub fn router(state: AppState) -> Router {
    let options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(state.config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(state.config.bind)
        .build();
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            // The page's inline scripts carry the nonce that the Content-Security-Policy header names.
            if let Some(CspNonce(nonce)) = use_context::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<CspNonce>().cloned())
            {
                provide_context(Nonce::from_value(nonce));
            }
        }
    };
    let site = Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        // Unknown paths (the 404 page) render the app too, with the same context and nonce.
        .fallback(file_and_error_handler_with_context(context, shell))
        .with_state(options);
    let public = PublicPaths::new(&PUBLIC_PAGES, &state.config.site_root);
    server::http::router(state, site, public)
}
