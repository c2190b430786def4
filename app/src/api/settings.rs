//! The user's defaults for new tracks: the separation engine and model (or lalal.ai's stems), the stems'
//! format, and which stages run on import; and the user's lalal.ai license key.

// A plain form's fields are its server function's arguments, one each, and the browser build's copy of
// the function does not carry an attribute on it: so for the whole module.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr::{fail, state, user};
use crate::error::AppError;

/// A separation model installed on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelOption {
    pub name: String,
    pub stems: Vec<String>,
}

/// What the settings page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsForm {
    /// `local` or `lalalai`.
    pub separation_engine: String,
    /// The chosen model; `None` follows the server's default.
    pub separation_model: Option<String>,
    pub stem_format: String,
    pub separate_on_import: bool,
    pub analyse_on_import: bool,
    pub models: Vec<ModelOption>,
    /// The server's model, which "default" means.
    pub default_model: String,
    /// The stems lalal.ai makes, as (its name, label, whether the user chose it).
    pub lalalai_stems: Vec<(String, String, bool)>,
    pub lalalai_preview: bool,
    /// The stored license key's last four characters.
    pub lalalai_key_hint: Option<String>,
}

/// The stem formats, as (value, label).
pub const STEM_FORMATS: [(&str, &str); 3] = [
    ("wav24", "WAV, 24-bit (recommended)"),
    ("wav16", "WAV, 16-bit (smaller, CD quality)"),
    ("f32", "WAV, 32-bit float (never clips)"),
];

#[server(endpoint = "settings")]
pub async fn get_settings() -> Result<SettingsForm, AppError> {
    let user = user().await?;
    let state = state()?;
    let saved = server::settings::get(&state.pool, user.id).await.map_err(fail)?;
    let lalalai_key_hint = server::lalalai::license::hint(&state.pool, &state.vault, user.id)
        .await
        .map_err(fail)?;
    Ok(SettingsForm {
        lalalai_stems: server::lalalai::stems::STEMS
            .iter()
            .map(|&(name, label)| {
                let chosen = saved.lalalai_stems.iter().any(|stem| stem == name);
                (name.to_owned(), label.to_owned(), chosen)
            })
            .collect(),
        lalalai_preview: saved.lalalai_preview,
        lalalai_key_hint,
        separation_engine: saved.separation_engine,
        separation_model: saved.separation_model,
        stem_format: saved.stem_format,
        separate_on_import: saved.separate_on_import,
        analyse_on_import: saved.analyse_on_import,
        models: server::settings::models(&state.config.models_dir())
            .into_iter()
            .map(|model| ModelOption {
                name: model.name,
                stems: model.stems,
            })
            .collect(),
        default_model: state.config.separation_model.clone(),
    })
}

/// Saves the settings form. A checkbox is sent only when ticked; an empty model is the server's default.
/// Each of lalal.ai's stems is a checkbox of its own, `lalalai_<stem>` (a list of values in a form is read
/// differently by browsers and the form decoder, so each is named).
#[server(endpoint = "save-settings")]
pub async fn save_settings(
    separation_engine: Option<String>,
    separation_model: String,
    stem_format: String,
    separate_on_import: Option<String>,
    analyse_on_import: Option<String>,
    lalalai_preview: Option<String>,
    lalalai_vocals: Option<String>,
    lalalai_drum: Option<String>,
    lalalai_bass: Option<String>,
    lalalai_piano: Option<String>,
    lalalai_electric_guitar: Option<String>,
    lalalai_acoustic_guitar: Option<String>,
    lalalai_synthesizer: Option<String>,
    lalalai_strings: Option<String>,
    lalalai_wind: Option<String>,
) -> Result<(), AppError> {
    // In the order of `server::lalalai::stems::STEMS`.
    let ticked = [
        lalalai_vocals,
        lalalai_drum,
        lalalai_bass,
        lalalai_piano,
        lalalai_electric_guitar,
        lalalai_acoustic_guitar,
        lalalai_synthesizer,
        lalalai_strings,
        lalalai_wind,
    ];
    let lalalai_stems = server::lalalai::stems::STEMS
        .iter()
        .zip(ticked)
        .filter(|(_, ticked)| ticked.is_some())
        .map(|(&(name, _), _)| name.to_owned())
        .collect();
    let user = user().await?;
    let state = state()?;
    let settings = server::settings::Settings {
        separation_engine: separation_engine.unwrap_or_else(|| "local".to_owned()),
        separation_model: Some(separation_model).filter(|model| !model.is_empty()),
        stem_format,
        separate_on_import: separate_on_import.is_some(),
        analyse_on_import: analyse_on_import.is_some(),
        lalalai_stems,
        lalalai_preview: lalalai_preview.is_some(),
    };
    server::settings::save(&state.pool, &state.config.models_dir(), user.id, &settings)
        .await
        .map_err(fail)
}

/// Stores the user's lalal.ai license key (sealed), replacing the one before, and says how many minutes it
/// has left: a key lalal.ai refuses is not kept.
#[server(endpoint = "save-lalalai-key")]
pub async fn save_lalalai_key(license_key: String) -> Result<f64, AppError> {
    let user = user().await?;
    let state = state()?;
    server::lalalai::license::save(&state.pool, &state.vault, user.id, &license_key)
        .await
        .map_err(fail)?;
    let tested = lalalai_minutes(&state, user.id).await;
    if matches!(&tested, Err(server::Error::Invalid(_))) {
        server::lalalai::license::remove(&state.pool, user.id)
            .await
            .map_err(fail)?;
    }
    tested.map_err(fail)
}

/// The minutes the stored key has left: the "Test key" button.
#[server(endpoint = "test-lalalai-key")]
pub async fn test_lalalai_key() -> Result<f64, AppError> {
    let user = user().await?;
    let state = state()?;
    lalalai_minutes(&state, user.id).await.map_err(fail)
}

#[server(endpoint = "remove-lalalai-key")]
pub async fn remove_lalalai_key() -> Result<(), AppError> {
    let user = user().await?;
    server::lalalai::license::remove(&state()?.pool, user.id)
        .await
        .map_err(fail)
}

#[cfg(feature = "ssr")]
async fn lalalai_minutes(state: &server::AppState, user_id: uuid::Uuid) -> server::Result<f64> {
    server::lalalai::license::test(
        &state.pool,
        &state.vault,
        &state.http.services,
        &state.config.lalalai_url,
        user_id,
    )
    .await
}
