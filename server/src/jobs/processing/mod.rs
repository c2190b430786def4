//! The `processing` queue: separate a track into stems with the local model, chunk by chunk, or at
//! lalal.ai (`cloud`).
//!
//! The local engine keeps its work (finished regions and a checkpoint) in the job's own folder,
//! `stems/<job id>`, so a run that a crash, a restart or a cancel cut short resumes at its last finished
//! chunk; the cloud engine keeps its remote file and task in the row's `options`. Either way the stems' rows
//! and the job's completion commit together: a job never reports success without its stems.

mod cloud;

use std::{path::PathBuf, sync::Arc};

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    row::Kind,
    runner::{Detail, JobQueue, Report, Supervisor, Work},
};
use crate::{
    Error, Result,
    storage::{Storage, StorageKey},
};

/// Where a separation's stems live: its own folder, named by the job.
pub fn folder(job_id: Uuid) -> Result<StorageKey> {
    StorageKey::parse(&format!("stems/{job_id}"))
}

pub use cloud::{Cloud, Remote};

#[derive(Clone)]
pub struct Separation {
    storage: Storage,
    models: Arc<PathBuf>,
    limits: sfa_audio::Limits,
    cloud: Cloud,
}

pub type ProcessingQueue = JobQueue<Separation>;

impl Separation {
    pub fn new(storage: &Storage, models: PathBuf, limits: sfa_audio::Limits, cloud: Cloud) -> Self {
        Self {
            storage: storage.clone(),
            models: Arc::new(models),
            limits,
            cloud,
        }
    }
}

/// How a separation job writes its stems, and for the cloud engine what it asked for and where its remote
/// work stands: `processing_jobs.options`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// One of [`crate::settings::STEM_FORMATS`].
    pub format: String,
    #[serde(default, rename = "lalalai", skip_serializing_if = "Option::is_none")]
    pub cloud: Option<Remote>,
}

/// The model column of a cloud separation, which has no local model.
const CLOUD_MODEL: &str = "lalalai";

/// Creates a separation job's row for `track_id` and queues it, in the caller's transaction: with the
/// local `model`, or at lalal.ai when `options` say so.
pub async fn enqueue(
    queue: &ProcessingQueue,
    tx: &mut sqlx::PgConnection,
    track_id: Uuid,
    owner: Uuid,
    model: &str,
    options: &Options,
) -> Result<Uuid> {
    let job_id = Uuid::new_v4();
    let output = folder(job_id)?;
    let (engine, model) = match options.cloud {
        Some(_) => ("lalalai", CLOUD_MODEL),
        None => ("local", model),
    };
    sqlx::query!(
        "insert into processing_jobs (id, track_id, user_id, engine, model, output_path, options)
         values ($1, $2, $3, $4, $5, $6, $7)",
        job_id,
        track_id,
        owner,
        engine,
        model,
        output.as_str(),
        json!(options)
    )
    .execute(&mut *tx)
    .await?;
    queue.enqueue(tx, job_id).await?;
    Ok(job_id)
}

impl Work for Separation {
    const KIND: Kind = Kind::Processing;
    const MAX_ATTEMPTS: i32 = 5;

