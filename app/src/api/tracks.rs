//! The user's tracks, as the library shows them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr::{fail, state, user};
use crate::error::AppError;

/// One track on the library page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackCard {
    pub id: String,
    pub title: String,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub art_url: Option<String>,
    pub duration_seconds: Option<i32>,
    /// `queued`, `processing`, `completed`, `failed` or `cancelled`; `None` before any analysis.
    pub analysis_status: Option<String>,
    pub analysis_progress: i32,
    pub analysis_error: Option<String>,
    pub tempo: Option<f64>,
    pub key: Option<String>,
}

impl TrackCard {
    /// Whether a job on this track is still moving, so the page keeps refreshing.
    pub fn busy(&self) -> bool {
        matches!(self.analysis_status.as_deref(), Some("queued" | "processing"))
    }
}

#[server(endpoint = "tracks")]
pub async fn list_tracks() -> Result<Vec<TrackCard>, AppError> {
    let user = user().await?;
    let tracks = server::tracks::list(&state()?.pool, &user).await.map_err(fail)?;
    Ok(tracks
        .into_iter()
        .map(|track| TrackCard {
            art_url: if track.has_art_file {
                Some(format!("/tracks/{}/art", track.id))
            } else {
                track.album_art_url
            },
            id: track.id.to_string(),
            title: track.title,
            artist: track.artist,
            album: track.album,
            duration_seconds: track.duration,
            analysis_status: track.analysis_status,
            analysis_progress: track.analysis_progress.unwrap_or(0),
            analysis_error: track.analysis_error,
            tempo: track.tempo,
            key: track.key,
        })
        .collect())
}
