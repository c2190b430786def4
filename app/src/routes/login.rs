use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    components::form::{FormError, Submit},
    session::use_session,
};

#[component]
pub fn LoginPage() -> impl IntoView {
    let log_in = use_session().log_in;
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let reset_done = move || query.read().get("reset").is_some();
    view! {
        <Title text="Log in" />
        <section class="auth-card" aria-labelledby="login-title">
            <h1 id="login-title">"Log in"</h1>
            <p class="notice" role="status" hidden=move || !reset_done()>
                "Your password has changed. Log in with the new one."
            </p>
            <ActionForm action=log_in attr:class="stacked-form">
                <input type="hidden" name="next" prop:value=next />
                <label for="login-email">"Email"</label>
                <input id="login-email" type="email" name="email" autocomplete="username" required autofocus />
                <label for="login-password">"Password"</label>
                <input id="login-password" type="password" name="password" autocomplete="current-password" required />
                <FormError result=log_in.value().into() />
                <Submit label="Log in" busy_label="Logging in…" pending=log_in.pending() />
            </ActionForm>
            <p class="auth-links">
                <A href="/forgot-password">"Forgot your password?"</A>
                " · "
                <A href="/register">"Create an account"</A>
            </p>
        </section>
    }
}
