//! The user's defaults for new tracks. A plain server-function form, so it saves without the script too.

use leptos::prelude::*;
use leptos_meta::Title;

use super::providers::ProvidersPanel;
use crate::{
    api::settings::{STEM_FORMATS, SaveSettings, SettingsForm, get_settings},
    components::form::{FormError, Submit},
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveSettings>::new();
    let settings = Resource::new(move || save.version().get(), |_| get_settings());
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    view! {
        <Title text="Settings" />
        <h1>"Settings"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading your settings…"</p> }>
            {move || {
                settings.get().map(|result| match result {
                    Err(err) => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                    Ok(form) => view! {
                        <ActionForm action=save attr:class="panel stacked-form settings-form">
                            <SeparationFields form />
                            <FormError result=save.value().into() />
                            <p class="notice" role="status" hidden=move || !saved()>
                                "Saved. New imports follow these settings."
                            </p>
                            <Submit label="Save settings" busy_label="Saving…" pending=save.pending() />
                        </ActionForm>
                    }
                    .into_any(),
                })
            }}
        </Transition>
        // In an element of its own: as the next sibling of a `Transition`, another one's content was never
        // hydrated (leptos 0.8), and its forms fell back to plain posts.
        <div>
            <ProvidersPanel />
        </div>
    }
}

#[component]
fn SeparationFields(form: SettingsForm) -> impl IntoView {
    let chosen = form.separation_model.clone().unwrap_or_default();
    let default_stems = form
        .models
        .iter()
        .find(|model| model.name == form.default_model)
        .map(|model| model.stems.join(", "));
    let six_stems = form.models.iter().any(|model| model.stems.len() >= 6);
    view! {
        <fieldset>
            <legend>"Stem separation"</legend>
            <p class="hint">
                "Engine: this server's CPU. Separation runs here, on your own machine; nothing is uploaded."
            </p>
            <label for="separation-model">"Model"</label>
            <select id="separation-model" name="separation_model" aria-describedby="model-hint">
                <option value="" selected=chosen.is_empty()>
                    {match &default_stems {
                        Some(stems) => format!("Server default: {} ({stems})", form.default_model),
                        None => format!("Server default: {} (not installed)", form.default_model),
                    }}
                </option>
                {form
                    .models
                    .iter()
                    .map(|model| {
                        view! {
                            <option value=model.name.clone() selected=model.name == chosen>
                                {format!("{} ({})", model.name, model.stems.join(", "))}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <p class="hint" id="model-hint">
                {if six_stems {
                    "A six-stem model also splits out guitar and piano."
                } else {
                    "Guitar and piano stems need a six-stem model; an administrator can install one beside the four-stem model."
                }}
            </p>
            <label for="stem-format">"Stem format"</label>
            <select id="stem-format" name="stem_format">
                {STEM_FORMATS
                    .iter()
                    .map(|&(value, label)| view! { <option value=value selected=value == form.stem_format>{label}</option> })
                    .collect_view()}
            </select>
        </fieldset>
        <fieldset>
            <legend>"On import"</legend>
            <label class="check">
                <input type="checkbox" name="separate_on_import" value="on" checked=form.separate_on_import />
                "Separate new tracks into stems"
            </label>
            <label class="check">
                <input type="checkbox" name="analyse_on_import" value="on" checked=form.analyse_on_import />
                "Analyse new tracks (tempo, beats, key, loudness, spectrum)"
            </label>
            <p class="hint">"Tracks left out can be separated or analysed later from the library."</p>
        </fieldset>
    }
}
