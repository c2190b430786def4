use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    api::account::ForgotPassword,
    components::form::{FormError, Submit},
};

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let request = ServerAction::<ForgotPassword>::new();
    let sent = move || matches!(request.value().get(), Some(Ok(())));
    view! {
        <Title text="Forgot password" />
        <section class="auth-card" aria-labelledby="forgot-title">
            <h1 id="forgot-title">"Forgot your password?"</h1>
            <p class="notice" role="status" hidden=move || !sent()>
                "If an account uses that address, a link to choose a new password is on its way. "
                "It works for an hour."
            </p>
            <ActionForm action=request attr:class="stacked-form">
                <label for="forgot-email">"Email"</label>
                <input id="forgot-email" type="email" name="email" autocomplete="username" required autofocus />
                <FormError result=request.value().into() />
                <Submit label="Send me a link" busy_label="Sending…" pending=request.pending() />
            </ActionForm>
            <p class="auth-links">
                <A href="/login">"Back to log in"</A>
            </p>
        </section>
    }
}
