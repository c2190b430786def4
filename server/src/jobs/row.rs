//! The job rows' life cycle, the same for every kind: queued → running → completed, failed or cancelled,
//! where running is `downloading` for downloads and `processing` for the rest.
//!
//! Each function updates only a row in the state it expects, so a user's cancel (or a deleted track) is
//! never overwritten by a worker that has not noticed it yet.

use sqlx::PgPool;
use uuid::Uuid;

use super::runner::Detail;
use crate::Result;

/// Which table a job's row lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Download,
    Processing,
    Analysis,
}

impl Kind {
    pub fn queue(self) -> &'static str {
        match self {
            Self::Download => "download",
            Self::Processing => "processing",
            Self::Analysis => "analysis",
        }
    }
}

/// Marks the row as running and counts the attempt. `None` when there is nothing to run: the job was
/// cancelled, already finished, or its track deleted.
pub async fn begin(pool: &PgPool, kind: Kind, id: Uuid) -> Result<Option<i32>> {
    let attempts = match kind {
        Kind::Download => {
            sqlx::query_scalar!(
                "update download_jobs set status = 'downloading', attempts = attempts + 1, error = null
                 where id = $1 and status in ('queued', 'downloading') returning attempts",
                id
            )
            .fetch_optional(pool)
            .await?
        }
        Kind::Processing => {
            sqlx::query_scalar!(
                "update processing_jobs set status = 'processing', attempts = attempts + 1, error = null
                 where id = $1 and status in ('queued', 'processing') returning attempts",
                id
            )
            .fetch_optional(pool)
            .await?
        }
        Kind::Analysis => {
            sqlx::query_scalar!(
                "update analysis_jobs set status = 'processing', attempts = attempts + 1, error = null
                 where id = $1 and status in ('queued', 'processing') returning attempts",
                id
            )
            .fetch_optional(pool)
            .await?
        }
    };
    Ok(attempts)
}

/// Records progress on a running row; false when the row is no longer running (cancelled or deleted),
/// which tells the work to stop.
pub async fn progress(pool: &PgPool, kind: Kind, id: Uuid, report: &super::Report) -> Result<bool> {
    let updated = match (kind, report.detail) {
        (Kind::Download, Detail::Bytes { done, total }) => {
            sqlx::query!(
                "update download_jobs set progress = $2, bytes_done = $3, bytes_total = $4
                 where id = $1 and status = 'downloading'",
                id,
                report.percent,
                done,
                total
            )
            .execute(pool)
            .await?
        }
        (Kind::Download, _) => {
            sqlx::query!(
                "update download_jobs set progress = $2 where id = $1 and status = 'downloading'",
                id,
                report.percent
            )
            .execute(pool)
            .await?
        }
        (Kind::Processing, Detail::Chunks { done, total }) => {
            sqlx::query!(
                "update processing_jobs set progress = $2, chunks_done = $3, chunks_total = $4
                 where id = $1 and status = 'processing'",
                id,
                report.percent,
                done,
                total
            )
            .execute(pool)
            .await?
        }
        (Kind::Processing, _) => {
            sqlx::query!(
                "update processing_jobs set progress = $2 where id = $1 and status = 'processing'",
                id,
                report.percent
            )
            .execute(pool)
            .await?
        }
        (Kind::Analysis, _) => {
            sqlx::query!(
                "update analysis_jobs set progress = $2 where id = $1 and status = 'processing'",
                id,
                report.percent
            )
            .execute(pool)
            .await?
        }
    };
    Ok(updated.rows_affected() == 1)
}

/// Whether the row is still running: a cheap look for a cancel between progress reports.
pub async fn running(pool: &PgPool, kind: Kind, id: Uuid) -> Result<bool> {
    let running = match kind {
        Kind::Download => {
            sqlx::query_scalar!(
                r#"select status = 'downloading' as "running!" from download_jobs where id = $1"#,
                id
            )
            .fetch_optional(pool)
            .await?
        }
        Kind::Processing => {
            sqlx::query_scalar!(
                r#"select status = 'processing' as "running!" from processing_jobs where id = $1"#,
                id
            )
            .fetch_optional(pool)
            .await?
        }
        Kind::Analysis => {
            sqlx::query_scalar!(
                r#"select status = 'processing' as "running!" from analysis_jobs where id = $1"#,
                id
            )
            .fetch_optional(pool)
            .await?
        }
    };
    Ok(running == Some(true))
}

/// Ends a running row as failed, with a message for its owner.
pub async fn fail(pool: &PgPool, kind: Kind, id: Uuid, message: &str) -> Result<()> {
    match kind {
        Kind::Download => {
            sqlx::query!(
                "update download_jobs set status = 'failed', error = $2 where id = $1 and status = 'downloading'",
                id,
                message
            )
            .execute(pool)
            .await?
        }
        Kind::Processing => {
            sqlx::query!(
                "update processing_jobs set status = 'failed', error = $2 where id = $1 and status = 'processing'",
                id,
                message
            )
            .execute(pool)
            .await?
        }
        Kind::Analysis => {
            sqlx::query!(
                "update analysis_jobs set status = 'failed', error = $2 where id = $1 and status = 'processing'",
                id,
                message
            )
            .execute(pool)
            .await?
        }
    };
    Ok(())
}

/// Puts a running row back in the queue after a failure that may pass, saying so.
pub async fn requeue(pool: &PgPool, kind: Kind, id: Uuid, message: &str) -> Result<()> {
    match kind {
        Kind::Download => {
            sqlx::query!(
                "update download_jobs set status = 'queued', error = $2 where id = $1 and status = 'downloading'",
                id,
                message
            )
            .execute(pool)
            .await?
        }
        Kind::Processing => {
            sqlx::query!(
                "update processing_jobs set status = 'queued', error = $2 where id = $1 and status = 'processing'",
                id,
                message
            )
            .execute(pool)
            .await?
        }
        Kind::Analysis => {
            sqlx::query!(
                "update analysis_jobs set status = 'queued', error = $2 where id = $1 and status = 'processing'",
                id,
                message
            )
            .execute(pool)
            .await?
        }
    };
    Ok(())
}
