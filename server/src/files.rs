//! A track's files, for their owner only: `GET /tracks/{id}/audio`, `/tracks/{id}/art`,
//! `/tracks/{id}/stems/{stem}` (the latest separation's), and the exports `/tracks/{id}/stems.zip`,
//! `/tracks/{id}/analysis.json` and `/tracks/{id}/mix.wav?without=vocals` (the "minus one" mix). Anyone else, and any id that does not exist, gets the same 404.

use axum::{
    body::Body,
    extract::{Path, RawQuery, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sfa_audio::separate::SampleFormat;
use std::path::PathBuf;
use uuid::Uuid;

use crate::{
    AppState, Error,
    auth::{AuthSession, User},
    tracks::{self, File},
    zip,
};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/tracks/{id}/audio",
            get(|state, session, Path(id)| serve(state, session, id, File::Audio)),
        )
        .route(
            "/tracks/{id}/art",
            get(|state, session, Path(id)| serve(state, session, id, File::Art)),
        )
        .route(
            "/tracks/{id}/stems/{stem}",
            get(|state, session, Path((id, stem))| serve(state, session, id, File::Stem(stem))),
        )
        .route("/tracks/{id}/stems.zip", get(stems_zip))
        .route("/tracks/{id}/analysis.json", get(analysis_json))
        .route("/tracks/{id}/mix.wav", get(mix))
}

/// The signed-in user and the track's id, or the status to answer instead.
fn viewer(session: AuthSession, id: &str) -> Result<(User, Uuid), StatusCode> {
    let user = session.user.ok_or(StatusCode::UNAUTHORIZED)?;
    // A malformed id is as unknown as someone else's.
    let id = id.parse().map_err(|_| StatusCode::NOT_FOUND)?;
    Ok((user, id))
}

/// The answer for a failure: 404 for what the viewer may not see, 500 (logged) for the rest.
fn failed(err: &Error, id: Uuid) -> Response {
    if matches!(err, Error::NotFound) {
        return StatusCode::NOT_FOUND.into_response();
    }
    tracing::error!(error = %err, %id, "cannot serve a track's file");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

async fn serve(State(state): State<AppState>, session: AuthSession, id: String, file: File) -> Response {
    let (user, id) = match viewer(session, &id) {
        Ok(viewer) => viewer,
        Err(status) => return status.into_response(),
    };
    let opened = async {
        let key = tracks::file_key(&state.pool, &user, id, &file).await?;
        let handle = state.storage.open_file(&key).await?;
        let length = handle
            .metadata()
            .await
            .map_err(Error::io(state.storage.path(&key)))?
            .len();
        Ok::<_, Error>((key, handle, length))
    }
    .await;
    match opened {
        Ok((key, handle, length)) => (
            [
                (header::CONTENT_TYPE, content_type(key.as_str()).to_owned()),
                (header::CONTENT_LENGTH, length.to_string()),
                (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
                (header::CONTENT_DISPOSITION, disposition(&file, key.as_str())),
            ],
            Body::from_stream(tokio_util::io::ReaderStream::new(handle)),
        )
            .into_response(),
        Err(err) => failed(&err, id),
    }
}

/// Every stem of the latest separation in one ZIP, streamed as it is written, entries named
/// `Artist - Title - vocals.wav`.
async fn stems_zip(State(state): State<AppState>, session: AuthSession, Path(id): Path<String>) -> Response {
    let (user, id) = match viewer(session, &id) {
        Ok(viewer) => viewer,
        Err(status) => return status.into_response(),
    };
    let listed = async {
        let name = tracks::export_name(&state.pool, &user, id).await?;
        let mut entries = Vec::new();
        for (stem, key) in tracks::stems(&state.pool, &user, id).await? {
            let path = state.storage.path(&key);
            let size = tokio::fs::metadata(&path)
                .await
                .map_err(Error::io(path.clone()))?
                .len();
            let extension = key.as_str().rsplit('.').next().unwrap_or("wav");
            entries.push(zip::Entry {
                name: format!("{name} - {stem}.{extension}"),
                path,
                size,
            });
        }
        if entries.is_empty() {
            return Err(Error::NotFound);
        }
        Ok::<_, Error>((name, entries))
    }
    .await;
    let (name, entries) = match listed {
        Ok(listed) => listed,
        Err(err) => return failed(&err, id),
    };
    let Some(length) = zip::length(&entries) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "These stems are too large for one ZIP file: download them one by one.",
        )
            .into_response();
    };
    let (mut writer, reader) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        // The length was announced: a stream cut short here is seen as broken, never as a whole archive.
        if let Err(err) = zip::write(&entries, &mut writer).await {
            tracing::warn!(error = %err, %id, "the stems ZIP stopped");
        }
    });
    (
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_LENGTH, length.to_string()),
            (
                header::CONTENT_DISPOSITION,
                attachment("stems.zip", &format!("{name} - stems.zip")),
            ),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(reader)),
    )
        .into_response()
}

