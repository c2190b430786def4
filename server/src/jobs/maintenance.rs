//! Hourly housekeeping on its own queue: temporary files left by writes that a crash cut short, and
//! expired sessions, one-time tokens and rate-limit windows.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use underway::{Job, To, ZonedSchedule};

use crate::{Result, auth, rate_limit, storage::Storage};

pub const QUEUE: &str = "maintenance";
const SCHEDULE: &str = "@hourly";
/// Older than any write in progress could be: an upload streams at far more than 1 GiB an hour.
const STALE_AFTER: Duration = Duration::from_secs(6 * 3600);

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
            let sessions = auth::delete_expired_sessions(pool)
                .await
                .map_err(|err| retry("expired sessions", err))?;
            let tokens = auth::delete_expired_tokens(pool)
                .await
                .map_err(|err| retry("expired tokens", err))?;
            let windows = rate_limit::delete_expired(pool)
                .await
                .map_err(|err| retry("rate-limit windows", err))?;
            tracing::info!(files, sessions, tokens, windows, "housekeeping done");
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
