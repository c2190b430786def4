//! The whole web application as one axum router: the pages and server functions from this crate, inside
//! the plumbing from `server`.

use axum::Router;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, file_and_error_handler, generate_route_list};
use server::AppState;

use crate::{App, OUTPUT_NAME, shell};

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
        move || provide_context(state.clone())
    };
    let site = Router::new()
        .leptos_routes_with_context(&options, routes, context, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler(shell))
        .with_state(options);
    server::http::router(state, site)
}
