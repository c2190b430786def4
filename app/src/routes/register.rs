use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    components::form::{FormError, Submit},
    session::use_session,
};

const MIN: usize = 12;
const MAX: usize = 256;

#[component]
pub fn RegisterPage() -> impl IntoView {
    let register = use_session().register;
    view! {
        <Title text="Create an account" />
        <section class="auth-card" aria-labelledby="register-title">
            <h1 id="register-title">"Create an account"</h1>
            <ActionForm action=register attr:class="stacked-form">
                <label for="register-email">"Email"</label>
                <input id="register-email" type="email" name="email" autocomplete="username" required autofocus />
                <label for="register-password">"Password"</label>
                <input
                    id="register-password"
                    type="password"
                    name="password"
                    autocomplete="new-password"
                    minlength=MIN
                    maxlength=MAX
                    required
                    aria-describedby="register-password-hint"
                />
                <p id="register-password-hint" class="hint">
                    {format!("At least {MIN} characters. A few unrelated words make a strong one.")}
                </p>
                <FormError result=register.value().into() />
                <Submit label="Create account" busy_label="Creating…" pending=register.pending() />
            </ActionForm>
            <p class="auth-links">
                "Already have an account? "
                <A href="/login">"Log in"</A>
            </p>
        </section>
    }
}