/// The latest analysis as the JSON `analysis_results.features` holds (its shape is `sfa_features`').
async fn analysis_json(
    State(state): State<AppState>,
    session: AuthSession,
    Path(id): Path<String>,
) -> Response {
    let (user, id) = match viewer(session, &id) {
        Ok(viewer) => viewer,
        Err(status) => return status.into_response(),
    };
    let found = async {
        let name = tracks::export_name(&state.pool, &user, id).await?;
        let analysis = tracks::analysis(&state.pool, &user, id)
            .await?
            .ok_or(Error::NotFound)?;
        Ok::<_, Error>((name, analysis))
    }
    .await;
    match found {
        Ok((name, analysis)) => (
            [(
                header::CONTENT_DISPOSITION,
                attachment("analysis.json", &format!("{name} - analysis.json")),
            )],
            axum::Json(analysis),
        )
            .into_response(),
        Err(err) => failed(&err, id),
    }
}

/// The latest separation's stems mixed on the server, leaving out each stem named by a `without` field
/// (the form's checkboxes repeat it): the "minus one" to play along to. Rendered into a scratch file, which
/// is gone once the answer is sent.
async fn mix(
    State(state): State<AppState>,
    session: AuthSession,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let (user, id) = match viewer(session, &id) {
        Ok(viewer) => viewer,
        Err(status) => return status.into_response(),
    };
    let without: Vec<String> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(field, _)| field == "without")
        .map(|(_, stem)| stem.into_owned())
        .collect();
    let rendered = async {
        let name = tracks::export_name(&state.pool, &user, id).await?;
        let stems = tracks::stems(&state.pool, &user, id).await?;
        if stems.is_empty() {
            return Err(Error::NotFound);
        }
        if let Some(unknown) = without.iter().find(|w| !stems.iter().any(|(stem, _)| stem == *w)) {
            return Err(Error::Invalid(format!(
                "This track has no stem called “{unknown}”."
            )));
        }
        let kept: Vec<PathBuf> = stems
            .iter()
            .filter(|(stem, _)| !without.contains(stem))
            .map(|(_, key)| state.storage.path(key))
            .collect();
        if kept.is_empty() {
            return Err(Error::Invalid("Leave at least one stem in the mix.".into()));
        }
        let scratch = state.storage.scratch_folder().await?;
        let out = scratch.path().join("mix.wav");
        let target = out.clone();
        let mixed = tokio::task::spawn_blocking(move || {
            let paths: Vec<&std::path::Path> = kept.iter().map(PathBuf::as_path).collect();
            sfa_audio::mixdown::mix_stems(
                &paths,
                &target,
                SampleFormat::default(),
                &sfa_audio::Limits::default(),
            )
        })
        .await
        .map_err(|err| Error::Internal(format!("mix task: {err}")));
        let opened = match mixed {
            Ok(Ok(_levels)) => tokio::fs::File::open(&out).await.map_err(Error::io(out.clone())),
            Ok(Err(err)) => Err(err.into()),
            Err(err) => Err(err),
        };
        // The open file keeps its bytes readable after its name is gone.
        scratch.remove().await;
        let file = opened?;
        let length = file.metadata().await.map_err(Error::io(out))?.len();
        let label = if without.is_empty() {
            "every stem".to_owned()
        } else {
            format!("without {}", without.join(", "))
        };
        Ok::<_, Error>((format!("{name} - {label}.wav"), file, length))
    }
    .await;
    match rendered {
        Ok((name, file, length)) => (
            [
                (header::CONTENT_TYPE, "audio/wav".to_owned()),
                (header::CONTENT_LENGTH, length.to_string()),
                (header::CONTENT_DISPOSITION, attachment("mix.wav", &name)),
            ],
            Body::from_stream(tokio_util::io::ReaderStream::new(file)),
        )
            .into_response(),
        Err(Error::Invalid(message)) => (StatusCode::BAD_REQUEST, message).into_response(),
        Err(err) => failed(&err, id),
    }
}

/// Stems download under their own names (`vocals.wav`); the rest show in the page.
fn disposition(file: &File, key: &str) -> String {
    match file {
        File::Stem(stem) => {
            let extension = key.rsplit('.').next().unwrap_or("wav");
            format!("attachment; filename=\"{stem}.{extension}\"")
        }
        File::Audio | File::Art => "inline".to_owned(),
    }
}

/// A download named `name` (any Unicode, RFC 6266), with an ASCII name for clients that read only that.
fn attachment(fallback: &str, name: &str) -> String {
    /// RFC 5987's attr-char: letters, digits and these pass as they are.
    const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, ESCAPED)
    )
}

/// By the stored key's extension, which the server chose; the browser must not sniff (`nosniff`).
fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("jpg") => "image/jpeg",
        Some("mp3") => "audio/mpeg",
        Some("flac") => "audio/flac",
        Some("wav") => "audio/wav",
        Some("ogg") => "audio/ogg",
        Some("m4a" | "mp4" | "aac") => "audio/mp4",
        Some("aif" | "aiff") => "audio/aiff",
        _ => "application/octet-stream",
    }
}
