//! "Ask about this track": the question with what the analysis found, sent to the user's providers.

use reqwest::Client;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    chat::Prompt,
    router::{self, Routed},
};
use crate::{Error, Result, auth::User, tracks, vault::Vault};

/// The longest question taken, in characters.
pub const MAX_QUESTION: usize = 2000;

/// Asks the viewer's providers `question` about the viewer's track, with its analysis as context.
pub async fn about_track(
    pool: &PgPool,
    vault: &Vault,
    client: &Client,
    viewer: &User,
    track: Uuid,
    question: &str,
) -> Result<Routed> {
    let question = question.trim();
    if question.is_empty() || question.chars().count() > MAX_QUESTION {
        return Err(Error::Invalid(format!(
            "Ask a question of 1 to {MAX_QUESTION} characters."
        )));
    }
    let summary = tracks::get(pool, viewer, track).await?;
    let analysis = tracks::analysis(pool, viewer, track).await?.ok_or_else(|| {
        Error::Invalid("Ask again once the track is analysed: its tempo and key go with the question.".into())
    })?;
    let prompt = Prompt {
        system: context(&summary, &analysis),
        question: question.to_owned(),
    };
    router::ask(pool, vault, client, viewer, &prompt).await
}

/// What the model is told about the track: the facts a DJ or producer would ask about.
fn context(track: &tracks::Summary, analysis: &sfa_audio::Analysis) -> String {
    let seconds = analysis.duration_seconds.max(0.0) as u64;
    let mut facts = vec![format!(
        "“{}”{}, {}:{:02} long",
        track.title,
        track
            .artist
            .as_deref()
            .map(|artist| format!(" by {artist}"))
            .unwrap_or_default(),
        seconds / 60,
        seconds % 60
    )];
    if let Some(tempo) = &analysis.tempo {
        facts.push(format!(
            "tempo {:.1} BPM (confidence {:.2})",
            tempo.bpm, tempo.confidence
        ));
    }
    if let Some(key) = &analysis.key {
        facts.push(format!(
            "key {} (Camelot {}, Open Key {}; confidence {:.2})",
            key.name, key.camelot, key.open_key, key.confidence
        ));
    }
    if let Some(lufs) = analysis.loudness.integrated_lufs {
        facts.push(format!(
            "integrated loudness {lufs:.1} LUFS, range {:.1} LU",
            analysis.loudness.range_lu
        ));
    }
    facts.push(format!("energy {:.2} of 1", analysis.energy));
    facts.push(format!(
        "{} beats, {} bars",
        analysis.beats.len(),
        analysis.downbeats.len()
    ));
    if !track.stems.is_empty() {
        facts.push(format!("separated into {}", track.stems.join(", ")));
    }
    format!(
        "You help DJs and producers with their own music in Sound Forge Alchemy. Answer briefly and \
         practically, in plain text. The track: {}.",
        facts.join("; ")
    )
}
