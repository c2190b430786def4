//! A user's choices for their new tracks: which model separates them, the stems' sample format, and which
//! stages run as soon as the audio is in. No row means the defaults.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::{Error, Result};

/// The stems' sample formats, as `user_settings.stem_format` and a job's `options.format` name them.
pub const STEM_FORMATS: [&str; 3] = ["wav16", "wav24", "f32"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// A model folder's name; `None` is the server's default.
    pub separation_model: Option<String>,
    pub stem_format: String,
    pub separate_on_import: bool,
    pub analyse_on_import: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            separation_model: None,
            stem_format: "wav24".to_owned(),
            separate_on_import: true,
            analyse_on_import: true,
        }
    }
}

/// A separation model a user can choose: its folder's name and the stems it makes, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChoice {
    pub name: String,
    pub stems: Vec<String>,
}

/// The models installed in `models_dir`.
pub fn models(models_dir: &Path) -> Vec<ModelChoice> {
    sfa_audio::separate::installed(models_dir)
        .into_iter()
        .map(|(name, manifest)| ModelChoice {
            name,
            stems: manifest.stems,
        })
        .collect()
}

/// The user's settings, or the defaults.
pub async fn get(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Settings> {
    let saved = sqlx::query_as!(
        Settings,
        "select separation_model, stem_format, separate_on_import, analyse_on_import
         from user_settings where user_id = $1",
        user_id
    )
    .fetch_optional(db)
    .await?;
    Ok(saved.unwrap_or_default())
}

/// Saves the user's settings after checking them: the model must be installed now, the format one we write.
pub async fn save(
    db: impl PgExecutor<'_>,
    models_dir: &Path,
    user_id: Uuid,
    settings: &Settings,
) -> Result<()> {
    if let Some(model) = &settings.separation_model
        && !models(models_dir).iter().any(|choice| &choice.name == model)
    {
        return Err(Error::Invalid(format!(
            "The model “{model}” is not installed on this server."
        )));
    }
    if !STEM_FORMATS.contains(&settings.stem_format.as_str()) {
        return Err(Error::Invalid(
            "Choose 16-bit, 24-bit or 32-bit float WAV for the stems.".into(),
        ));
    }
    sqlx::query!(
        "insert into user_settings (user_id, separation_model, stem_format, separate_on_import, analyse_on_import)
         values ($1, $2, $3, $4, $5)
         on conflict (user_id) do update set separation_model = excluded.separation_model,
             stem_format = excluded.stem_format, separate_on_import = excluded.separate_on_import,
             analyse_on_import = excluded.analyse_on_import",
        user_id,
        settings.separation_model,
        settings.stem_format,
        settings.separate_on_import,
        settings.analyse_on_import
    )
    .execute(db)
    .await?;
    Ok(())
}