    async fn run(&self, job_id: Uuid, supervisor: Supervisor) -> Result<()> {
        let job = sqlx::query!(
            "select j.track_id, j.user_id, j.engine, j.model, j.options, t.audio_path, t.duration
             from processing_jobs j join tracks t on t.id = j.track_id where j.id = $1",
            job_id
        )
        .fetch_optional(supervisor.pool())
        .await?
        .ok_or(Error::Cancelled)?;
        let audio = job
            .audio_path
            .ok_or_else(|| Error::Invalid("The track has no audio yet.".into()))
            .and_then(|path| StorageKey::parse(&path))?;
        if job.engine == "lalalai" {
            let options = serde_json::from_value::<Options>(job.options)
                .map_err(|err| Error::Internal(format!("separation {job_id}: options: {err}")))?;
            let track = cloud::Track {
                id: job.track_id,
                owner: job.user_id,
                audio,
                seconds: job.duration.unwrap_or(0),
            };
            return cloud::run(self, job_id, supervisor, track, options).await;
        }
        // The name came from our config; as a single key segment it cannot leave the models folder.
        let model_dir = StorageKey::parse(&job.model)
            .map(|name| self.models.join(name.as_str()))
            .map_err(|_| Error::Internal(format!("model name {:?}", job.model)))?;
        let format = stem_format(job_id, &job.options)?;
        let output = folder(job_id)?;
        let out_dir = self.storage.path(&output);
        tokio::fs::create_dir_all(&out_dir)
            .await
            .map_err(Error::io(&out_dir))?;
        let file = self.storage.open_file(&audio).await?.into_std().await;
        let limits = self.limits;
        let separated = supervisor
            .run_blocking(move |reporter| {
                let model = sfa_audio::separate::Model::shared(&model_dir)?;
                let decoded = sfa_audio::decode(file, &limits)?;
                reporter.report(Report::phase(2));
                let separated = sfa_audio::separate::separate(
                    &decoded.audio,
                    &model,
                    &out_dir,
                    format,
                    |progress| {
                        let (done, chunks) = (progress.done as i32, progress.chunks as i32);
                        reporter.report(Report {
                            percent: 2 + 97 * done / chunks.max(1),
                            detail: Detail::Chunks { done, total: chunks },
                        });
                    },
                    reporter.stop_flag(),
                );
                match separated {
                    Err(sfa_audio::Error::Cancelled) => Err(Error::Cancelled),
                    other => Ok(other?),
                }
            })
            .await?;
        record(
            supervisor.pool(),
            job_id,
            job.track_id,
            &output,
            &separated,
            false,
        )
        .await
    }
}

/// A job's stem format, from its options; rows from before options existed hold `{}`: the default.
fn stem_format(job_id: Uuid, options: &serde_json::Value) -> Result<sfa_audio::separate::SampleFormat> {
    options
        .get("format")
        .and_then(serde_json::Value::as_str)
        .map(str::parse::<sfa_audio::separate::SampleFormat>)
        .transpose()
        .map_err(|err| Error::Internal(format!("separation {job_id}: {err}")))
        .map(Option::unwrap_or_default)
}

/// The stems' rows and the job's completion, in one transaction. A `preview` covers the track's first minute
/// only, and its results say so.
async fn record(
    pool: &PgPool,
    job_id: Uuid,
    track_id: Uuid,
    output: &StorageKey,
    separated: &sfa_audio::separate::Separation,
    preview: bool,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let mut stems = serde_json::Map::new();
    for stem in &separated.stems {
        let key = StorageKey::parse(&format!("{output}/{}.wav", stem.name))?;
        let size = tokio::fs::metadata(&stem.path)
            .await
            .map_err(Error::io(&stem.path))?
            .len();
        sqlx::query!(
            "insert into stems (id, processing_job_id, track_id, stem_type, file_path, file_size)
             values ($1, $2, $3, $4, $5, $6)
             on conflict (processing_job_id, stem_type) do update set file_path = excluded.file_path,
                 file_size = excluded.file_size",
            Uuid::new_v4(),
            job_id,
            track_id,
            stem.name,
            key.as_str(),
            size as i64
        )
        .execute(&mut *tx)
        .await?;
        stems.insert(
            stem.name.clone(),
            json!({ "peak": stem.levels.peak, "clipped_samples": stem.levels.clipped }),
        );
    }
    let mut results = json!({ "stems": stems, "residual_db": separated.residual_db });
    if preview {
        results["preview_seconds"] = json!(cloud::PREVIEW_SECONDS);
    }
    let chunks = separated.chunks as i32;
    let completed = sqlx::query!(
        "update processing_jobs set status = 'completed', progress = 100, error = null, chunks_done = $2,
             chunks_total = $2, resumed_at_chunk = $3, results = $4
         where id = $1 and status = 'processing'",
        job_id,
        chunks,
        separated.resumed_at as i32,
        results
    )
    .execute(&mut *tx)
    .await?;
    if completed.rows_affected() == 0 {
        // Cancelled in the last moment: keep the files for a retry, record nothing.
        return Err(Error::Cancelled);
    }
    tx.commit().await?;
    Ok(())
}
