//! The user's tracks, as the library and the track page show them, and what a user may do to one: cancel
//! or retry its jobs, or delete it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr::{fail, row_id, state, user};
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
    /// Whether the track has its audio; a Spotify track may wait for a download or an attached file.
    pub has_audio: bool,
    /// `spotify`, `upload` or `url`.
    pub source: String,
    /// The latest download: `queued`, `downloading`, `completed`, `failed` or `cancelled`.
    pub download_status: Option<String>,
    pub download_progress: i32,
    pub download_error: Option<String>,
    /// Bytes downloaded, and the total when the server said it.
    pub bytes: Option<(i64, Option<i64>)>,
    /// `queued`, `processing`, `completed`, `failed` or `cancelled`; `None` before any analysis.
    pub analysis_status: Option<String>,
    pub analysis_progress: i32,
    pub analysis_error: Option<String>,
    pub tempo: Option<f64>,
    pub key: Option<String>,
    /// The key on the Camelot wheel (`8A`).
    pub camelot: Option<String>,
    /// The same for the stem separation.
    pub separation_status: Option<String>,
    /// `local` (this server's CPU) or `lalalai` (the cloud engine).
    pub separation_engine: Option<String>,
    pub separation_progress: i32,
    pub separation_error: Option<String>,
    /// Chunks done and in all, once the separation has started.
    pub chunks: Option<(i32, i32)>,
    /// The finished stems' names; each downloads from `/tracks/{id}/stems/{name}`.
    pub stems: Vec<String>,
}

fn active(status: Option<&str>) -> bool {
    matches!(status, Some("queued" | "processing" | "downloading"))
}

fn stopped(status: Option<&str>) -> bool {
    matches!(status, Some("failed" | "cancelled"))
}

impl TrackCard {
    /// Whether a job on this track is still moving, so the page keeps refreshing.
    pub fn busy(&self) -> bool {
        [
            &self.download_status,
            &self.analysis_status,
            &self.separation_status,
        ]
        .into_iter()
        .any(|status| active(status.as_deref()))
    }

    /// `Artist · Album`, of what the track knows.
    pub fn byline(&self) -> String {
        [self.artist.as_deref(), self.album.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// Whether a job failed or was cancelled, so there is something to retry. A failed download is
    /// retried only while the track still has no audio.
    pub fn retryable(&self) -> bool {
        (!self.has_audio && stopped(self.download_status.as_deref()))
            || stopped(self.analysis_status.as_deref())
            || stopped(self.separation_status.as_deref())
    }
}

/// One look at the library: the rows asked for, how many tracks match, and how many there are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LibraryRows {
    pub tracks: Vec<TrackCard>,
    pub matched: usize,
    pub total: usize,
}

#[cfg(feature = "ssr")]
impl From<server::tracks::LibraryPage> for LibraryRows {
    fn from(page: server::tracks::LibraryPage) -> Self {
        Self {
            tracks: page.tracks.into_iter().map(card).collect(),
            matched: page.matched.try_into().unwrap_or(0),
            total: page.total.try_into().unwrap_or(0),
        }
    }
}

/// The user's tracks that match `search` (every word, in title, artist or album) and `stage`, ordered by
/// `sort`, the first `limit` of them (see `server::tracks::LibraryQuery`); each left out takes the default.
#[server(endpoint = "tracks")]
pub async fn list_tracks(
    search: Option<String>,
    stage: Option<String>,
    sort: Option<String>,
    limit: Option<i64>,
) -> Result<LibraryRows, AppError> {
    let user = user().await?;
    let defaults = server::tracks::LibraryQuery::default();
    let query = server::tracks::LibraryQuery {
        search: search.unwrap_or(defaults.search),
        stage: stage.unwrap_or(defaults.stage),
        sort: sort.unwrap_or(defaults.sort),
        limit: limit.unwrap_or(defaults.limit),
    };
    let page = server::tracks::library(&state()?.pool, &user, &query)
        .await
        .map_err(fail)?;
    Ok(page.into())
}

/// One track with everything its page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackDetail {
    pub card: TrackCard,
    /// The latest finished analysis, with one waveform level: the one the page draws.
    pub analysis: Option<sfa_features::Analysis>,
}

