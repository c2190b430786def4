//! What every pipeline job shares: an underway task that keeps its row true, retries what may pass, and
//! watches long CPU work for cancels and stalls.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, Transaction};
use underway::{
    Task,
    task::{Error as TaskError, Result as TaskResult, RetryPolicy},
};
use uuid::Uuid;

use super::row::{self, Kind};
use crate::{Error, Result};

/// Progress is written at most this often: the UI needs a moving bar, not a write per chunk.
const PROGRESS_EVERY: Duration = Duration::from_millis(300);
/// How often running work looks at its row for a cancel.
const CANCEL_POLL: Duration = Duration::from_secs(1);
/// No fixed limit on a run: the stall watchdog ends work that stops moving. underway needs some
/// timeout, so it gets one no real job reaches.
const NO_TIMEOUT_DAYS: i64 = 30;

/// What is queued: the id of the job's row, which holds everything else.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobInput {
    pub job_id: Uuid,
}

/// One kind of pipeline work.
pub trait Work: Send + Sync + 'static {
    const KIND: Kind;
    /// How many runs a job gets in all, counting those a crash cut short.
    const MAX_ATTEMPTS: i32;

    /// Does the job; the row is already `processing`. Finishing it (results, `completed`) is the work's
    /// own, in one transaction with its results.
    fn run(&self, job_id: Uuid, supervisor: Supervisor) -> impl Future<Output = Result<()>> + Send;
}

/// How a job's runs are supervised, from config.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub heartbeat: Duration,
    pub stall: Duration,
}

/// The underway task for one kind of work.
pub struct Runner<W> {
    work: W,
    pool: PgPool,
    settings: Settings,
}

impl<W: Work> Runner<W> {
    pub fn new(work: W, pool: &PgPool, settings: Settings) -> Self {
        Self {
            work,
            pool: pool.clone(),
            settings,
        }
    }

    /// Settles the row after a run that did not succeed, and tells underway whether to try again.
    async fn settle(&self, job_id: Uuid, attempt: i32, err: Error) -> TaskError {
        let pool = &self.pool;
        let recorded = if err.is_users() {
            tracing::info!(error = %err, %job_id, queue = W::KIND.queue(), "job failed");
            row::fail(pool, W::KIND, job_id, &err.public_message()).await
        } else if attempt >= W::MAX_ATTEMPTS {
            tracing::error!(error = %err, %job_id, attempt, queue = W::KIND.queue(), "job failed for good");
            let message = match &err {
                Error::Unavailable(why) => format!("{why} Tried {attempt} times; retry it later."),
                _ => format!(
                    "This failed {attempt} times because of a problem on our side. Retry it later; if it \
                     keeps failing, tell the server's administrator."
                ),
            };
            row::fail(pool, W::KIND, job_id, &message).await
        } else {
            tracing::warn!(error = %err, %job_id, attempt, queue = W::KIND.queue(), "job failed; retrying");
            let message = match &err {
                Error::Unavailable(why) => format!("{why} Trying again shortly (attempt {attempt})."),
                _ => format!(
                    "Attempt {attempt} failed because of a problem on our side; trying again shortly."
                ),
            };
            return match row::requeue(pool, W::KIND, job_id, &message).await {
                Ok(()) => TaskError::Retryable(err.to_string()),
                Err(db) => TaskError::Retryable(format!("{err}; then recording it: {db}")),
            };
        };
        if let Err(db) = recorded {
            tracing::error!(error = %db, %job_id, "cannot record a failed job");
        }
        TaskError::Fatal(err.to_string())
    }
}

impl<W: Work> Task for Runner<W> {
    type Input = JobInput;
    type Output = ();

    async fn execute(&self, _tx: Transaction<'_, Postgres>, input: JobInput) -> TaskResult<()> {
        let job_id = input.job_id;
        let attempt = match row::begin(&self.pool, W::KIND, job_id).await {
            Ok(Some(attempt)) => attempt,
            Ok(None) => return Ok(()),
            Err(err) => return Err(TaskError::Retryable(err.to_string())),
        };
        if attempt > W::MAX_ATTEMPTS {
            // Runs cut short by crashes were counted without a chance to settle.
            return Err(self
                .settle(job_id, attempt, Error::Internal("too many attempts".into()))
                .await);
        }
        let supervisor = Supervisor {
            pool: self.pool.clone(),
            kind: W::KIND,
            job_id,
            stall: self.settings.stall,
        };
        match self.work.run(job_id, supervisor).await {
            Ok(()) | Err(Error::Cancelled) => Ok(()),
            Err(err) => Err(self.settle(job_id, attempt, err).await),
        }
    }

    fn retry_policy(&self) -> RetryPolicy {
        // One more than ours, so that our own count always decides (see `execute`).
        RetryPolicy::builder()
            .max_attempts(W::MAX_ATTEMPTS + 1)
            .initial_interval_ms(2_000)
            .max_interval_ms(120_000)
            .backoff_coefficient(3.0)
            .build()
    }

