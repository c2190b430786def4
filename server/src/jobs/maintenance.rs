//! Hourly housekeeping on its own queue: temporary files left by writes that a crash cut short.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use underway::{Job, To, ZonedSchedule};

use crate::{Result, storage::Storage};

pub const QUEUE: &str = "maintenance";
const SCHEDULE: &str = "@hourly";
/// Older than any write in progress could be: an upload streams at far more than 1 GiB an hour.
const STALE_AFTER: Duration = Duration::from_secs(6 * 3600);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Sweep;

pub type MaintenanceJob = Job<Sweep, Storage>;

pub async fn build(pool: &PgPool, storage: &Storage) -> Result<MaintenanceJob> {
    let job = Job::builder()
        .state(storage.clone())
        .step(|cx, Sweep| async move {
            let removed = cx.state.sweep_temp(STALE_AFTER).await.map_err(|err| {
                underway::task::Error::Retryable(format!("sweeping temporary files: {err}"))
            })?;
            tracing::info!(removed, "swept stale temporary files");
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
