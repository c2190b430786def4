//! The pages of Sound Forge Alchemy. Compiled with `ssr` into the server, which renders them, and with
//! `hydrate` into the browser bundle, which makes them interactive.

pub mod api;
mod browser_value;
mod components;
pub mod error;
#[cfg(feature = "hydrate")]
mod live;
mod routes;
mod session;
#[cfg(feature = "ssr")]
pub mod site;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use crate::{
    components::{
        header::Header,
        toasts::{ToastHost, provide_toasts},
    },
    routes::{
        account::AccountPage,
        admin::{AdminPage, UserLibraryPage},
        confirm_email::ConfirmEmailPage,
        forgot_password::ForgotPasswordPage,
        library::LibraryPage,
        login::LoginPage,
        not_found::NotFound,
        register::RegisterPage,
        reset_password::ResetPasswordPage,
        settings::SettingsPage,
        track::TrackPage,
    },
    session::provide_session,
};

/// The name the site build gives the wasm, JS and CSS files (`pkg/<name>.*`).
pub const OUTPUT_NAME: &str = env!("LEPTOS_OUTPUT_NAME");

/// The pages anyone may open without a session; every other page sends a visitor to log in first.
pub const PUBLIC_PAGES: [&str; 5] = [
    "/login",
    "/register",
    "/forgot-password",
    "/reset-password",
    "/confirm-email",
];

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="dark light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_session();
    provide_toasts();
    // Effects run only in the browser, so this turns true once the page is live: the end-to-end tests wait
    // for it before clicking, and the stylesheet can tell a server-only page from an interactive one.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Stylesheet id="sfa" href=format!("/pkg/{OUTPUT_NAME}.css") />
        <Title formatter=|page: String| {
            if page.is_empty() { "Sound Forge Alchemy".to_owned() } else { format!("{page} · Sound Forge Alchemy") }
        } />
        <Router>
            <div class="app" data-hydrated=move || hydrated.get().to_string()>
                <Header />
                <main id="main" class="page">
                    <Routes fallback=NotFound>
                        <Route path=path!("") view=LibraryPage />
                        <Route path=path!("/login") view=LoginPage />
                        <Route path=path!("/register") view=RegisterPage />
                        <Route path=path!("/forgot-password") view=ForgotPasswordPage />
                        <Route path=path!("/reset-password") view=ResetPasswordPage />
                        <Route path=path!("/confirm-email") view=ConfirmEmailPage />
                        <Route path=path!("/account") view=AccountPage />
                        <Route path=path!("/tracks/:id") view=TrackPage />
                        <Route path=path!("/settings") view=SettingsPage />
                        <Route path=path!("/admin") view=AdminPage />
                        <Route path=path!("/admin/users/:id") view=UserLibraryPage />
                    </Routes>
                </main>
                <ToastHost />
            </div>
        </Router>
    }
}
