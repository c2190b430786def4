//! Hourly housekeeping on its own queue: temporary files left by writes that a crash cut short, files no
//! row refers to any more, job rows that no queued work will ever finish, and expired sessions, one-time
//! tokens and rate-limit windows.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use underway::{Job, To, ZonedSchedule};

use crate::{
    Result, auth, rate_limit,
    storage::{Storage, StorageKey},
};

pub const QUEUE: &str = "maintenance";
const SCHEDULE: &str = "@hourly";
/// Older than any write in progress could be: an upload streams at far more than 1 GiB an hour.
const STALE_AFTER: Duration = Duration::from_secs(6 * 3600);
/// A stored file is written before the row that names it commits; give that row time to appear.
const ORPHAN_AFTER: Duration = Duration::from_secs(3600);
/// A job row is only judged abandoned when it has not changed for this long.
const ABANDONED_AFTER_SECS: f64 = 600.0;
/// Storage areas whose entries rows refer to, one entry per row.
const AREAS: [&str; 3] = ["audio", "art", "stems"];

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Sweep;

#[derive(Clone)]
pub struct Housekeeping {
    storage: Storage,
    pool: PgPool,
}

pub type MaintenanceJob = Job<Sweep, Housekeeping>;

pub async fn build(pool: &PgPool, storage: &Storage) -> Result<MaintenanceJob> {
    let state = Housekeeping {
        storage: storage.clone(),
        pool: pool.clone(),
    };
    let job = Job::builder()
        .state(state)
        .step(|cx, Sweep| async move {
            let retry =
                |what: &str, err: crate::Error| underway::task::Error::Retryable(format!("{what}: {err}"));
            let files = cx
                .state
                .storage
                .sweep_temp(STALE_AFTER)
                .await
                .map_err(|err| retry("sweeping temporary files", err))?;
            let pool = &cx.state.pool;
            let orphans = sweep_orphans(pool, &cx.state.storage)
                .await
                .map_err(|err| retry("orphaned files", err))?;
            let abandoned = fail_abandoned(pool)
                .await
                .map_err(|err| retry("abandoned jobs", err))?;
            let sessions = auth::delete_expired_sessions(pool)
                .await
                .map_err(|err| retry("expired sessions", err))?;
            let tokens = auth::delete_expired_tokens(pool)
                .await
                .map_err(|err| retry("expired tokens", err))?;
            let windows = rate_limit::delete_expired(pool)
                .await
                .map_err(|err| retry("rate-limit windows", err))?;
            tracing::info!(
                files,
                orphans,
                abandoned,
                sessions,
                tokens,
                windows,
                "housekeeping done"
            );
            To::done()
        })
        .name(QUEUE)
        .pool(pool.clone())
        .build()
        .await?;
    Ok(job)
}

pub async fn schedule(job: &MaintenanceJob) -> Result<()> {
    let schedule = ZonedSchedule::new(SCHEDULE, "UTC")
        .map_err(|err| crate::Error::Config(format!("maintenance schedule {SCHEDULE:?}: {err}")))?;
    job.schedule(&schedule, &Sweep).await?;
    Ok(())
}

/// Deletes stored files (and stem folders) that no row names and that are old enough not to belong to an
/// import still in progress. Returns how many went.
pub async fn sweep_orphans(pool: &PgPool, storage: &Storage) -> Result<usize> {
    let mut removed = 0;
    for area in AREAS {
        let keys: Vec<String> = storage
            .older_entries(area, ORPHAN_AFTER)
            .await?
            .iter()
            .map(|key| key.as_str().to_owned())
            .collect();
        if keys.is_empty() {
            continue;
        }
        let referenced = sqlx::query_scalar!(
            r#"select path as "path!" from (
                   select audio_path as path from tracks where audio_path = any($1)
                   union all select album_art_path from tracks where album_art_path = any($1)
                   union all select output_path from processing_jobs where output_path = any($1)
               ) used where path is not null"#,
            &keys
        )
        .fetch_all(pool)
        .await?;
        for key in keys.iter().filter(|key| !referenced.contains(key)) {
            let key = StorageKey::parse(key)?;
            if area == "stems" {
                storage.delete_folder(&key).await?;
            } else {
                storage.delete(&key).await?;
            }
            tracing::info!(%key, "removed an orphaned file");
            removed += 1;
        }
    }
    Ok(removed)
}

/// Fails job rows that say queued or running but have no task left in their queue to run them (a worker
/// that died for good, a queue cleared by hand), so no row claims work that nothing does.
pub async fn fail_abandoned(pool: &PgPool) -> Result<u64> {
    let message = "This job was interrupted and nothing is running it any more. Retry it.";
    let download = sqlx::query!(
        "update download_jobs j set status = 'failed', error = $1
         where status in ('queued', 'downloading') and updated_at < now() - make_interval(secs => $2)
           and not exists (
               select 1 from underway.task t
               where t.task_queue_name = 'download' and t.input->>'job_id' = j.id::text
                 and t.state in ('pending', 'in_progress')
           )",
        message,
        ABANDONED_AFTER_SECS
    )
    .execute(pool)
    .await?;
    let processing = sqlx::query!(
        "update processing_jobs j set status = 'failed', error = $1
         where status in ('queued', 'processing') and updated_at < now() - make_interval(secs => $2)
           and not exists (
               select 1 from underway.task t
               where t.task_queue_name = 'processing' and t.input->>'job_id' = j.id::text
                 and t.state in ('pending', 'in_progress')
           )",
        message,
        ABANDONED_AFTER_SECS
    )
    .execute(pool)
    .await?;
    let analysis = sqlx::query!(
        "update analysis_jobs j set status = 'failed', error = $1
         where status in ('queued', 'processing') and updated_at < now() - make_interval(secs => $2)
           and not exists (
               select 1 from underway.task t
               where t.task_queue_name = 'analysis' and t.input->>'job_id' = j.id::text
                 and t.state in ('pending', 'in_progress')
           )",
        message,
        ABANDONED_AFTER_SECS
    )
    .execute(pool)
    .await?;
    Ok(download.rows_affected() + processing.rows_affected() + analysis.rows_affected())
}
