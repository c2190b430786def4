use leptos::prelude::*;
use leptos_router::components::A;

/// The bar on every page: the name, the main navigation and, on narrow screens, a menu button.
#[component]
pub fn Header() -> impl IntoView {
    let menu_open = RwSignal::new(false);
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
                <A href="/">"Library"</A>
            </nav>
        </header>
    }
}
