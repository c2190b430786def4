use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::account::{ChangeEmail, ChangePassword, ResendConfirmation},
    components::form::{FormError, Submit},
    session::use_session,
};

/// The signed-in user's address and password, and the way out of every session.
#[component]
pub fn AccountPage() -> impl IntoView {
    let session = use_session();
    let change_password = ServerAction::<ChangePassword>::new();
    let change_email = ServerAction::<ChangeEmail>::new();
    let resend = ServerAction::<ResendConfirmation>::new();
    let password_changed = move || matches!(change_password.value().get(), Some(Ok(())));
    let email_requested = move || matches!(change_email.value().get(), Some(Ok(())));
    let resent = move || matches!(resend.value().get(), Some(Ok(())));
    view! {
        <Title text="Account" />
        <h1>"Account"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                session.me.get().and_then(Result::ok).flatten().map(|me| {
                    view! {
                        <section class="panel" aria-labelledby="email-title">
                            <h2 id="email-title">"Email"</h2>
                            <p>
                                <strong class="account-email">{me.email.clone()}</strong>
                                {if me.confirmed {
                                    view! { <span class="badge ok">"confirmed"</span> }.into_any()
                                } else {
                                    view! { <span class="badge warn">"not confirmed yet"</span> }.into_any()
                                }}
                            </p>
                            <Show when=move || !me.confirmed>
                                <ActionForm action=resend attr:class="inline-form">
                                    <Submit label="Send the confirmation link again" busy_label="Sending…" pending=resend.pending() />
                                </ActionForm>
                                <p class="notice" role="status" hidden=move || !resent()>"Sent. Check your mail."</p>
                                <FormError result=resend.value().into() />
                            </Show>
                        </section>
                    }
                })
            }}
        </Transition>

        <section class="panel" aria-labelledby="password-title">
            <h2 id="password-title">"Change password"</h2>
            <ActionForm action=change_password attr:class="stacked-form">
                <label for="current-password">"Current password"</label>
                <input id="current-password" type="password" name="current_password" autocomplete="current-password" required />
                <label for="new-password">"New password"</label>
                <input id="new-password" type="password" name="new_password" autocomplete="new-password" minlength=12 maxlength=256 required />
                <p class="hint">"Other devices signed in to your account are logged out; this one stays."</p>
                <FormError result=change_password.value().into() />
                <p class="notice" role="status" hidden=move || !password_changed()>"Password changed."</p>
                <Submit label="Change password" busy_label="Saving…" pending=change_password.pending() />
            </ActionForm>
        </section>

        <section class="panel" aria-labelledby="change-email-title">
            <h2 id="change-email-title">"Change email"</h2>
            <ActionForm action=change_email attr:class="stacked-form">
                <label for="new-email">"New email"</label>
                <input id="new-email" type="email" name="new_email" autocomplete="email" required />
                <label for="email-password">"Current password"</label>
                <input id="email-password" type="password" name="current_password" autocomplete="current-password" required />
                <p class="hint">"We send a link to the new address; it becomes yours when you open it."</p>
                <FormError result=change_email.value().into() />
                <p class="notice" role="status" hidden=move || !email_requested()>"Link sent. Open it to finish the change."</p>
                <Submit label="Change email" busy_label="Sending…" pending=change_email.pending() />
            </ActionForm>
        </section>

        <section class="panel" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Sessions"</h2>
            <p>"Lost a device, or used a shared computer? End every session of your account, this one included."</p>
            <ActionForm action=session.log_out_everywhere attr:class="inline-form">
                <Submit label="Log out everywhere" busy_label="Logging out…" pending=session.log_out_everywhere.pending() />
            </ActionForm>
        </section>
    }
}