    fn timeout(&self) -> jiff::Span {
        jiff::Span::new().days(NO_TIMEOUT_DAYS)
    }

    fn heartbeat(&self) -> jiff::Span {
        jiff::Span::new().seconds(self.settings.heartbeat.as_secs().max(1) as i64)
    }
}

/// A progress report from running work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub percent: i32,
    pub detail: Detail,
}

/// What a report counts besides its percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// A phase of the work, said by the percentage alone.
    Phase,
    /// A separation's chunks.
    Chunks { done: i32, total: i32 },
    /// A download's bytes, and their total when the server said it.
    Bytes { done: i64, total: Option<i64> },
}

impl Report {
    pub fn phase(percent: i32) -> Self {
        Self {
            percent,
            detail: Detail::Phase,
        }
    }
}

/// The handle blocking work reports through, and the flag it checks to stop early.
#[derive(Clone)]
pub struct Reporter {
    sender: tokio::sync::mpsc::UnboundedSender<Report>,
    stop: Arc<AtomicBool>,
}

impl Reporter {
    fn new() -> (Self, tokio::sync::mpsc::UnboundedReceiver<Report>) {
        let (sender, reports) = tokio::sync::mpsc::unbounded_channel();
        let reporter = Self {
            sender,
            stop: Arc::new(AtomicBool::new(false)),
        };
        (reporter, reports)
    }

    pub fn report(&self, report: Report) {
        // The supervisor only goes away once the work has; nothing is lost.
        let _ = self.sender.send(report);
    }

    /// Set when the work should stop at the next safe point.
    pub fn stop_flag(&self) -> &AtomicBool {
        &self.stop
    }
}

/// Runs one job's CPU work and watches it.
pub struct Supervisor {
    pool: PgPool,
    kind: Kind,
    job_id: Uuid,
    stall: Duration,
}

impl Supervisor {
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs `work` on a blocking thread. Its reports reach the row (throttled); a cancel (or a deleted
    /// track) raises its stop flag and waits for it to stop, which it does at its next safe point; work
    /// that reports nothing for the stall time is abandoned and the job failed.
    pub async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Reporter) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reporter, reports) = Reporter::new();
        let stop = reporter.stop.clone();
        let handle = tokio::task::spawn_blocking(move || work(&reporter));
        self.supervise(handle, reports, move || stop.store(true, Ordering::Relaxed))
            .await
    }

    /// As [`Supervisor::run_blocking`], for work that waits rather than computes (a download, a
    /// command): a cancel or a stall drops it at once, which also kills a command it started.
    pub async fn run_async<T: Send + 'static, F>(&self, work: impl FnOnce(Reporter) -> F) -> Result<T>
    where
        F: Future<Output = Result<T>> + Send + 'static,
    {
        let (reporter, reports) = Reporter::new();
        let handle = tokio::spawn(work(reporter));
        let abort = handle.abort_handle();
        self.supervise(handle, reports, move || abort.abort()).await
    }

    /// Watches running work: writes its reports, and calls `stop` on a cancel or a stall.
    async fn supervise<T>(
        &self,
        mut handle: tokio::task::JoinHandle<Result<T>>,
        mut reports: tokio::sync::mpsc::UnboundedReceiver<Report>,
        stop: impl Fn(),
    ) -> Result<T> {
        let mut last_report = Instant::now();
        let mut last_write: Option<Instant> = None;
        let mut unwritten: Option<Report> = None;
        let mut cancelled = false;
        let mut poll = tokio::time::interval(CANCEL_POLL);
        loop {
            tokio::select! {
                finished = &mut handle => {
                    if cancelled {
                        return Err(Error::Cancelled);
                    }
                    let outcome = finished.map_err(|err| Error::Internal(format!("job thread: {err}")))?;
                    if let Some(report) = unwritten {
                        row::progress(&self.pool, self.kind, self.job_id, &report).await?;
                    }
                    return outcome;
                }
                Some(report) = reports.recv() => {
                    last_report = Instant::now();
                    unwritten = Some(report);
                }
                _ = poll.tick() => {
                    if !cancelled && last_report.elapsed() >= self.stall {
                        stop();
                        // A thread stuck inside a step cannot be interrupted; it stops at its next check.
                        return Err(Error::Stalled(self.stall));
                    }
                    if !cancelled && !row::running(&self.pool, self.kind, self.job_id).await? {
                        cancelled = true;
                        stop();
                    }
                }
            }
            if let Some(report) = unwritten
                && !cancelled
                && last_write.is_none_or(|at| at.elapsed() >= PROGRESS_EVERY)
            {
                if !row::progress(&self.pool, self.kind, self.job_id, &report).await? {
                    cancelled = true;
                    stop();
                }
                unwritten = None;
                last_write = Some(Instant::now());
            }
        }
    }
}

/// A kind of work's queue: where requests put jobs and workers take them.
pub struct JobQueue<W: Work + Clone> {
    queue: Arc<underway::Queue<Runner<W>>>,
    runner: Runner<W>,
}

