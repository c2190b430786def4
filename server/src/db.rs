//! The PostgreSQL pool and the migrations: ours (`migrations/`) and the job queue's (schema `underway`).

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::{PgPool, migrate::Migrator, postgres::PgPoolOptions};

use crate::{Result, config::Config};

pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

pub async fn connect(config: &Config) -> Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(config.db_max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect(config.database_url.expose_secret())
        .await?;
    Ok(pool)
}

/// Brings the schema up to date. Safe to run on every start and from several processes at once: sqlx
/// takes an advisory lock around our migrations, and underway's run in one transaction.
pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    underway::run_migrations(pool).await?;
    Ok(())
}

/// True when the database answers a trivial query.
pub async fn ping(pool: &PgPool) -> bool {
    sqlx::query("select 1").execute(pool).await.is_ok()
}