/// Buckets across the waveform the track page draws; the stored analysis has several levels.
#[cfg(feature = "ssr")]
const PAGE_WAVEFORM_BUCKETS: usize = 1024;

#[server(endpoint = "track")]
pub async fn get_track(id: String) -> Result<TrackDetail, AppError> {
    let user = user().await?;
    let state = state()?;
    let id = row_id(&id)?;
    let summary = server::tracks::get(&state.pool, &user, id).await.map_err(fail)?;
    let analysis = server::tracks::analysis(&state.pool, &user, id)
        .await
        .map_err(fail)?
        .map(|mut analysis| {
            analysis.waveform = analysis
                .waveform
                .into_iter()
                .min_by_key(|level| level.peaks.len().abs_diff(PAGE_WAVEFORM_BUCKETS))
                .into_iter()
                .collect();
            analysis
        });
    Ok(TrackDetail {
        card: card(summary),
        analysis,
    })
}

#[cfg(feature = "ssr")]
pub(crate) fn card(track: server::tracks::Summary) -> TrackCard {
    TrackCard {
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
        has_audio: track.has_audio,
        source: track.source,
        download_status: track.download_status,
        download_progress: track.download_progress.unwrap_or(0),
        download_error: track.download_error,
        bytes: track.bytes_done.map(|done| (done, track.bytes_total)),
        analysis_status: track.analysis_status,
        analysis_progress: track.analysis_progress.unwrap_or(0),
        analysis_error: track.analysis_error,
        tempo: track.tempo,
        key: track.key,
        camelot: track.camelot,
        separation_status: track.separation_status,
        separation_engine: track.separation_engine,
        separation_progress: track.separation_progress.unwrap_or(0),
        separation_error: track.separation_error,
        chunks: track
            .chunks_total
            .map(|total| (track.chunks_done.unwrap_or(0), total)),
        stems: track.stems,
    }
}

/// Stops the track's queued and running jobs; finished work is kept for a retry.
#[server(endpoint = "cancel-track-jobs")]
pub async fn cancel_track_jobs(id: String) -> Result<(), AppError> {
    let user = user().await?;
    server::jobs::control::cancel(
        &state()?.pool,
        server::jobs::control::Actor::Owner(&user),
        row_id(&id)?,
    )
    .await
    .map_err(fail)?;
    Ok(())
}

/// Runs the track's failed or cancelled jobs again; a separation resumes where it stopped.
#[server(endpoint = "retry-track-jobs")]
pub async fn retry_track_jobs(id: String) -> Result<(), AppError> {
    let user = user().await?;
    let state = state()?;
    server::jobs::control::retry(
        &state.jobs,
        &state.pool,
        server::jobs::control::Actor::Owner(&user),
        row_id(&id)?,
    )
    .await
    .map_err(fail)?;
    Ok(())
}

/// Deletes the track with its stems, analysis and files.
#[server(endpoint = "delete-track")]
pub async fn delete_track(id: String) -> Result<(), AppError> {
    let user = user().await?;
    let state = state()?;
    server::jobs::control::delete_track(&state.pool, &state.storage, &user, row_id(&id)?)
        .await
        .map_err(fail)?;
    Ok(())
}

/// What can be done to several tracks at once from the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Batch {
    /// A new separation with the user's current model and format.
    Separate,
    /// A new analysis.
    Analyse,
    Delete,
}

impl Batch {
    /// How the outcome line names what was done: "Queued 3 separations".
    pub fn done(self, count: usize) -> String {
        let (verb, noun) = match self {
            Batch::Separate => ("Queued", "separation"),
            Batch::Analyse => ("Queued", "analysis"),
            Batch::Delete => ("Deleted", "track"),
        };
        let noun = match (count, self) {
            (1, _) => noun.to_owned(),
            (_, Batch::Analyse) => "analyses".to_owned(),
            _ => format!("{noun}s"),
        };
        format!("{verb} {count} {noun}.")
    }
}

