//! `POST /upload`: audio files from the user's computer, streamed to storage (never held whole in
//! memory), checked by decoding them, then made into tracks whose separation and analysis start at once.

use axum::{
    Json,
    extract::{DefaultBodyLimit, Multipart, State, multipart::Field},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use futures_util::TryStreamExt;
use serde::Serialize;
use tokio::io::AsyncRead;

use crate::{
    AppState, Error, Result,
    auth::{AuthSession, User},
    storage::StorageKey,
    tracks::{self, NewTrack, Source},
};

pub fn routes(state: &AppState) -> axum::Router<AppState> {
    // Room for the multipart framing around a file at the size limit.
    let limit = usize::try_from(state.config.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1 << 20);
    axum::Router::new().route("/upload", post(upload).layer(DefaultBodyLimit::max(limit)))
}

/// What became of one uploaded file.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_id: Option<uuid::Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

async fn upload(
    State(state): State<AppState>,
    session: AuthSession,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let Some(user) = session.user else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let mut outcomes = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => {
                tracing::info!(error = %err, "an upload was cut short");
                return (StatusCode::BAD_REQUEST, "The upload was cut short. Try again.").into_response();
            }
        };
        if field.name() != Some("file") {
            continue;
        }
        let file = field.file_name().unwrap_or("upload").to_owned();
        let outcome = match import(&state, &user, &file, field).await {
            Ok((track_id, title)) => Outcome {
                file,
                track_id: Some(track_id),
                title: Some(title),
                error: None,
            },
            Err(err) => {
                if !err.is_users() {
                    tracing::error!(error = %err, "an upload failed");
                }
                Outcome {
                    file,
                    track_id: None,
                    title: None,
                    error: Some(err.public_message()),
                }
            }
        };
        outcomes.push(outcome);
    }
    if outcomes.is_empty() {
        return (StatusCode::BAD_REQUEST, "Choose at least one audio file.").into_response();
    }
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let all_failed = outcomes.iter().all(|outcome| outcome.error.is_some());
    if wants_html {
        // A plain form post (no script): back to the library, which lists what arrived.
        return Redirect::to("/").into_response();
    }
    let status = if all_failed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, Json(outcomes)).into_response()
}

/// Stores one file, checks it is audio we can decode, and creates its track and pipeline jobs.
async fn import(state: &AppState, user: &User, file: &str, field: Field<'_>) -> Result<(uuid::Uuid, String)> {
    let max = state.config.max_upload_bytes;
    let key = StorageKey::generate("audio", &extension(file))?;
    let stream = field.map_err(std::io::Error::other);
    let mut reader = Capped::new(tokio_util::io::StreamReader::new(stream), max);
    let written = state.storage.write(&key, &mut reader).await;
    if reader.exceeded {
        return Err(Error::Invalid(format!(
            "{file} is larger than the limit of {} MB.",
            max / (1 << 20)
        )));
    }
    written?;
    let limits = sfa_audio::Limits {
        max_bytes: max,
        ..sfa_audio::Limits::default()
    };
    let path = state.storage.path(&key);
    let checked = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        Ok::<_, std::io::Error>(sfa_audio::decode(file, &limits))
    })
    .await
    .map_err(|err| Error::Internal(format!("decode task: {err}")))?
    .map_err(Error::io(state.storage.path(&key)))?;
    let decoded = match checked {
        Ok(decoded) => decoded,
        Err(err) => {
            state.storage.delete(&key).await?;
            return Err(Error::Invalid(format!("{file}: {err}.")));
        }
    };
    let tags = decoded.tags;
    let title = tags
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| stem(file));
    let seconds = decoded.audio.duration_seconds();
    let art = match &tags.picture {
        Some(picture) => {
            let art_key = StorageKey::generate("art", picture_extension(picture.media_type.as_deref()))?;
            state
                .storage
                .write(&art_key, &mut picture.data.as_slice())
                .await?;
            Some(art_key)
        }
        None => None,
    };
    let new = NewTrack {
        title: title.clone(),
        artist: tags.artist.clone(),
        album: tags.album.clone(),
        duration_seconds: Some(seconds.round() as i32),
        source: Source::Upload,
        audio: Some(key),
        art,
    };
    let mut tx = state.pool.begin().await?;
    let track_id = tracks::insert(&mut *tx, user.id, &new).await?;
    state.jobs.enqueue_pipeline(&mut tx, track_id, user.id).await?;
    tx.commit().await?;
    tracing::info!(%track_id, user.id = %user.id, "uploaded");
    Ok((track_id, title))
}

/// The file name without its extension, as a title of last resort.
fn stem(file: &str) -> String {
    let name = std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(file)
        .trim();
    if name.is_empty() {
        "Untitled".to_owned()
    } else {
        name.to_owned()
    }
}

/// A short, safe extension for the stored file; the content, not this, decides how it is read.
fn extension(file: &str) -> String {
    std::path::Path::new(file)
        .extension()
        .and_then(|ext| ext.to_str())
        .filter(|ext| ext.len() <= 5 && ext.chars().all(|c| c.is_ascii_alphanumeric()))
        .map_or_else(|| "bin".to_owned(), str::to_ascii_lowercase)
}

fn picture_extension(media_type: Option<&str>) -> &'static str {
    match media_type {
        Some("image/png") => "png",
        Some("image/webp") => "webp",
        Some("image/gif") => "gif",
        _ => "jpg",
    }
}

/// Passes bytes through until `max`, then fails the read, so an oversized upload stops streaming at the
/// limit instead of filling the disk.
struct Capped<R> {
    inner: R,
    left: u64,
    exceeded: bool,
}

impl<R> Capped<R> {
    fn new(inner: R, max: u64) -> Self {
        Self {
            inner,
            left: max,
            exceeded: false,
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Capped<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = (buf.filled().len() - before) as u64;
        if read > self.left {
            self.exceeded = true;
            return std::task::Poll::Ready(Err(std::io::Error::other("upload over the size limit")));
        }
        self.left -= read;
        poll
    }
}