impl<W: Work + Clone> Clone for JobQueue<W> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            runner: self.runner.clone(),
        }
    }
}

impl<W: Work + Clone> Clone for Runner<W> {
    fn clone(&self) -> Self {
        Self {
            work: self.work.clone(),
            pool: self.pool.clone(),
            settings: self.settings,
        }
    }
}

impl<W: Work + Clone> JobQueue<W> {
    pub async fn build(work: W, pool: &PgPool, settings: Settings) -> Result<Self> {
        let queue = underway::Queue::builder()
            .name(W::KIND.queue())
            .pool(pool.clone())
            .build()
            .await?;
        Ok(Self {
            queue: Arc::new(queue),
            runner: Runner::new(work, pool, settings),
        })
    }

    /// Queues the run of an existing row, in the caller's transaction: the row and its run commit together.
    pub async fn enqueue(&self, tx: &mut sqlx::PgConnection, job_id: Uuid) -> Result<()> {
        self.queue
            .enqueue(&mut *tx, &self.runner, &JobInput { job_id })
            .await?;
        Ok(())
    }

    /// The work this queue's jobs do.
    pub fn work(&self) -> &W {
        &self.runner.work
    }

    pub fn worker(&self, concurrency: usize) -> underway::Worker<Runner<W>> {
        let mut worker = underway::Worker::new(self.queue.clone(), self.runner.clone());
        worker.set_concurrency_limit(concurrency);
        worker
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A running separation row to supervise, with the user and track it needs.
    async fn running_job(pool: &PgPool) -> Uuid {
        crate::db::migrate(pool).await.expect("migrations apply");
        let (user, track, job) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        sqlx::query("insert into users (id, email, hashed_password) values ($1, 'a@example.org', 'x')")
            .bind(user)
            .execute(pool)
            .await
            .expect("a user");
        sqlx::query("insert into tracks (id, user_id, title, source) values ($1, $2, 'Song', 'upload')")
            .bind(track)
            .bind(user)
            .execute(pool)
            .await
            .expect("a track");
        sqlx::query(
            "insert into processing_jobs (id, track_id, user_id, model, status)
             values ($1, $2, $3, 'htdemucs', 'processing')",
        )
        .bind(job)
        .bind(track)
        .bind(user)
        .execute(pool)
        .await
        .expect("a job");
        job
    }

    fn supervisor(pool: &PgPool, job_id: Uuid, stall: Duration) -> Supervisor {
        Supervisor {
            pool: pool.clone(),
            kind: Kind::Processing,
            job_id,
            stall,
        }
    }

    #[sqlx::test(migrations = false)]
    async fn work_that_stops_reporting_is_abandoned_as_stalled(pool: PgPool) {
        let job = running_job(&pool).await;
        let started = Instant::now();
        let outcome = supervisor(&pool, job, Duration::from_secs(1))
            .run_blocking(|reporter| {
                reporter.report(Report {
                    percent: 5,
                    detail: Detail::Chunks { done: 1, total: 10 },
                });
                // Stuck inside a step: it looks at its stop flag only after a long while.
                std::thread::sleep(Duration::from_secs(5));
                Ok(())
            })
            .await;
        assert!(matches!(outcome, Err(Error::Stalled(_))), "{outcome:?}");
        assert!(
            started.elapsed() < Duration::from_millis(3500),
            "{:?}",
            started.elapsed()
        );
        let done: i32 = sqlx::query_scalar("select chunks_done from processing_jobs where id = $1")
            .bind(job)
            .fetch_one(&pool)
            .await
            .expect("the row");
        assert_eq!(done, 1, "the report before the stall was written");
    }

    #[sqlx::test(migrations = false)]
    async fn a_cancel_raises_the_stop_flag_and_waits_for_the_work(pool: PgPool) {
        let job = running_job(&pool).await;
        let cancel = {
            let pool = pool.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                sqlx::query("update processing_jobs set status = 'cancelled' where id = $1")
                    .bind(job)
                    .execute(&pool)
                    .await
                    .expect("cancels");
            }
        };
        let supervisor = supervisor(&pool, job, Duration::from_secs(60));
        let work = supervisor.run_blocking(|reporter| {
            let mut chunks = 0;
            while !reporter.stop_flag().load(Ordering::Relaxed) {
                chunks += 1;
                reporter.report(Report {
                    percent: chunks.min(99),
                    detail: Detail::Chunks {
                        done: chunks,
                        total: 1000,
                    },
                });
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(chunks)
        });
        let (outcome, ()) = tokio::join!(work, cancel);
        assert!(matches!(outcome, Err(Error::Cancelled)), "{outcome:?}");
        let status: String = sqlx::query_scalar("select status from processing_jobs where id = $1")
            .bind(job)
            .fetch_one(&pool)
            .await
            .expect("the row");
        assert_eq!(status, "cancelled", "the worker did not overwrite the cancel");
    }
}