/// What a batch did: how many tracks it acted on, and why it left each other one alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchOutcome {
    pub done: usize,
    /// `“Title”: This track is being separated already.`
    pub refused: Vec<String>,
}

/// Acts on each of the user's tracks in `ids` in turn; one track refusing does not stop the others. Any
/// id that is not one of the user's tracks stops the batch before it starts.
#[server(endpoint = "batch-tracks")]
pub async fn batch_tracks(ids: Vec<String>, action: Batch) -> Result<BatchOutcome, AppError> {
    use server::jobs::control::{self, Stage};
    let user = user().await?;
    let state = state()?;
    let mut tracks = Vec::with_capacity(ids.len());
    for id in &ids {
        let id = row_id(id)?;
        let title = server::tracks::get(&state.pool, &user, id)
            .await
            .map_err(fail)?
            .title;
        tracks.push((id, title));
    }
    let mut outcome = BatchOutcome {
        done: 0,
        refused: Vec::new(),
    };
    for (id, title) in tracks {
        let acted = match action {
            Batch::Separate => {
                control::run_stage(&state.jobs, &state.pool, &user, id, Stage::Separation).await
            }
            Batch::Analyse => control::run_stage(&state.jobs, &state.pool, &user, id, Stage::Analysis).await,
            Batch::Delete => control::delete_track(&state.pool, &state.storage, &user, id).await,
        };
        match acted {
            Ok(()) => outcome.done += 1,
            Err(err) if err.is_users() => outcome
                .refused
                .push(format!("“{title}”: {}", err.public_message())),
            Err(err) => return Err(fail(err)),
        }
    }
    Ok(outcome)
}

/// Asks the user's LLM providers `question` about the track, with its analysis. The answer streams: its
/// first line names the provider that answers, the rest is the answer as it arrives.
#[server(endpoint = "ask-about-track", output = server_fn::codec::StreamingText)]
pub async fn ask_about_track(
    id: String,
    question: String,
) -> Result<server_fn::codec::TextStream<AppError>, AppError> {
    use futures_util::StreamExt;
    let user = user().await?;
    let state = state()?;
    let routed = server::llm::ask::about_track(
        &state.pool,
        &state.vault,
        &state.http.services,
        &user,
        row_id(&id)?,
        &question,
    )
    .await
    .map_err(fail)?;
    let name = futures_util::stream::once(async move { Ok(format!("{}\n", routed.provider)) });
    let answer = routed
        .answer
        .map(|piece| piece.map_err(|err| AppError::Message(err.public_message())));
    Ok(server_fn::codec::TextStream::new(name.chain(answer)))
}

/// One of the user's tracks that mixes with another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixLine {
    pub id: String,
    pub title: String,
    pub artist: Option<String>,
    pub tempo: f64,
    pub camelot: String,
    /// `double time` or `half time`, when that is how the tempos meet.
    pub how: Option<String>,
}

/// The user's tracks close to this one in key and tempo, closest first.
#[server(endpoint = "mix-candidates")]
pub async fn mix_candidates(id: String) -> Result<Vec<MixLine>, AppError> {
    let user = user().await?;
    let candidates = server::tracks::mix_candidates(&state()?.pool, &user, row_id(&id)?)
        .await
        .map_err(fail)?;
    Ok(candidates
        .into_iter()
        .map(|c| MixLine {
            id: c.id.to_string(),
            title: c.title,
            artist: c.artist,
            tempo: c.tempo,
            camelot: c.camelot,
            how: match c.tempo_factor {
                f if f > 1.5 => Some("double time".to_owned()),
                f if f < 0.75 => Some("half time".to_owned()),
                _ => None,
            },
        })
        .collect())
}
