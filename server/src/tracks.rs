//! Tracks: the user's songs, and the queries that only ever reach the caller's own.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::{Error, Result, auth::User, storage::StorageKey};

/// Where a track came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Spotify,
    Upload,
    Url,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Spotify => "spotify",
            Self::Upload => "upload",
            Self::Url => "url",
        }
    }
}

/// What an import knows about a new track.
#[derive(Debug, Clone)]
pub struct NewTrack {
    pub title: String,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub duration_seconds: Option<i32>,
    pub source: Source,
    pub audio: Option<StorageKey>,
    /// Cover art from the file's tags, stored by us.
    pub art: Option<StorageKey>,
}

/// A track as the library lists it: the row, the latest analysis job and its headline results.
#[derive(Debug, Clone)]
pub struct Summary {
    pub id: Uuid,
    pub title: String,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub album_art_url: Option<String>,
    pub has_art_file: bool,
    pub duration: Option<i32>,
    pub source: String,
    pub inserted_at: DateTime<Utc>,
    pub analysis_status: Option<String>,
    pub analysis_progress: Option<i32>,
    pub analysis_error: Option<String>,
    pub tempo: Option<f64>,
    pub key: Option<String>,
}

/// Inserts the track for `owner`. Runs in the caller's transaction, so that the jobs that follow are
/// queued with it or not at all.
pub async fn insert(db: impl PgExecutor<'_>, owner: Uuid, track: &NewTrack) -> Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query!(
        "insert into tracks (id, user_id, title, artist, album, duration, source, audio_path, album_art_path)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        id,
        owner,
        track.title,
        track.artist,
        track.album,
        track.duration_seconds,
        track.source.as_str(),
        track.audio.as_ref().map(StorageKey::as_str),
        track.art.as_ref().map(StorageKey::as_str)
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// The viewer's tracks, newest first.
pub async fn list(pool: &PgPool, viewer: &User) -> Result<Vec<Summary>> {
    Ok(sqlx::query_as!(
        Summary,
        r#"select t.id, t.title, t.artist, t.album, t.album_art_url,
                  t.album_art_path is not null as "has_art_file!", t.duration, t.source,
                  t.inserted_at as "inserted_at: DateTime<Utc>",
                  a.status as "analysis_status?", a.progress as "analysis_progress?", a.error as "analysis_error?",
                  r.tempo as "tempo?", r.key as "key?"
           from tracks t
           left join lateral (
               select id, status, progress, error from analysis_jobs
               where track_id = t.id order by inserted_at desc limit 1
           ) a on true
           left join analysis_results r on r.analysis_job_id = a.id
           where t.user_id = $1
           order by t.inserted_at desc"#,
        viewer.id
    )
    .fetch_all(pool)
    .await?)
}

/// Which of a track's files.
#[derive(Debug, Clone, Copy)]
pub enum File {
    Audio,
    Art,
}

/// The storage key of one of a track's files, if the viewer owns the track and it has that file;
/// otherwise [`Error::NotFound`], whether the track is someone else's or does not exist.
pub async fn file_key(pool: &PgPool, viewer: &User, id: Uuid, file: File) -> Result<StorageKey> {
    let row = sqlx::query!(
        "select audio_path, album_art_path from tracks where id = $1 and user_id = $2",
        id,
        viewer.id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Error::NotFound)?;
    let path = match file {
        File::Audio => row.audio_path,
        File::Art => row.album_art_path,
    };
    StorageKey::parse(&path.ok_or(Error::NotFound)?)
}
