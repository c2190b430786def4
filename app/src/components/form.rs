//! Pieces every form uses.

use leptos::prelude::*;

use crate::error::AppError;

/// The error of the last submission, if it failed, announced to screen readers.
#[component]
pub fn FormError<T>(result: Signal<Option<Result<T, AppError>>>) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    let message = move || match result.get() {
        Some(Err(err)) => Some(err.to_string()),
        _ => None,
    };
    view! {
        <p class="form-error" role="alert" hidden=move || message().is_none()>
            {message}
        </p>
    }
}

/// A submit button that says what it is doing while the request runs.
#[component]
pub fn Submit(
    #[prop(into)] label: String,
    #[prop(into)] busy_label: String,
    #[prop(into)] pending: Signal<bool>,
) -> impl IntoView {
    view! {
        <button type="submit" class="button" disabled=move || pending.get()>
            {move || if pending.get() { busy_label.clone() } else { label.clone() }}
        </button>
    }
}
