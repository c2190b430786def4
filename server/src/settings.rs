//! A user's choices for their new tracks: which engine and model separate them (and, at lalal.ai, which
//! stems), the stems' sample format, and which stages run as soon as the audio is in. No row means the
//! defaults.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::{Error, Result, lalalai::stems::Split};

/// The separation engines, as `user_settings.separation_engine` and `processing_jobs.engine` name them.
pub const ENGINES: [&str; 2] = ["local", "lalalai"];

/// The stems' sample formats, as `user_settings.stem_format` and a job's `options.format` name them.
pub const STEM_FORMATS: [&str; 3] = ["wav16", "wav24", "f32"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// One of [`ENGINES`].
    pub separation_engine: String,
    /// A model folder's name; `None` is the server's default.
    pub separation_model: Option<String>,
    pub stem_format: String,
    pub separate_on_import: bool,
    pub analyse_on_import: bool,
    /// The stems lalal.ai makes, by its names (see `lalalai::stems`).
    pub lalalai_stems: Vec<String>,
    /// Whether lalal.ai gets only the first minute, to hear what it makes before paying for a whole track.
    pub lalalai_preview: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            separation_engine: "local".to_owned(),
            separation_model: None,
            stem_format: "wav24".to_owned(),
            separate_on_import: true,
            analyse_on_import: true,
            lalalai_stems: ["vocals", "drum", "bass"].map(str::to_owned).to_vec(),
            lalalai_preview: false,
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
        "select separation_engine, separation_model, stem_format, separate_on_import, analyse_on_import,
                lalalai_stems, lalalai_preview
         from user_settings where user_id = $1",
        user_id
    )
    .fetch_optional(db)
    .await?;
    Ok(saved.unwrap_or_default())
}

/// Saves the user's settings after checking them: the model must be installed now, the format one we write,
/// the stems a split lalal.ai makes.
pub async fn save(db: &sqlx::PgPool, models_dir: &Path, user_id: Uuid, settings: &Settings) -> Result<()> {
    if let Some(model) = &settings.separation_model
        && !models(models_dir).iter().any(|choice| &choice.name == model)
    {
        return Err(Error::Invalid(format!(
            "The model “{model}” is not installed on this server."
        )));
    }
    if !ENGINES.contains(&settings.separation_engine.as_str()) {
        return Err(Error::Invalid(
            "Choose this server or lalal.ai to separate.".into(),
        ));
    }
    // A local user who ticks no cloud stems keeps the ones saved before, for when they switch.
    let lalalai_stems = if settings.lalalai_stems.is_empty() && settings.separation_engine == "local" {
        get(db, user_id).await?.lalalai_stems
    } else {
        Split::of(&settings.lalalai_stems)?.stems()
    };
    if !STEM_FORMATS.contains(&settings.stem_format.as_str()) {
        return Err(Error::Invalid(
            "Choose 16-bit, 24-bit or 32-bit float WAV for the stems.".into(),
        ));
    }
    sqlx::query!(
        "insert into user_settings (user_id, separation_engine, separation_model, stem_format,
             separate_on_import, analyse_on_import, lalalai_stems, lalalai_preview)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (user_id) do update set separation_engine = excluded.separation_engine,
             separation_model = excluded.separation_model, stem_format = excluded.stem_format,
             separate_on_import = excluded.separate_on_import, analyse_on_import = excluded.analyse_on_import,
             lalalai_stems = excluded.lalalai_stems, lalalai_preview = excluded.lalalai_preview",
        user_id,
        settings.separation_engine,
        settings.separation_model,
        settings.stem_format,
        settings.separate_on_import,
        settings.analyse_on_import,
        &lalalai_stems,
        settings.lalalai_preview
    )
    .execute(db)
    .await?;
    Ok(())
}
