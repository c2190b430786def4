//! Tracks: the user's songs, and the queries that only ever reach the caller's own.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::{Error, Result, auth::User, storage::StorageKey};

/// Where a track came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    Spotify,
    #[default]
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
#[derive(Debug, Clone, Default)]
pub struct NewTrack {
    pub title: String,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub duration_seconds: Option<i32>,
    pub source: Source,
    pub audio: Option<StorageKey>,
    /// Cover art from the file's tags, stored by us.
    pub art: Option<StorageKey>,
    /// Cover art elsewhere (Spotify's image server).
    pub art_url: Option<String>,
    pub spotify_id: Option<String>,
    pub spotify_url: Option<String>,
    pub isrc: Option<String>,
}

/// A track as the library lists it: the row, its latest separation and analysis jobs, the stems and the
/// headline results.
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
    pub has_audio: bool,
    pub inserted_at: DateTime<Utc>,
    pub download_status: Option<String>,
    pub download_progress: Option<i32>,
    pub download_error: Option<String>,
    pub bytes_done: Option<i64>,
    pub bytes_total: Option<i64>,
    pub analysis_status: Option<String>,
    pub analysis_progress: Option<i32>,
    pub analysis_error: Option<String>,
    pub tempo: Option<f64>,
    pub key: Option<String>,
    /// The key on the Camelot wheel (`8A`), as DJs mix by it.
    pub camelot: Option<String>,
    pub separation_status: Option<String>,
    /// `local` or `lalalai`.
    pub separation_engine: Option<String>,
    pub separation_progress: Option<i32>,
    pub separation_error: Option<String>,
    pub chunks_done: Option<i32>,
    pub chunks_total: Option<i32>,
    /// The latest separation's stems: vocals, drums, bass, other, then any others.
    pub stems: Vec<String>,
    /// How many tracks matched the question this one answered, before the limit.
    pub matched: i64,
}

/// What the library asks for: words that must each appear in the title, artist or album, a stage, an order
/// and how many rows. Stages and orders are named as the page names them; an unknown name is the default.
#[derive(Debug, Clone)]
pub struct LibraryQuery {
    pub search: String,
    /// `all`, `working`, `ready`, `stopped` (failed or cancelled) or `no-audio`.
    pub stage: String,
    /// `newest`, `oldest`, `title`, `artist`, `tempo` or `key` (round the Camelot wheel).
    pub sort: String,
    pub limit: i64,
}

impl Default for LibraryQuery {
    fn default() -> Self {
        Self {
            search: String::new(),
            stage: "all".into(),
            sort: "newest".into(),
            limit: MAX_ROWS,
        }
    }
}

/// The most rows one look at the library returns.
pub const MAX_ROWS: i64 = 1000;

/// One look at the library: the rows asked for, how many tracks match, and how many there are in all.
#[derive(Debug, Clone)]
pub struct LibraryPage {
    pub tracks: Vec<Summary>,
    pub matched: i64,
    pub total: i64,
}

/// Inserts the track for `owner`. Runs in the caller's transaction, so that the jobs that follow are
/// queued with it or not at all.
pub async fn insert(db: impl PgExecutor<'_>, owner: Uuid, track: &NewTrack) -> Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query!(
        "insert into tracks (id, user_id, title, artist, album, duration, source, audio_path, album_art_path,
             album_art_url, spotify_id, spotify_url, isrc)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        id,
        owner,
        track.title,
        track.artist,
        track.album,
        track.duration_seconds,
        track.source.as_str(),
        track.audio.as_ref().map(StorageKey::as_str),
        track.art.as_ref().map(StorageKey::as_str),
        track.art_url,
        track.spotify_id,
        track.spotify_url,
        track.isrc
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// The viewer's tracks that answer `query`, in its order.
pub async fn library(pool: &PgPool, viewer: &User, query: &LibraryQuery) -> Result<LibraryPage> {
    library_of(pool, viewer.id, query).await
}

/// Any user's library: only for [`crate::admin::library_of`], which checks who asks.
pub(crate) async fn library_of(pool: &PgPool, owner: Uuid, query: &LibraryQuery) -> Result<LibraryPage> {
    let tracks = summaries(pool, owner, None, query).await?;
    let total = sqlx::query_scalar!(
        r#"select count(*) as "count!" from tracks where user_id = $1"#,
        owner
    )
    .fetch_one(pool)
    .await?;
    Ok(LibraryPage {
        matched: tracks.first().map_or(0, |track| track.matched),
        tracks,
        total,
    })
}

