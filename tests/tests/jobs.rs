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

/// A pool the workers would fill makes jobs wait for a connection forever; the server refuses to start
/// with one and says which setting to raise.
#[sqlx::test(migrations = false)]
async fn too_small_a_pool_for_the_workers_is_refused_at_start(
    options: sqlx::postgres::PgPoolOptions,
    connect: sqlx::postgres::PgConnectOptions,
) {
    let pool = options
        .max_connections(8)
        .connect_with(connect)
        .await
        .expect("connects");
    let dir = tempfile::tempdir().expect("a data directory");
    let config = integration_tests::config(dir.path());
    let refused = server::AppState::with_pool(config, pool, server::jobs::Workers::Run).await;
    let Err(err) = refused else {
        panic!("started with 8 connections")
    };
    assert!(
        err.to_string().contains("SFA_DB_MAX_CONNECTIONS is 8") && err.to_string().contains("at least 19"),
        "{err}"
    );
}
