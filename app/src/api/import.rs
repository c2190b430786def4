//! Importing by link: a Spotify track, album or playlist, or a direct link to an audio file.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr::{fail, state, user};
use crate::error::AppError;

/// What an import did, for the import box to say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// The album's, playlist's, song's or file's name.
    pub name: String,
    pub added: usize,
    /// Songs skipped because they are in the library already.
    pub already: usize,
    /// Entries with nothing to import: podcast episodes, local files, songs no longer available.
    pub unplayable: usize,
    /// Spotify gives no audio and no resolver is configured: each new track waits for a file.
    pub needs_files: bool,
}

impl ImportSummary {
    /// "“Name”: 12 added, 3 already in your library."
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("{} added", self.added)];
        if self.already > 0 {
            parts.push(format!("{} already in your library", self.already));
        }
        if self.unplayable > 0 {
            parts.push(format!("{} with nothing to import", self.unplayable));
        }
        let mut text = format!("“{}”: {}.", self.name, parts.join(", "));
        if self.needs_files && self.added > 0 {
            text.push_str(
                " Spotify gives no audio and this server has no audio resolver: attach a file to each new \
                 track.",
            );
        }
        text
    }
}

/// Imports what `link` points at into the caller's library.
#[server(endpoint = "import-link")]
pub async fn import_link(link: String) -> Result<ImportSummary, AppError> {
    let user = user().await?;
    let state = state()?;
    let imported = server::import::import_link(&state, &user, &link)
        .await
        .map_err(fail)?;
    Ok(ImportSummary {
        name: imported.name,
        added: imported.added.len(),
        already: imported.already,
        unplayable: imported.unplayable,
        needs_files: imported.audio == server::import::AudioFrom::Attach,
    })
}