/// The owner's tracks that answer `query` (only the one with id `only`, when given). The stage tests read
/// each kind's latest job; tracks without the value sorted by go last, and the newest first among equals.
/// Names sort by Unicode's collation (ICU's root locale), so "étude" sits among the e's.
async fn summaries(
    pool: &PgPool,
    owner: Uuid,
    only: Option<Uuid>,
    query: &LibraryQuery,
) -> Result<Vec<Summary>> {
    let words: Vec<String> = query.search.split_whitespace().map(str::to_owned).collect();
    Ok(sqlx::query_as!(
        Summary,
        r#"select t.id, t.title, t.artist, t.album, t.album_art_url,
                  t.album_art_path is not null as "has_art_file!", t.duration, t.source,
                  t.audio_path is not null as "has_audio!",
                  t.inserted_at as "inserted_at: DateTime<Utc>",
                  d.status as "download_status?", d.progress as "download_progress?", d.error as "download_error?",
                  d.bytes_done as "bytes_done?", d.bytes_total as "bytes_total?",
                  a.status as "analysis_status?", a.progress as "analysis_progress?", a.error as "analysis_error?",
                  r.tempo as "tempo?", r.key as "key?", r.features->'key'->>'camelot' as "camelot?",
                  p.status as "separation_status?", p.engine as "separation_engine?",
                  p.progress as "separation_progress?",
                  p.error as "separation_error?", p.chunks_done as "chunks_done?", p.chunks_total as "chunks_total?",
                  array(select s.stem_type from stems s where s.processing_job_id = p.id
                        order by stem_rank(s.stem_type), s.stem_type) as "stems!",
                  count(*) over () as "matched!"
           from tracks t
           left join lateral (
               select status, progress, error, bytes_done, bytes_total from download_jobs
               where track_id = t.id order by inserted_at desc limit 1
           ) d on true
           left join lateral (
               select id, status, progress, error from analysis_jobs
               where track_id = t.id order by inserted_at desc limit 1
           ) a on true
           left join analysis_results r on r.analysis_job_id = a.id
           left join lateral (
               select id, status, engine, progress, error, chunks_done, chunks_total from processing_jobs
               where track_id = t.id order by inserted_at desc limit 1
           ) p on true
           where t.user_id = $1 and ($2::uuid is null or t.id = $2)
             and not exists (
                 select 1 from unnest($3::text[]) word
                 where strpos(lower(concat_ws(' ', t.title, t.artist, t.album)), lower(word)) = 0)
             and coalesce(case $4::text
                 when 'working' then d.status in ('queued', 'downloading') or a.status in ('queued', 'processing')
                     or p.status in ('queued', 'processing')
                 when 'ready' then p.status = 'completed' and a.status = 'completed'
                 when 'stopped' then (t.audio_path is null and d.status in ('failed', 'cancelled'))
                     or a.status in ('failed', 'cancelled') or p.status in ('failed', 'cancelled')
                 when 'no-audio' then t.audio_path is null
                 else true end, false)
           order by
               case when $5 = 'title' then lower(t.title) end collate "und-x-icu",
               case when $5 = 'artist' then lower(t.artist) end collate "und-x-icu",
               case when $5 = 'tempo' then r.tempo end,
               case when $5 = 'key' then substring(r.features->'key'->>'camelot' from '^[0-9]+')::int end,
               case when $5 = 'key' then right(r.features->'key'->>'camelot', 1) end,
               case when $5 = 'oldest' then t.inserted_at end,
               t.inserted_at desc, t.id
           limit $6"#,
        owner,
        only,
        &words,
        query.stage,
        query.sort,
        query.limit.clamp(1, MAX_ROWS)
    )
    .fetch_all(pool)
    .await?)
}

/// One of the viewer's tracks as the library lists it; someone else's, or none, is [`Error::NotFound`].
pub async fn get(pool: &PgPool, viewer: &User, id: Uuid) -> Result<Summary> {
    summaries(pool, viewer.id, Some(id), &LibraryQuery::default())
        .await?
        .pop()
        .ok_or(Error::NotFound)
}

