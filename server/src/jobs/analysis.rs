//! The `analysis` queue: decode a track's audio and analyse it (tempo, beats, key, loudness, spectrum),
//! keeping the job row's status and progress true as it goes.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use underway::{Job, To};
use uuid::Uuid;

use crate::{Error, Result, storage::Storage};

pub const QUEUE: &str = "analysis";
/// Progress is written at most this often: the UI needs a moving bar, not a write per phase.
const PROGRESS_EVERY: Duration = Duration::from_millis(300);

/// The queued work: one `analysis_jobs` row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Analyze {
    pub job_id: Uuid,
}

#[derive(Clone)]
pub struct Analyser {
    pool: PgPool,
    storage: Storage,
    limits: sfa_audio::Limits,
}

pub type AnalysisJob = Job<Analyze, Analyser>;

pub async fn build(pool: &PgPool, storage: &Storage, limits: sfa_audio::Limits) -> Result<AnalysisJob> {
    let state = Analyser {
        pool: pool.clone(),
        storage: storage.clone(),
        limits,
    };
    Ok(Job::builder()
        .state(state)
        .step(|cx, Analyze { job_id }| async move {
            match run(&cx.state, job_id).await {
                Ok(()) => To::done(),
                Err(err) => Err(settle_failure(&cx.state.pool, job_id, err).await),
            }
        })
        .name(QUEUE)
        .pool(pool.clone())
        .build()
        .await?)
}

/// Creates the job row and queues its work, in the caller's transaction.
pub async fn enqueue(
    job: &AnalysisJob,
    tx: &mut sqlx::PgConnection,
    track_id: Uuid,
    owner: Uuid,
) -> Result<Uuid> {
    let job_id = Uuid::new_v4();
    sqlx::query!(
        "insert into analysis_jobs (id, track_id, user_id) values ($1, $2, $3)",
        job_id,
        track_id,
        owner
    )
    .execute(&mut *tx)
    .await?;
    job.enqueue_using(&mut *tx, &Analyze { job_id }).await?;
    Ok(job_id)
}

async fn run(state: &Analyser, job_id: Uuid) -> Result<()> {
    let row = sqlx::query!(
        r#"update analysis_jobs j set status = 'processing', progress = 1, error = null
           from tracks t where j.id = $1 and t.id = j.track_id and j.status <> 'cancelled'
           returning j.track_id, t.audio_path"#,
        job_id
    )
    .fetch_optional(&state.pool)
    .await?;
    let Some(row) = row else {
        return Ok(()); // Cancelled, or the track was deleted: nothing to do.
    };
    let key = row
        .audio_path
        .ok_or_else(|| Error::Invalid("The track has no audio yet.".into()))
        .and_then(|path| crate::storage::StorageKey::parse(&path))?;
    let file = state.storage.open_file(&key).await?.into_std().await;
    let limits = state.limits;
    let (progress_tx, mut progress_rx) = tokio::sync::mpsc::unbounded_channel::<i32>();
    let work = tokio::task::spawn_blocking(move || {
        let decoded = sfa_audio::decode(file, &limits)?;
        let _ = progress_tx.send(20);
        let phases = sfa_audio::analysis::Phase::ALL;
        sfa_audio::analysis::analyze_with_progress(&decoded.audio, |phase| {
            let done = phases.iter().position(|p| *p == phase).unwrap_or(0);
            let _ = progress_tx.send(20 + (75 * done / phases.len()) as i32);
        })
    });
    let mut last_write: Option<Instant> = None;
    while let Some(progress) = progress_rx.recv().await {
        if last_write.is_none_or(|at| at.elapsed() >= PROGRESS_EVERY) {
            sqlx::query!(
                "update analysis_jobs set progress = $2 where id = $1 and status = 'processing'",
                job_id,
                progress
            )
            .execute(&state.pool)
            .await?;
            last_write = Some(Instant::now());
        }
    }
    let analysis = work
        .await
        .map_err(|err| Error::Internal(format!("analysis task: {err}")))?
        .map_err(|err| Error::Invalid(err.to_string()))?;
    let features = serde_json::to_value(&analysis).map_err(|err| Error::Internal(err.to_string()))?;
    let mut tx = state.pool.begin().await?;
    sqlx::query!(
        "insert into analysis_results (id, track_id, analysis_job_id, tempo, key, energy, spectral_centroid,
             spectral_rolloff, zero_crossing_rate, features)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (analysis_job_id) do nothing",
        Uuid::new_v4(),
        row.track_id,
        job_id,
        analysis.tempo.as_ref().map(|tempo| tempo.bpm),
        analysis.key.as_ref().map(|key| key.name.clone()),
        analysis.energy,
        analysis.spectral.centroid_hz,
        analysis.spectral.rolloff_hz,
        analysis.zero_crossing_rate,
        features
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update analysis_jobs set status = 'completed', progress = 100, error = null where id = $1",
        job_id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records why the job failed on its row and tells underway whether to try again: the audio's own
/// problems are final, anything else (the database, the disk) may pass.
async fn settle_failure(pool: &PgPool, job_id: Uuid, err: Error) -> underway::task::Error {
    let user_message = err.public_message();
    if err.is_users() {
        if let Err(db) = sqlx::query!(
            "update analysis_jobs set status = 'failed', error = $2 where id = $1",
            job_id,
            user_message
        )
        .execute(pool)
        .await
        {
            tracing::error!(error = %db, %job_id, "cannot record a failed analysis");
        }
        underway::task::Error::Fatal(err.to_string())
    } else {
        tracing::warn!(error = %err, %job_id, "analysis failed; it will be retried");
        underway::task::Error::Retryable(err.to_string())
    }
}
