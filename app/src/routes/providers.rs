//! The settings page's LLM providers: the list in the order requests try them, each with its key shown as
//! its last four characters, and forms to add, change, reorder and delete. Plain server-function forms, so
//! they work without the script too.

use leptos::prelude::*;

use crate::{
    api::providers::{
        AddProvider, DeleteProvider, EditProvider, KINDS, MoveProvider, ProviderLine, TestProvider,
        list_providers,
    },
    components::form::{FormError, Submit},
};

fn kind_label(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(value, ..)| *value == kind)
        .map_or("Unknown", |(_, label, ..)| label)
}

#[component]
pub fn ProvidersPanel() -> impl IntoView {
    let add = ServerAction::<AddProvider>::new();
    let edit = ServerAction::<EditProvider>::new();
    let remove = ServerAction::<DeleteProvider>::new();
    let reorder = ServerAction::<MoveProvider>::new();
    let test = ServerAction::<TestProvider>::new();
    let providers = Resource::new(
        move || {
            (
                add.version().get(),
                edit.version().get(),
                remove.version().get(),
                reorder.version().get(),
                test.version().get(),
            )
        },
        |_| list_providers(),
    );
    let added = move || matches!(add.value().get(), Some(Ok(())));
    view! {
        <section class="panel providers" aria-labelledby="providers-title">
            <h2 id="providers-title">"LLM providers"</h2>
            <p class="hint">
                "Ask about a track with your own keys. Requests go to the first enabled, healthy provider in this order, "
                "then to the next. Keys are encrypted on the server and never shown again: only their last four characters."
            </p>
            <FormError result=edit.value().into() />
            <FormError result=remove.value().into() />
            <FormError result=reorder.value().into() />
            <FormError result=test.value().into() />
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    providers.get().map(|result| match result {
                        Err(err) => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                        Ok(list) => {
                            let empty = list.is_empty();
                            let last = list.len().saturating_sub(1);
                            view! {
                                <div class="provider-panel">
                                {empty.then(|| view! { <p class="muted">"No providers yet: add one below."</p> })}
                                <ol class="provider-list" aria-label="Your providers" hidden=empty>
                                    {list
                                        .into_iter()
                                        .enumerate()
                                        .map(|(at, provider)| {
                                            view! { <ProviderRow provider first=at == 0 last=at == last edit remove reorder test /> }
                                        })
                                        .collect_view()}
                                </ol>
                                <div class="add-provider">
                                    <h3>"Add a provider"</h3>
                                    <ActionForm action=add attr:class="stacked-form">
                                        <ProviderFields provider=None />
                                        <FormError result=add.value().into() />
                                        <p class="notice" role="status" hidden=move || !added()>"Added."</p>
                                        <Submit label="Add provider" busy_label="Adding…" pending=add.pending() />
                                    </ActionForm>
                                </div>
                                </div>
                            }
                            .into_any()
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

/// The fields of a provider's form, filled from `provider` when editing.
#[component]
fn ProviderFields(provider: Option<ProviderLine>) -> impl IntoView {
    let prefix = provider
        .as_ref()
        .map_or_else(|| "new".to_owned(), |p| p.id.clone());
    let field = move |name: &str| format!("provider-{prefix}-{name}");
    let kind = provider
        .as_ref()
        .map_or("anthropic", |p| p.kind.as_str())
        .to_owned();
    let key_hint = match provider.as_ref() {
        Some(ProviderLine {
            key_hint: Some(hint), ..
        }) => format!("Leave empty to keep the key {hint}"),
        _ => "Ollama needs none".to_owned(),
    };
    view! {
        <label for=field("kind")>"Type"</label>
        <select id=field("kind") name="kind">
            {KINDS
                .iter()
                .map(|&(value, label, ..)| view! { <option value=value selected=value == kind>{label}</option> })
                .collect_view()}
        </select>
        <label for=field("name")>"Name"</label>
        <input id=field("name") name="name" required maxlength=100 value=provider.as_ref().map(|p| p.name.clone()).unwrap_or_default() />
        <label for=field("key")>"API key"</label>
        <input
            id=field("key")
            name="api_key"
            type="password"
            autocomplete="off"
            spellcheck="false"
            placeholder=key_hint
        />
        <label for=field("url")>"Base URL"</label>
        <input
            id=field("url")
            name="base_url"
            type="url"
            inputmode="url"
            placeholder="Optional except for Azure: the provider's default"
            value=provider.as_ref().and_then(|p| p.base_url.clone()).unwrap_or_default()
        />
        <label for=field("model")>"Model or deployment"</label>
        <input
            id=field("model")
            name="model"
            placeholder="Optional except for Azure: the provider's default model"
            value=provider.as_ref().and_then(|p| p.model.clone()).unwrap_or_default()
        />
    }
}

#[component]
fn ProviderRow(
    provider: ProviderLine,
    first: bool,
    last: bool,
    edit: ServerAction<EditProvider>,
    remove: ServerAction<DeleteProvider>,
    reorder: ServerAction<MoveProvider>,
    test: ServerAction<TestProvider>,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let asking = RwSignal::new(false);
    let id = provider.id.clone();
    let name = provider.name.clone();
    let (health, health_class) = match (provider.health.as_str(), &provider.health_detail) {
        ("healthy", _) => ("healthy".to_owned(), "badge ok"),
        ("unreachable", Some(why)) => (format!("unreachable: {why}"), "badge warn"),
        ("unreachable", None) => ("unreachable".to_owned(), "badge warn"),
        _ => ("not checked yet".to_owned(), "badge"),
    };
    let tested = provider.id.clone();
    let details = [
        Some(kind_label(&provider.kind).to_owned()),
        provider.model.clone(),
        provider.key_hint.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let moved = move |up: bool| {
        let id = id.clone();
        move |_| {
            reorder.dispatch(MoveProvider { id: id.clone(), up });
        }
    };
    let toggled = provider.clone();
    // The parts shown on demand are built again each time, from here.
    let row = StoredValue::new(provider.clone());
    view! {
        <li class="provider" class:disabled=!provider.enabled data-provider=provider.name.clone()>
            <div class="provider-text">
                <p class="provider-name">
                    <strong>{provider.name.clone()}</strong>
                    " "
                    <span class=format!("{health_class} provider-health")>{health}</span>
                    {(!provider.enabled).then(|| view! { " " <span class="badge">"off"</span> })}
                </p>
                <p class="muted">{details}</p>
            </div>
            <div class="provider-actions">
                <button class="button secondary" disabled=first aria-label=format!("Move {name} up") on:click=moved(true)>"↑"</button>
                <button class="button secondary" disabled=last aria-label=format!("Move {name} down") on:click=moved(false)>"↓"</button>
                <button
                    class="button secondary"
                    on:click=move |_| {
                        let p = toggled.clone();
                        edit.dispatch(EditProvider {
                            id: p.id,
                            kind: p.kind,
                            name: p.name,
                            api_key: None,
                            base_url: p.base_url,
                            model: p.model,
                            enabled: (!p.enabled).then(|| "on".to_owned()),
                        });
                    }
                >
                    {if provider.enabled { "Turn off" } else { "Turn on" }}
                </button>
                <button
                    class="button secondary"
                    disabled=test.pending()
                    on:click=move |_| {
                        test.dispatch(TestProvider { id: tested.clone() });
                    }
                >
                    {move || if test.pending().get() { "Testing…" } else { "Test now" }}
                </button>
                <button class="button secondary" aria-expanded=move || editing.get().to_string() on:click=move |_| editing.update(|on| *on = !*on)>
                    "Edit"
                </button>
                <Show
                    when=move || asking.get()
                    fallback=move || view! { <button class="button secondary" on:click=move |_| asking.set(true)>"Delete"</button> }
                >
                    <span class="confirm">
                        {row.with_value(|p| format!("Delete {}?", p.name))}
                        <ActionForm action=remove attr:class="inline-form">
                            <input type="hidden" name="id" value=row.with_value(|p| p.id.clone()) />
                            <button type="submit" class="button danger">"Delete"</button>
                        </ActionForm>
                        <button class="button secondary" on:click=move |_| asking.set(false)>"Keep"</button>
                    </span>
                </Show>
            </div>
            <Show when=move || editing.get()>
                <ActionForm action=edit attr:class="stacked-form provider-edit">
                    <input type="hidden" name="id" value=row.with_value(|p| p.id.clone()) />
                    <ProviderFields provider=Some(row.get_value()) />
                    <label class="check">
                        <input type="checkbox" name="enabled" value="on" checked=row.with_value(|p| p.enabled) />
                        "Enabled"
                    </label>
                    <Submit label="Save" busy_label="Saving…" pending=edit.pending() />
                </ActionForm>
            </Show>
        </li>
    }
    .into_any()
}