/// The analysis of the track's latest analysis job that finished, as `analysis_results.features` holds
/// it; `None` before one has.
pub async fn analysis(pool: &PgPool, viewer: &User, id: Uuid) -> Result<Option<sfa_audio::Analysis>> {
    let features = sqlx::query_scalar!(
        "select r.features from analysis_results r join tracks t on t.id = r.track_id
         where r.track_id = $1 and t.user_id = $2
         order by r.inserted_at desc limit 1",
        id,
        viewer.id
    )
    .fetch_optional(pool)
    .await?;
    features
        .map(serde_json::from_value)
        .transpose()
        .map_err(|err| Error::Internal(format!("stored analysis of {id} does not parse: {err}")))
}

/// What a track's exports are called: `Artist - Title`, safe as a file name.
pub async fn export_name(pool: &PgPool, viewer: &User, id: Uuid) -> Result<String> {
    let row = sqlx::query!(
        "select title, artist from tracks where id = $1 and user_id = $2",
        id,
        viewer.id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Error::NotFound)?;
    let name = match row.artist.filter(|artist| !artist.trim().is_empty()) {
        Some(artist) => format!("{artist} - {}", row.title),
        None => row.title,
    };
    Ok(crate::zip::safe_name(&name))
}

/// The stems of the track's latest separation, in mixer order: (name, stored file).
pub async fn stems(pool: &PgPool, viewer: &User, id: Uuid) -> Result<Vec<(String, StorageKey)>> {
    let rows = sqlx::query!(
        "select s.stem_type, s.file_path from stems s
         where s.processing_job_id = (
             select p.id from processing_jobs p join tracks t on t.id = p.track_id
             where p.track_id = $1 and t.user_id = $2
             order by p.inserted_at desc limit 1)
         order by stem_rank(s.stem_type), s.stem_type",
        id,
        viewer.id
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| Ok((row.stem_type, StorageKey::parse(&row.file_path)?)))
        .collect()
}

/// The viewer's Spotify ids among `ids`: the songs an import would skip as already in the library.
pub async fn spotify_ids_present(pool: &PgPool, viewer: Uuid, ids: &[String]) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        r#"select spotify_id as "spotify_id!" from tracks where user_id = $1 and spotify_id = any($2)"#,
        viewer,
        ids
    )
    .fetch_all(pool)
    .await?)
}

/// Succeeds when the track is the viewer's and still has no audio, the only state a file can be
/// attached in.
pub async fn awaiting_audio(pool: &PgPool, viewer: &User, id: Uuid) -> Result<()> {
    let has_audio = sqlx::query_scalar!(
        r#"select audio_path is not null as "has_audio!" from tracks where id = $1 and user_id = $2"#,
        id,
        viewer.id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Error::NotFound)?;
    if has_audio {
        return Err(Error::Invalid("This track already has its audio.".into()));
    }
    Ok(())
}

/// Gives a track waiting for audio the file at `audio`, in the caller's transaction (which then queues
/// the pipeline). What the file's tags say fills what the track does not know yet; a link's track takes
/// its title from them too, having had only the link's file name. Any download still looking for this
/// track's audio is cancelled: the file is here. Returns the track's title.
pub async fn set_audio(
    tx: &mut sqlx::PgConnection,
    id: Uuid,
    audio: &StorageKey,
    intake: &crate::intake::Intake,
) -> Result<String> {
    let title = sqlx::query_scalar!(
        "update tracks set audio_path = $2, duration = $3, album_art_path = coalesce(album_art_path, $4),
             title = case when source = 'url' then coalesce($5, title) else title end,
             artist = coalesce(artist, $6), album = coalesce(album, $7)
         where id = $1 and audio_path is null
         returning title",
        id,
        audio.as_str(),
        intake.duration_seconds,
        intake.art.as_ref().map(StorageKey::as_str),
        intake.title,
        intake.artist,
        intake.album
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::Invalid("This track already has its audio.".into()))?;
    sqlx::query!(
        "update download_jobs set status = 'cancelled', error = null
         where track_id = $1 and status in ('queued', 'downloading')",
        id
    )
    .execute(&mut *tx)
    .await?;
    Ok(title)
}

