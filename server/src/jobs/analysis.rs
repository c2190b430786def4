//! The `analysis` queue: decode a track's audio and analyse it (tempo, beats, key, loudness, spectrum),
//! keeping the job row's status and progress true as it goes.

use uuid::Uuid;

use super::{
    row::Kind,
    runner::{JobQueue, Report, Supervisor, Work},
};
use crate::{Error, Result, storage::Storage};

#[derive(Clone)]
pub struct Analysis {
    storage: Storage,
    limits: sfa_audio::Limits,
}

pub type AnalysisQueue = JobQueue<Analysis>;

impl Analysis {
    pub fn new(storage: &Storage, limits: sfa_audio::Limits) -> Self {
        Self {
            storage: storage.clone(),
            limits,
        }
    }
}

/// Creates an analysis job's row for `track_id` and queues it, in the caller's transaction.
pub async fn enqueue(
    queue: &AnalysisQueue,
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
    queue.enqueue(tx, job_id).await?;
    Ok(job_id)
}

impl Work for Analysis {
    const KIND: Kind = Kind::Analysis;
    const MAX_ATTEMPTS: i32 = 3;

    async fn run(&self, job_id: Uuid, supervisor: Supervisor) -> Result<()> {
        let row = sqlx::query!(
            "select j.track_id, t.audio_path from analysis_jobs j join tracks t on t.id = j.track_id
             where j.id = $1",
            job_id
        )
        .fetch_optional(supervisor.pool())
        .await?
        .ok_or(Error::Cancelled)?;
        let key = row
            .audio_path
            .ok_or_else(|| Error::Invalid("The track has no audio yet.".into()))
            .and_then(|path| crate::storage::StorageKey::parse(&path))?;
        let file = self.storage.open_file(&key).await?.into_std().await;
        let limits = self.limits;
        let analysis = supervisor
            .run_blocking(move |reporter| {
                let decoded = sfa_audio::decode(file, &limits)?;
                let report = |percent| reporter.report(Report::phase(percent));
                report(20);
                let phases = sfa_audio::analysis::Phase::ALL;
                Ok(sfa_audio::analysis::analyze_with_progress(
                    &decoded.audio,
                    |phase| {
                        let done = phases.iter().position(|p| *p == phase).unwrap_or(0);
                        report(20 + (75 * done / phases.len()) as i32);
                    },
                )?)
            })
            .await?;
        let pool = supervisor.pool();
        // Serialised as it is, not through `serde_json::Value`, which would store every f32 with an f64's
        // digits (a waveform peak of 0.4455 as 0.445499986410141).
        let features = sqlx::types::Json(&analysis);
        let mut tx = pool.begin().await?;
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
        features as sqlx::types::Json<&sfa_audio::Analysis>
    )
        .execute(&mut *tx)
        .await?;
        let completed = sqlx::query!(
            "update analysis_jobs set status = 'completed', progress = 100, error = null
         where id = $1 and status = 'processing'",
            job_id
        )
        .execute(&mut *tx)
        .await?;
        if completed.rows_affected() == 0 {
            return Err(Error::Cancelled);
        }
        tx.commit().await?;
        Ok(())
    }
}
