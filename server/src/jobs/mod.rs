//! Durable background work on underway's PostgreSQL queues.
//!
//! Each job kind lives in its own module and is built once at start. [`Jobs`] runs their workers and
//! schedulers until shutdown and tells `/health` whether they are still alive.

pub mod analysis;
pub mod maintenance;

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use underway::Job;

use crate::{Result, config::Config, storage::Storage};

/// How long shutdown waits for running steps before leaving them to be picked up again after restart.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Each running loop, by name.
type Loops = Vec<(&'static str, JoinHandle<()>)>;

/// The job kinds that requests queue, and the running queue loops.
#[derive(Clone)]
pub struct Jobs {
    pub analysis: analysis::AnalysisJob,
    shutdown: CancellationToken,
    loops: Arc<std::sync::Mutex<Loops>>,
}

impl Jobs {
    /// Builds every job, schedules the periodic ones and starts their workers.
    pub async fn start(pool: &PgPool, storage: &Storage, config: &Config) -> Result<Self> {
        let limits = sfa_audio::Limits {
            max_bytes: config.max_upload_bytes,
            ..sfa_audio::Limits::default()
        };
        let jobs = Self {
            analysis: analysis::build(pool, storage, limits).await?,
            shutdown: CancellationToken::new(),
            loops: Arc::default(),
        };
        jobs.run_worker(&jobs.analysis);
        let maintenance = maintenance::build(pool, storage).await?;
        maintenance::schedule(&maintenance).await?;
        jobs.run_worker(&maintenance);
        jobs.run_scheduler(&maintenance);
        let pool = pool.clone();
        let shutdown = jobs.shutdown.clone();
        // underway only deletes expired task rows while this loop runs. Stopping it midway loses nothing.
        jobs.spawn("underway-task-deletion", async move {
            tokio::select! {
                outcome = underway::queue::run_deletion(&pool) => outcome.map_err(|err| err.to_string()),
                () = shutdown.cancelled() => Ok(()),
            }
        });
        Ok(jobs)
    }

    /// Runs the job's worker until [`Jobs::shutdown`], which lets it finish the step in hand.
    fn run_worker<I, S>(&self, job: &Job<I, S>)
    where
        I: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
        S: Clone + Send + Sync + 'static,
    {
        let mut worker = job.worker();
        worker.set_shutdown_token(self.shutdown.clone());
        self.spawn("worker", async move {
            worker.run().await.map_err(|err| err.to_string())
        });
    }

    /// Runs the scheduler that enqueues a periodic job. It holds a database connection for its lock all
    /// the time, so only periodic jobs get one.
    fn run_scheduler<I, S>(&self, job: &Job<I, S>)
    where
        I: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
        S: Clone + Send + Sync + 'static,
    {
        let mut scheduler = job.scheduler();
        scheduler.set_shutdown_token(self.shutdown.clone());
        self.spawn("scheduler", async move {
            scheduler.run().await.map_err(|err| err.to_string())
        });
    }

    fn spawn(&self, name: &'static str, work: impl Future<Output = Result<(), String>> + Send + 'static) {
        let handle = tokio::spawn(async move {
            match work.await {
                Ok(()) => tracing::debug!(name, "queue loop finished"),
                Err(error) => tracing::error!(name, %error, "queue loop stopped"),
            }
        });
        self.lock().push((name, handle));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Loops> {
        // A panic while holding this lock cannot leave the list half-changed; keep going.
        self.loops
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// True while every worker, scheduler and clean-up loop is running.
    pub fn running(&self) -> bool {
        let loops = self.lock();
        !loops.is_empty() && loops.iter().all(|(_, handle)| !handle.is_finished())
    }

    /// Asks every loop to stop, without waiting.
    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Asks every loop to stop and waits a little for running steps to finish; a step cut short is retried
    /// after the next start, since its task row was never marked done.
    pub async fn shutdown(&self) {
        self.begin_shutdown();
        let loops = std::mem::take(&mut *self.lock());
        for (name, handle) in loops {
            if tokio::time::timeout(SHUTDOWN_GRACE, handle).await.is_err() {
                tracing::warn!(name, "queue loop did not stop in time");
            }
        }
    }
}