/// Which of a track's files.
#[derive(Debug, Clone)]
pub enum File {
    Audio,
    Art,
    /// A stem of the track's latest finished separation, by its name (`vocals`).
    Stem(String),
}

/// The storage key of one of a track's files, if the viewer owns the track and it has that file;
/// otherwise [`Error::NotFound`], whether the track is someone else's or does not exist.
pub async fn file_key(pool: &PgPool, viewer: &User, id: Uuid, file: &File) -> Result<StorageKey> {
    let path = match file {
        File::Audio | File::Art => {
            let row = sqlx::query!(
                "select audio_path, album_art_path from tracks where id = $1 and user_id = $2",
                id,
                viewer.id
            )
            .fetch_optional(pool)
            .await?
            .ok_or(Error::NotFound)?;
            if matches!(file, File::Audio) {
                row.audio_path
            } else {
                row.album_art_path
            }
        }
        File::Stem(stem) => {
            sqlx::query_scalar!(
                "select s.file_path from stems s join tracks t on t.id = s.track_id
                 where s.track_id = $1 and t.user_id = $2 and s.stem_type = $3
                 order by s.inserted_at desc limit 1",
                id,
                viewer.id,
                stem
            )
            .fetch_optional(pool)
            .await?
        }
    };
    StorageKey::parse(&path.ok_or(Error::NotFound)?)
}

/// A track of the viewer's that mixes with another: its readings, and how it meets the other's key and tempo.
#[derive(Debug, Clone)]
pub struct MixCandidate {
    pub id: Uuid,
    pub title: String,
    pub artist: Option<String>,
    pub tempo: f64,
    pub camelot: String,
    /// 0 for the same key, 1 for a neighbour on the wheel or the relative major or minor.
    pub key_steps: u8,
    /// Played as it is (1), at double (2) or half (0.5) time.
    pub tempo_factor: f64,
}

/// How far apart two tempos may be and still blend, as a fraction.
pub const MIX_TEMPO_TOLERANCE: f64 = 0.06;
/// How many candidates a question about the next track lists.
pub const MIX_CANDIDATES: usize = 8;

/// The viewer's analysed tracks within one step of track `id`'s key on the Camelot wheel whose tempo meets
/// its own (directly, or at half or double time, within [`MIX_TEMPO_TOLERANCE`]): the closest key first,
/// then the closest tempo.
pub async fn mix_candidates(pool: &PgPool, viewer: &User, id: Uuid) -> Result<Vec<MixCandidate>> {
    use sfa_features::harmony::{key_distance, tempo_factor};
    let rows = sqlx::query!(
        r#"select t.id, t.title, t.artist, r.tempo as "tempo?", r.features->'key'->>'camelot' as "camelot?"
           from tracks t
           left join lateral (
               select tempo, features from analysis_results where track_id = t.id
               order by inserted_at desc limit 1
           ) r on true
           where t.user_id = $1"#,
        viewer.id
    )
    .fetch_all(pool)
    .await?;
    let subject = rows.iter().find(|row| row.id == id).ok_or(Error::NotFound)?;
    let (Some(bpm), Some(key)) = (subject.tempo, subject.camelot.clone()) else {
        return Err(Error::Invalid(
            "This track needs its tempo and key first: wait for its analysis.".into(),
        ));
    };
    let mut candidates: Vec<MixCandidate> = rows
        .iter()
        .filter(|row| row.id != id)
        .filter_map(|row| {
            let (tempo, camelot) = (row.tempo?, row.camelot.clone()?);
            Some(MixCandidate {
                key_steps: key_distance(&key, &camelot)?,
                tempo_factor: tempo_factor(bpm, tempo, MIX_TEMPO_TOLERANCE)?,
                id: row.id,
                title: row.title.clone(),
                artist: row.artist.clone(),
                tempo,
                camelot,
            })
        })
        .collect();
    candidates.sort_by(|a, b| {
        let off = |c: &MixCandidate| (c.tempo * c.tempo_factor - bpm).abs();
        a.key_steps
            .cmp(&b.key_steps)
            .then(off(a).total_cmp(&off(b)))
            .then_with(|| a.title.cmp(&b.title))
    });
    candidates.truncate(MIX_CANDIDATES);
    Ok(candidates)
}
