//! `POST /upload`: audio files from the user's computer, streamed to storage (never held whole in
//! memory), checked by decoding them, then made into tracks whose separation and analysis start at once.

use axum::{
    Json,
    extract::{DefaultBodyLimit, Multipart, State, multipart::Field},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::post,
};
use futures_util::TryStreamExt;
use serde::Serialize;

use crate::{
    AppState, Error, Result,
    auth::{AuthSession, User},
    intake,
    metered::Metered,
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
    let mut attach_to = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => {
                tracing::info!(error = %err, "an upload was cut short");
                return (StatusCode::BAD_REQUEST, "The upload was cut short. Try again.").into_response();
            }
        };
        if field.name() == Some("track") {
            // The track a file is for, when it brings audio to a track that has none yet.
            let Ok(id) = field.text().await.map(|text| text.trim().parse::<uuid::Uuid>()) else {
                return (StatusCode::BAD_REQUEST, "The upload was cut short. Try again.").into_response();
            };
            match id {
                Ok(id) => attach_to = Some(id),
                Err(_) => return StatusCode::NOT_FOUND.into_response(),
            }
            continue;
        }
        if field.name() != Some("file") {
            continue;
        }
        if attach_to.is_some() && !outcomes.is_empty() {
            // A track has one audio file; the rest of the form is ignored.
            break;
        }
        let file = field.file_name().unwrap_or("upload").to_owned();
        let outcome = match import(&state, &user, &file, field, attach_to).await {
            Ok((track_id, title)) => Outcome {
                file,
                track_id: Some(track_id),
                title: Some(title),
                error: None,
            },
            // Someone else's track, or none: the same answer as the files' routes give.
            Err(Error::NotFound) => return StatusCode::NOT_FOUND.into_response(),
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
        // A plain form post (no script): back to the library, which lists what arrived, unless something
        // was refused, which the library cannot show.
        if outcomes.iter().any(|outcome| outcome.error.is_some()) {
            return (StatusCode::UNPROCESSABLE_ENTITY, Html(refusals_page(&outcomes))).into_response();
        }
        return Redirect::to("/").into_response();
    }
    let status = if all_failed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, Json(outcomes)).into_response()
}

/// Stores one file, checks it is audio we can decode, and either creates its track or, when `attach_to`
/// names one of the user's tracks still waiting for audio, becomes that track's audio; then the pipeline
/// starts.
async fn import(
    state: &AppState,
    user: &User,
    file: &str,
    field: Field<'_>,
    attach_to: Option<uuid::Uuid>,
) -> Result<(uuid::Uuid, String)> {
    if let Some(track_id) = attach_to {
        // Before the bytes: someone else's id, or a track that has its audio, learns nothing from a file.
        tracks::awaiting_audio(&state.pool, user, track_id).await?;
    }
    let max = state.config.max_upload_bytes;
    let key = StorageKey::generate("audio", &intake::extension(file))?;
    let stream = field.map_err(std::io::Error::other);
    let mut reader = Metered::new(tokio_util::io::StreamReader::new(stream), max);
    let written = state.storage.write(&key, &mut reader).await;
    if reader.exceeded() {
        return Err(Error::Invalid(format!(
            "{file} is larger than the limit of {} MB.",
            max / (1 << 20)
        )));
    }
    written?;
    let intake = intake::check(&state.storage, &key, max, file).await?;
    let mut tx = state.pool.begin().await?;
    let (track_id, title) = match attach_to {
        Some(track_id) => {
            let title = tracks::set_audio(&mut tx, track_id, &key, &intake).await?;
            (track_id, title)
        }
        None => {
            let title = intake
                .title
                .clone()
                .unwrap_or_else(|| intake::title_from_name(file));
            let new = NewTrack {
                title: title.clone(),
                artist: intake.artist.clone(),
                album: intake.album.clone(),
                duration_seconds: Some(intake.duration_seconds),
                source: Source::Upload,
                audio: Some(key),
                art: intake.art,
                ..NewTrack::default()
            };
            (tracks::insert(&mut *tx, user.id, &new).await?, title)
        }
    };
    state.jobs.pipeline.enqueue(&mut tx, track_id, user.id).await?;
    tx.commit().await?;
    tracing::info!(%track_id, user.id = %user.id, attached = attach_to.is_some(), "uploaded");
    Ok((track_id, title))
}

/// What became of each file of a plain form post, when some were refused.
fn refusals_page(outcomes: &[Outcome]) -> String {
    let lines: String = outcomes
        .iter()
        .map(|outcome| {
            let result = match &outcome.error {
                Some(error) => escape(error),
                None => "added to your library.".to_owned(),
            };
            format!("<li><strong>{}</strong>: {result}</li>", escape(&outcome.file))
        })
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Upload</title></head>\
         <body><h1>Not every file went in</h1><ul>{lines}</ul><p><a href=\"/\">Back to the library</a></p>\
         </body></html>"
    )
}

/// File names and messages are the user's own text: shown as text, never as markup.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_file_name_is_shown_as_text() {
        let page = refusals_page(&[
            Outcome {
                file: "<script>x</script>.mp3".into(),
                track_id: None,
                title: None,
                error: Some("It is \"text\" & not audio.".into()),
            },
            Outcome {
                file: "song.flac".into(),
                track_id: Some(uuid::Uuid::new_v4()),
                title: Some("Song".into()),
                error: None,
            },
        ]);
        assert!(page.contains(
            "<strong>&lt;script&gt;x&lt;/script&gt;.mp3</strong>: It is &quot;text&quot; &amp; not audio."
        ));
        assert!(page.contains("<strong>song.flac</strong>: added to your library."));
        assert!(!page.contains("<script>"));
    }
}
