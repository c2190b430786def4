use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    api::account::ResetPassword,
    components::form::{FormError, Submit},
};

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <Title text="Choose a new password" />
        <section class="auth-card" aria-labelledby="reset-title">
            <h1 id="reset-title">"Choose a new password"</h1>
            <ActionForm action=reset attr:class="stacked-form">
                <input type="hidden" name="token" prop:value=token />
                <label for="reset-password">"New password"</label>
                <input
                    id="reset-password"
                    type="password"
                    name="password"
                    autocomplete="new-password"
                    minlength=12
                    maxlength=256
                    required
                    autofocus
                />
                <p class="hint">"At least 12 characters. Every device signed in to your account is logged out."</p>
                <FormError result=reset.value().into() />
                <Submit label="Set password" busy_label="Saving…" pending=reset.pending() />
            </ActionForm>
            <p class="auth-links">
                <A href="/forgot-password">"Ask for a new link"</A>
            </p>
        </section>
    }
}
