//! Jobs run through the real underway queue on a real database.

use std::time::{Duration, SystemTime};

use server::{
    jobs::maintenance::{self, Sweep},
    storage::Storage,
};
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn maintenance_sweeps_stale_temporary_files(pool: PgPool) {
    server::db::migrate(&pool).await.expect("migrations apply");
    let dir = tempfile::tempdir().expect("a storage root");
    let storage = Storage::open(dir.path()).await.expect("storage");
    let stale = dir.path().join(".tmp/left-by-a-crash");
    std::fs::File::create(&stale)
        .and_then(|file| file.set_modified(SystemTime::now() - Duration::from_secs(24 * 3600)))
        .expect("an old temporary file");
    let fresh = dir.path().join(".tmp/being-written");
    std::fs::write(&fresh, b"...").expect("a fresh temporary file");

    let job = maintenance::build(&pool, &storage).await.expect("the job");
    maintenance::schedule(&job)
        .await
        .expect("the hourly schedule is valid");
    job.enqueue(&Sweep).await.expect("enqueued");
    let processed = job.worker().process_next_task().await.expect("the worker runs");
    assert!(processed.is_some(), "the worker found no task");

    assert!(!stale.exists(), "the stale file is still there");
    assert!(fresh.exists(), "a write in progress lost its file");
}
