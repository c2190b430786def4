//! Durable background work on underway's PostgreSQL queues.
//!
//! Each job kind lives in its own module and is built once at start. [`Jobs`] runs their workers and
//! schedulers until shutdown and tells `/health` whether they are still alive.
//!
//! A track whose audio is stored (an upload, or a download that just finished) queues its pipeline in the
//! same transaction: separation and analysis, in parallel, both from the mix. Analysis takes seconds and separation minutes, so the user reads tempo and
//! key long before the stems are done; and on the mix our tempo already scores 1.000 (Acc1, 60 files), so
//! waiting for a drum stem could not make it better (see the README's benchmarks).

pub mod analysis;
pub mod control;
pub mod download;
pub mod events;
pub mod llm_health;
pub mod maintenance;
pub mod processing;
mod row;
mod runner;

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use underway::Job;
use uuid::Uuid;

pub use self::row::Kind;
pub use self::runner::{Detail, Report};
use self::runner::{JobQueue, Settings, Work};
use crate::{
    Error, Result, config::Config, http_client::HttpClients, import::resolver::Resolver, settings,
    storage::Storage, vault::Vault,
};

/// How long shutdown waits for running steps before leaving them to be picked up again after restart.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Each running loop, by name.
type Loops = Vec<(&'static str, JoinHandle<()>)>;

/// Whether this process runs the queues' workers, or only queues work for others to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    Run,
    None,
}

/// What follows once a track has its audio: separation and analysis, as the owner's settings say.
#[derive(Clone)]
pub struct Pipeline {
    pub processing: processing::ProcessingQueue,
    pub analysis: analysis::AnalysisQueue,
    /// The server's model, for users who chose none or chose one that is gone.
    separation_model: Arc<str>,
    models_dir: Arc<std::path::Path>,
}

impl Pipeline {
    /// Queues what the owner's settings run on import for a track that has its audio, in the caller's
    /// transaction.
    pub async fn enqueue(&self, tx: &mut sqlx::PgConnection, track_id: Uuid, owner: Uuid) -> Result<()> {
        let settings = settings::get(&mut *tx, owner).await?;
        if settings.separate_on_import {
            self.separate(tx, track_id, owner, &settings).await?;
        }
        if settings.analyse_on_import {
            analysis::enqueue(&self.analysis, tx, track_id, owner).await?;
        }
        Ok(())
    }

    /// Queues a separation of the track with the owner's engine, model (or lalal.ai stems) and format, in
    /// the caller's transaction.
    pub async fn separate(
        &self,
        tx: &mut sqlx::PgConnection,
        track_id: Uuid,
        owner: Uuid,
        settings: &settings::Settings,
    ) -> Result<Uuid> {
        let model = settings
            .separation_model
            .as_deref()
            .filter(|model| self.models_dir.join(model).join("manifest.json").is_file())
            .unwrap_or(&self.separation_model);
        let options = processing::Options {
            format: settings.stem_format.clone(),
            cloud: (settings.separation_engine == "lalalai")
                .then(|| processing::Remote::new(settings.lalalai_stems.clone(), settings.lalalai_preview)),
        };
        processing::enqueue(&self.processing, tx, track_id, owner, model, &options).await
    }
}

/// Connections the running workers hold for as long as they run: two listeners for each queue's worker
/// (download, processing, analysis, maintenance, provider health), each scheduler's lock and listener
/// (maintenance, provider health), and the live updates' listener.
const HELD_CONNECTIONS: u32 = 2 * 5 + 2 * 2 + 1;
/// The fewest left beside them for requests and job steps.
const SPARE_CONNECTIONS: u32 = 4;

/// The job kinds that requests queue, and the running queue loops.
#[derive(Clone)]
pub struct Jobs {
    pub download: download::DownloadQueue,
    pub pipeline: Pipeline,
    workers: Workers,
    shutdown: CancellationToken,
    loops: Arc<std::sync::Mutex<Loops>>,
}

