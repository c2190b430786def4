use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <section class="empty-state">
            <h1>"Nothing here"</h1>
            <p>"This page does not exist, or it is not yours to see."</p>
            <A href="/" attr:class="button">"Back to the library"</A>
        </section>
    }
}
