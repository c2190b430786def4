use leptos::prelude::*;
use leptos_router::components::A;

use crate::session::use_session;

/// The bar on every page: the name, the main navigation, the signed-in user with log out and, on narrow
/// screens, a menu button.
#[component]
pub fn Header() -> impl IntoView {
    let menu_open = RwSignal::new(false);
    let session = use_session();
    let me = move || session.me.get().and_then(Result::ok).flatten();
    view! {
        <header class="site-header">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                " Sound Forge Alchemy"
            </A>
            <button
                class="menu-toggle"
                aria-controls="site-nav"
                aria-expanded=move || menu_open.get().to_string()
                on:click=move |_| menu_open.update(|open| *open = !*open)
            >
                "Menu"
            </button>
            <nav id="site-nav" class="site-nav" class:open=move || menu_open.get()>
                <Transition fallback=|| ()>
                    {move || match me() {
                        Some(me) => view! {
                            <A href="/">"Library"</A>
                            <A href="/settings">"Settings"</A>
                            {matches!(me.role.as_str(), "admin" | "platform_admin").then(|| view! { <A href="/admin">"Admin"</A> })}
                            <A href="/account" attr:class="user-email" attr:title="Your account">{me.email}</A>
                            <ActionForm action=session.log_out attr:class="inline-form">
                                <button type="submit" class="link-button">"Log out"</button>
                            </ActionForm>
                        }
                        .into_any(),
                        None => view! {
                            <A href="/login">"Log in"</A>
                            <A href="/register">"Create an account"</A>
                        }
                        .into_any(),
                    }}
                </Transition>
            </nav>
        </header>
    }
}