impl Jobs {
    /// Builds every job and, unless told not to, schedules the periodic ones and starts the workers.
    pub async fn start(
        pool: &PgPool,
        storage: &Storage,
        http: &HttpClients,
        vault: &Vault,
        config: &Config,
        workers: Workers,
    ) -> Result<Self> {
        let limits = sfa_audio::Limits {
            max_bytes: config.max_upload_bytes,
            ..sfa_audio::Limits::default()
        };
        let settings = Settings {
            heartbeat: Duration::from_secs(config.job_heartbeat_secs),
            stall: Duration::from_secs(config.job_stall_secs),
        };
        let cloud = processing::Cloud {
            client: http.services.clone(),
            base_url: config.lalalai_url.clone(),
            first_poll: Duration::from_millis(config.lalalai_poll_ms),
            vault: vault.clone(),
        };
        let separation = processing::Separation::new(storage, config.models_dir(), limits, cloud);
        let pipeline = Pipeline {
            processing: JobQueue::build(separation, pool, settings).await?,
            analysis: JobQueue::build(analysis::Analysis::new(storage, limits), pool, settings).await?,
            separation_model: config.separation_model.as_str().into(),
            models_dir: config.models_dir().into(),
        };
        let resolver = config
            .audio_resolver
            .as_deref()
            .map(Resolver::parse)
            .transpose()?;
        let download =
            download::Download::new(storage, http, resolver, config.max_upload_bytes, pipeline.clone());
        let jobs = Self {
            download: JobQueue::build(download, pool, settings).await?,
            pipeline,
            workers,
            shutdown: CancellationToken::new(),
            loops: Arc::default(),
        };
        if workers == Workers::None {
            return Ok(jobs);
        }
        let pool_size = pool.options().get_max_connections();
        if pool_size < HELD_CONNECTIONS + SPARE_CONNECTIONS {
            // Too small a pool does not fail: the jobs wait for connections forever. Say so at once.
            return Err(Error::Config(format!(
                "SFA_DB_MAX_CONNECTIONS is {pool_size}, but the job workers hold {HELD_CONNECTIONS} connections \
                 while they run and requests need more: set it to at least {}",
                HELD_CONNECTIONS + SPARE_CONNECTIONS
            )));
        }
        jobs.run_queue(&jobs.download, config.download_workers, settings.heartbeat);
        jobs.run_queue(
            &jobs.pipeline.processing,
            config.separation_workers,
            settings.heartbeat,
        );
        jobs.run_queue(
            &jobs.pipeline.analysis,
            config.analysis_workers,
            settings.heartbeat,
        );
        let maintenance = maintenance::build(pool, storage).await?;
        maintenance::schedule(&maintenance).await?;
        jobs.run_worker(&maintenance);
        jobs.run_scheduler(&maintenance);
        let llm_health = llm_health::build(pool, vault, &http.services).await?;
        llm_health::schedule(&llm_health).await?;
        jobs.run_worker(&llm_health);
        jobs.run_scheduler(&llm_health);
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

    /// Runs a pipeline queue's worker, `concurrency` jobs at a time, until [`Jobs::shutdown`]. New jobs
    /// arrive by notification; the worker also looks every `heartbeat` for jobs whose worker died, which
    /// nothing announces.
    fn run_queue<W: Work + Clone>(&self, queue: &JobQueue<W>, concurrency: u16, heartbeat: Duration) {
        let mut worker = queue.worker(concurrency.into());
        worker.set_shutdown_token(self.shutdown.clone());
        let every = jiff::Span::new().seconds(heartbeat.as_secs().max(1) as i64);
        self.spawn(W::KIND.queue(), async move {
            worker.run_every(every).await.map_err(|err| err.to_string())
        });
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

    /// True while every worker, scheduler and clean-up loop is running (or this process runs none).
    pub fn running(&self) -> bool {
        let loops = self.lock();
        self.workers == Workers::None
            || (!loops.is_empty() && loops.iter().all(|(_, handle)| !handle.is_finished()))
    }

    /// Cancelled when the queues shut down: for loops that live as long as they do.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
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
