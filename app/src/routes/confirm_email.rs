use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    api::account::ConfirmEmail,
    components::form::{FormError, Submit},
};

#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmEmail>::new();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let confirmed = move || match confirm.value().get() {
        Some(Ok(email)) => Some(email),
        _ => None,
    };
    view! {
        <Title text="Confirm your email" />
        <section class="auth-card" aria-labelledby="confirm-title">
            <h1 id="confirm-title">"Confirm your email"</h1>
            <Show
                when=move || confirmed().is_some()
                fallback=move || {
                    view! {
                        <ActionForm action=confirm attr:class="stacked-form">
                            <input type="hidden" name="token" prop:value=token />
                            <FormError result=confirm.value().into() />
                            <Submit label="Confirm my email" busy_label="Confirming…" pending=confirm.pending() />
                        </ActionForm>
                    }
                }
            >
                <p class="notice" role="status">
                    {move || confirmed().unwrap_or_default()}
                    " is confirmed."
                </p>
                <A href="/" attr:class="button">"Go to your library"</A>
            </Show>
        </section>
    }
}
