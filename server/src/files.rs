//! A track's files, for their owner only: `GET /tracks/{id}/audio`, `/tracks/{id}/art` and
//! `/tracks/{id}/stems/{stem}` (the latest separation's). Anyone else, and any id that does not exist, gets
//! the same 404.

use axum::{
    body::Body,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use uuid::Uuid;

use crate::{
    AppState, Error,
    auth::AuthSession,
    tracks::{self, File},
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
}

async fn serve(State(state): State<AppState>, session: AuthSession, id: String, file: File) -> Response {
    let Some(user) = session.user else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let Ok(id) = id.parse::<Uuid>() else {
        return StatusCode::NOT_FOUND.into_response();
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
        Err(Error::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => {
            tracing::error!(error = %err, %id, "cannot serve a track's file");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
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
