//! The user's defaults for new tracks: the separation model, the stems' format, and which stages run on
//! import.

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
    /// The chosen model; `None` follows the server's default.
    pub separation_model: Option<String>,
    pub stem_format: String,
    pub separate_on_import: bool,
    pub analyse_on_import: bool,
    pub models: Vec<ModelOption>,
    /// The server's model, which "default" means.
    pub default_model: String,
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
    Ok(SettingsForm {
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
#[server(endpoint = "save-settings")]
pub async fn save_settings(
    separation_model: String,
    stem_format: String,
    separate_on_import: Option<String>,
    analyse_on_import: Option<String>,
) -> Result<(), AppError> {
    let user = user().await?;
    let state = state()?;
    let settings = server::settings::Settings {
        separation_model: Some(separation_model).filter(|model| !model.is_empty()),
        stem_format,
        separate_on_import: separate_on_import.is_some(),
        analyse_on_import: analyse_on_import.is_some(),
    };
    server::settings::save(&state.pool, &state.config.models_dir(), user.id, &settings)
        .await
        .map_err(fail)
}
