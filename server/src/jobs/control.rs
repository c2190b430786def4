//! What a user may do to their track's jobs: cancel them, retry them, queue a stage again, or delete the
//! track with everything it has. Every function takes who acts and answers [`Error::NotFound`] for a track
//! they may not touch: anyone else's, except that an administrator may cancel and retry any track's jobs.

use sqlx::PgPool;
use uuid::Uuid;

use super::Jobs;
use crate::{
    Error, Result,
    auth::User,
    storage::{Storage, StorageKey},
};

/// Who acts on a track's jobs.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// The track's owner; anyone else's track is not found.
    Owner(&'a User),
    /// An administrator acting on any user's track from the jobs list; a user who is not one finds nothing.
    Admin(&'a User),
}

/// Locks the track's row if `actor` may act on it, and returns its owner.
async fn reachable(db: &mut sqlx::PgConnection, actor: Actor<'_>, track_id: Uuid) -> Result<Uuid> {
    let (user, any_owner) = match actor {
        Actor::Owner(user) => (user, false),
        Actor::Admin(user) => (user, user.role.is_admin()),
    };
    sqlx::query_scalar!(
        "select user_id from tracks where id = $1 and (user_id = $2 or $3) for update",
        track_id,
        user.id,
        any_owner
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound)
}

/// Cancels the track's queued and running jobs. Running work stops at its next chunk; what it finished
/// stays, so a retry resumes there. Returns how many jobs were cancelled.
pub async fn cancel(pool: &PgPool, actor: Actor<'_>, track_id: Uuid) -> Result<i64> {
    let mut tx = pool.begin().await?;
    reachable(&mut tx, actor, track_id).await?;
    let cancelled = sqlx::query_scalar!(
        r#"with download as (
               update download_jobs set status = 'cancelled', error = null
               where track_id = $1 and status in ('queued', 'downloading') returning id
           ), processing as (
               update processing_jobs set status = 'cancelled', error = null
               where track_id = $1 and status in ('queued', 'processing') returning id
           ), analysis as (
               update analysis_jobs set status = 'cancelled', error = null
               where track_id = $1 and status in ('queued', 'processing') returning id
           )
           select (select count(*) from download) + (select count(*) from processing)
                  + (select count(*) from analysis) as "count!""#,
        track_id
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(cancelled)
}

/// Queues again the track's latest download, separation and analysis if they failed or were cancelled
/// (a download only while the track still has no audio). A separation resumes from its last finished
/// chunk. Returns how many jobs were queued.
pub async fn retry(jobs: &Jobs, pool: &PgPool, actor: Actor<'_>, track_id: Uuid) -> Result<usize> {
    let mut tx = pool.begin().await?;
    reachable(&mut tx, actor, track_id).await?;
    let download = sqlx::query_scalar!(
        "update download_jobs set status = 'queued', error = null, attempts = 0, progress = 0, bytes_done = 0
         where id = (select id from download_jobs where track_id = $1 order by inserted_at desc limit 1)
           and status in ('failed', 'cancelled')
           and (select audio_path from tracks where id = $1) is null
         returning id",
        track_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let processing = sqlx::query_scalar!(
        "update processing_jobs set status = 'queued', error = null, attempts = 0
         where id = (select id from processing_jobs where track_id = $1 order by inserted_at desc limit 1)
           and status in ('failed', 'cancelled')
         returning id",
        track_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let analysis = sqlx::query_scalar!(
        "update analysis_jobs set status = 'queued', error = null, attempts = 0, progress = 0
         where id = (select id from analysis_jobs where track_id = $1 order by inserted_at desc limit 1)
           and status in ('failed', 'cancelled')
         returning id",
        track_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = download {
        jobs.download.enqueue(&mut tx, id).await?;
    }
    if let Some(id) = processing {
        jobs.pipeline.processing.enqueue(&mut tx, id).await?;
    }
    if let Some(id) = analysis {
        jobs.pipeline.analysis.enqueue(&mut tx, id).await?;
    }
    tx.commit().await?;
    let queued = [download, processing, analysis].iter().flatten().count();
    if queued == 0 {
        return Err(Error::Invalid(
            "Nothing to retry: this track has no failed or cancelled job.".into(),
        ));
    }
    Ok(queued)
}

/// Deletes the track, its jobs, stems and analysis, then its files. Work still running on it notices
/// that its row is gone and stops; a file left behind by a crash here is swept later as an orphan.
pub async fn delete_track(pool: &PgPool, storage: &Storage, owner: &User, track_id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    reachable(&mut tx, Actor::Owner(owner), track_id).await?;
    let files = sqlx::query_scalar!(
        r#"select path as "path!" from (
               select audio_path as path from tracks where id = $1
               union all select album_art_path from tracks where id = $1
               union all select output_path from processing_jobs where track_id = $1
           ) files where path is not null"#,
        track_id
    )
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query!("delete from tracks where id = $1", track_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    for path in files {
        let removed = match StorageKey::parse(&path) {
            Ok(key) if key.as_str().starts_with("stems/") => storage.delete_folder(&key).await,
            Ok(key) => storage.delete(&key).await,
            Err(err) => Err(err),
        };
        if let Err(err) = removed {
            tracing::warn!(error = %err, %track_id, "a deleted track's file stays for the orphan sweep");
        }
    }
    Ok(())
}

/// A stage a user can run again on a track that has its audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Separation,
    Analysis,
}

/// Queues a new separation (with the owner's current model and format) or analysis of the owner's track.
/// Refused while that stage is still queued or running, or while the track has no audio.
pub async fn run_stage(jobs: &Jobs, pool: &PgPool, owner: &User, track_id: Uuid, stage: Stage) -> Result<()> {
    let mut tx = pool.begin().await?;
    reachable(&mut tx, Actor::Owner(owner), track_id).await?;
    let state = sqlx::query!(
        r#"select t.audio_path is not null as "has_audio!",
                  exists (select 1 from processing_jobs where track_id = t.id and status in ('queued', 'processing'))
                      as "separating!",
                  exists (select 1 from analysis_jobs where track_id = t.id and status in ('queued', 'processing'))
                      as "analysing!"
           from tracks t where t.id = $1"#,
        track_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if !state.has_audio {
        return Err(Error::Invalid("This track has no audio yet.".into()));
    }
    match stage {
        Stage::Separation if state.separating => {
            return Err(Error::Invalid("This track is being separated already.".into()));
        }
        Stage::Analysis if state.analysing => {
            return Err(Error::Invalid("This track is being analysed already.".into()));
        }
        Stage::Separation => {
            let settings = crate::settings::get(&mut *tx, owner.id).await?;
            jobs.pipeline
                .separate(&mut tx, track_id, owner.id, &settings)
                .await?;
        }
        Stage::Analysis => {
            super::analysis::enqueue(&jobs.pipeline.analysis, &mut tx, track_id, owner.id).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
