//! The `processing` queue: separate a track into stems with the local model, chunk by chunk.
//!
//! The engine keeps its work (finished regions and a checkpoint) in the job's own folder, `stems/<job id>`,
//! so a run that a crash, a restart or a cancel cut short resumes at its last finished chunk. The stems'
//! rows and the job's completion commit together: a job never reports success without its stems.

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

#[derive(Clone)]
pub struct Separation {
    storage: Storage,
    models: Arc<PathBuf>,
    limits: sfa_audio::Limits,
}

pub type ProcessingQueue = JobQueue<Separation>;

impl Separation {
    pub fn new(storage: &Storage, models: PathBuf, limits: sfa_audio::Limits) -> Self {
        Self {
            storage: storage.clone(),
            models: Arc::new(models),
            limits,
        }
    }
}

/// How a separation job writes its stems: `processing_jobs.options`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// One of [`crate::settings::STEM_FORMATS`].
    pub format: String,
}

/// Creates a separation job's row for `track_id` with `model` and queues it, in the caller's transaction.
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
    sqlx::query!(
        "insert into processing_jobs (id, track_id, user_id, model, output_path, options)
         values ($1, $2, $3, $4, $5, $6)",
        job_id,
        track_id,
        owner,
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
            "select j.track_id, j.model, j.options, t.audio_path from processing_jobs j
             join tracks t on t.id = j.track_id where j.id = $1",
            job_id
        )
        .fetch_optional(supervisor.pool())
        .await?
        .ok_or(Error::Cancelled)?;
        let audio = job
            .audio_path
            .ok_or_else(|| Error::Invalid("The track has no audio yet.".into()))
            .and_then(|path| StorageKey::parse(&path))?;
        // The name came from our config; as a single key segment it cannot leave the models folder.
        let model_dir = StorageKey::parse(&job.model)
            .map(|name| self.models.join(name.as_str()))
            .map_err(|_| Error::Internal(format!("model name {:?}", job.model)))?;
        // Rows from before options existed hold `{}`: the engine's default format.
        let format = serde_json::from_value::<Options>(job.options)
            .ok()
            .map(|options| options.format.parse::<sfa_audio::separate::SampleFormat>())
            .transpose()
            .map_err(|err| Error::Internal(format!("separation {job_id}: {err}")))?
            .unwrap_or_default();
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
        record(supervisor.pool(), job_id, job.track_id, &output, &separated).await
    }
}

/// The stems' rows and the job's completion, in one transaction.
async fn record(
    pool: &PgPool,
    job_id: Uuid,
    track_id: Uuid,
    output: &StorageKey,
    separated: &sfa_audio::separate::Separation,
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
    let results = json!({ "stems": stems, "residual_db": separated.residual_db });
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
