//! The user's defaults for new tracks. A plain server-function form, so it saves without the script too.

use leptos::prelude::*;
use leptos_meta::Title;

use super::providers::ProvidersPanel;
use crate::{
    api::settings::{
        RemoveLalalaiKey, STEM_FORMATS, SaveLalalaiKey, SaveSettings, SettingsForm, TestLalalaiKey,
        get_settings,
    },
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
        // Each in an element of its own: as the next sibling of a `Transition`, another one's content was
        // never hydrated (leptos 0.8), and its forms fell back to plain posts.
        <div>
            <LalalaiPanel />
        </div>
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
    let engine = form.separation_engine.clone();
    view! {
        <fieldset>
            <legend>"Stem separation"</legend>
            <div role="radiogroup" aria-label="Engine">
                <label class="check">
                    <input type="radio" name="separation_engine" value="local" checked=engine == "local" />
                    "This server's CPU: free and private, nothing is uploaded; a few minutes per song"
                </label>
                <label class="check">
                    <input type="radio" name="separation_engine" value="lalalai" checked=engine == "lalalai" />
                    "lalal.ai: your license and its minutes; the track is uploaded to lalal.ai, then deleted there"
                </label>
            </div>
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
            <fieldset class="lalalai-stems">
                <legend>"Stems from lalal.ai"</legend>
                <p class="hint">
                    "Each stem costs the track's length in minutes; what is left of the mix comes as “other” at no cost. "
                    "Synthesizer, strings and wind are made one at a time."
                </p>
                {form
                    .lalalai_stems
                    .iter()
                    .map(|(name, label, chosen)| {
                        view! {
                            <label class="check">
                                <input type="checkbox" name=format!("lalalai_{name}") value="on" checked=*chosen />
                                {label.clone()}
                            </label>
                        }
                    })
                    .collect_view()}
                <label class="check">
                    <input type="checkbox" name="lalalai_preview" value="on" checked=form.lalalai_preview />
                    "Preview: send only the first minute, to hear the result before paying for the whole track"
                </label>
            </fieldset>
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

/// The user's lalal.ai license key: stored sealed, shown as its last four characters, tested by asking
/// lalal.ai for the minutes it has left.
#[component]
fn LalalaiPanel() -> impl IntoView {
    let save = ServerAction::<SaveLalalaiKey>::new();
    let test = ServerAction::<TestLalalaiKey>::new();
    let remove = ServerAction::<RemoveLalalaiKey>::new();
    let settings = Resource::new(
        move || (save.version().get(), remove.version().get()),
        |_| get_settings(),
    );
    let minutes = move || {
        [save.value().get(), test.value().get()]
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .next_back()
            .map(|minutes| format!("The key works: {minutes:.1} minutes left."))
    };
    view! {
        <section class="panel lalalai" aria-labelledby="lalalai-title">
            <h2 id="lalalai-title">"lalal.ai"</h2>
            <p class="hint">
                "To separate in the cloud (and for stems the local model cannot make), enter your lalal.ai license key. "
                "It is encrypted on the server and never shown again: only its last four characters."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    settings.get().map(|result| match result {
                        Err(err) => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                        Ok(form) => {
                            let hint = form.lalalai_key_hint.clone();
                            view! {
                                <div class="lalalai-key">
                                    <p class="key-state">
                                        {match &hint {
                                            Some(hint) => format!("Your key: {hint}"),
                                            None => "No key yet.".to_owned(),
                                        }}
                                    </p>
                                    {hint.is_some().then(|| view! {
                                        <div class="row-actions">
                                            <ActionForm action=test>
                                                <Submit label="Test key" busy_label="Testing…" pending=test.pending() />
                                            </ActionForm>
                                            <ActionForm action=remove>
                                                <Submit label="Remove key" busy_label="Removing…" pending=remove.pending() />
                                            </ActionForm>
                                        </div>
                                    })}
                                </div>
                            }
                            .into_any()
                        }
                    })
                }}
            </Transition>
            <p class="notice" role="status" hidden=move || minutes().is_none()>{minutes}</p>
            <FormError result=test.value().into() />
            <FormError result=remove.value().into() />
            <ActionForm action=save attr:class="stacked-form">
                <label for="lalalai-key">"License key"</label>
                <input id="lalalai-key" name="license_key" type="password" required autocomplete="off" maxlength=200 />
                <FormError result=save.value().into() />
                <Submit label="Save key" busy_label="Checking with lalal.ai…" pending=save.pending() />
            </ActionForm>
        </section>
    }
}
