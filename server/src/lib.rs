//! The server side of Sound Forge Alchemy below the pages: configuration, database, job queue, storage
//! and HTTP plumbing. It knows nothing of Leptos; `app` renders the pages and calls in here.

pub mod admin;
pub mod auth;
pub mod config;
pub mod db;
mod error;
pub mod files;
pub mod http;
pub mod http_client;
pub mod import;
pub mod intake;
pub mod jobs;
pub mod lalalai;
pub mod live;
pub mod llm;
pub mod mail;
pub mod metered;
pub mod rate_limit;
pub mod secret;
pub mod settings;
pub mod storage;
pub mod telemetry;
pub mod tracks;
pub mod upload;
pub mod vault;
pub mod zip;

use std::sync::Arc;

use sqlx::PgPool;

pub use crate::error::{Error, Result};
use crate::{
    config::Config,
    http_client::HttpClients,
    import::Importer,
    jobs::{Jobs, Workers, events::JobEvents},
    mail::Mailer,
    secret::MasterKey,
    storage::Storage,
    vault::Vault,
};

pub use secrecy::{ExposeSecret, SecretString};

/// What every request handler, server function and job may reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
    pub storage: Storage,
    pub master_key: MasterKey,
    /// Seals and opens secrets at rest with the master key (and retired ones, after a rotation).
    pub vault: Vault,
    /// Outgoing HTTP: configured services, users' links, users' LLM providers.
    pub http: HttpClients,
    pub jobs: Jobs,
    pub importer: Importer,
    pub events: JobEvents,
    pub mailer: Arc<dyn Mailer>,
}

impl AppState {
    /// Everything the server needs before it can take requests: the secret key, the database (migrated),
    /// storage and the job queues, with their workers unless `workers` says they run elsewhere.
    pub async fn start(config: Config, workers: Workers) -> Result<Self> {
        let pool = db::connect(&config).await?;
        Self::with_pool(config, pool, workers).await
    }

    /// As [`AppState::start`], on a pool made elsewhere (the tests' per-test databases).
    pub async fn with_pool(config: Config, pool: PgPool, workers: Workers) -> Result<Self> {
        let master_key = MasterKey::load(&config)?;
        let vault = Vault::new(&master_key, &MasterKey::retired(&config)?);
        let mailer = mail::from_config(&config)?;
        db::migrate(&pool).await?;
        auth::migrate_session_store(&pool).await?;
        let storage = Storage::open(config.files_dir()).await?;
        let http = HttpClients::new(config.allow_private_urls)?;
        let jobs = Jobs::start(&pool, &storage, &http, &vault, &config, workers).await?;
        let importer = Importer::new(&config, &http);
        let events = JobEvents::start(&pool, jobs.shutdown_token());
        Ok(Self {
            config: Arc::new(config),
            pool,
            storage,
            master_key,
            vault,
            http,
            jobs,
            importer,
            events,
            mailer,
        })
    }
}

/// Seals every stored secret again under the current master key (`sound-forge-alchemy rotate-secrets`),
/// opening those sealed before with the retired keys; returns how many changed. After it, the retired keys
/// can be dropped from the configuration.
pub async fn rotate_secrets(config: &Config) -> Result<usize> {
    let pool = db::connect(config).await?;
    db::migrate(&pool).await?;
    let vault = Vault::new(&MasterKey::load(config)?, &MasterKey::retired(config)?);
    reseal_secrets(&pool, &vault).await
}

/// Every kind of stored secret sealed again under `vault`'s current key, in one transaction: a secret that
/// opens under none of its keys stops it before anything is written.
pub async fn reseal_secrets(pool: &PgPool, vault: &Vault) -> Result<usize> {
    let mut tx = pool.begin().await?;
    let providers = llm::providers::rotate_keys(&mut tx, vault).await?;
    let licenses = lalalai::license::rotate_keys(&mut tx, vault).await?;
    tx.commit().await?;
    Ok(providers + licenses)
}

/// Runs the job queues without the web server (`sound-forge-alchemy worker`) until Ctrl-C or SIGTERM. Any
/// number of these may run on other machines against the same database and shared storage.
pub async fn work(config: Config) -> Result<()> {
    let pool = db::connect(&config).await?;
    db::migrate(&pool).await?;
    let storage = Storage::open(config.files_dir()).await?;
    let http = HttpClients::new(config.allow_private_urls)?;
    let vault = Vault::new(&MasterKey::load(&config)?, &MasterKey::retired(&config)?);
    let jobs = Jobs::start(&pool, &storage, &http, &vault, &config, Workers::Run).await?;
    tracing::info!("worker running");
    shutdown_signal().await;
    jobs.shutdown().await;
    Ok(())
}

/// How long requests in flight may take to finish after a shutdown signal; a client that keeps its
/// connection open longer (a stalled upload, a slow reader) is cut off.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

/// Serves `router` until Ctrl-C or SIGTERM, then lets requests and job steps in flight finish.
pub async fn serve(state: &AppState, router: axum::Router) -> Result<()> {
    let addr = state.config.bind;
    let serving = |source| Error::Serve { addr, source };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(serving)?;
    tracing::info!("listening on http://{addr}");
    let stop = tokio_util::sync::CancellationToken::new();
    let router = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, router).with_graceful_shutdown(stop.clone().cancelled_owned());
    tokio::select! {
        served = server => served.map_err(serving)?,
        () = async {
            shutdown_signal().await;
            stop.cancel();
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::warn!("connections still open after {SHUTDOWN_GRACE:?}; closing them"),
    }
    state.jobs.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(err) => {
            tracing::warn!(error = %err, "cannot listen for SIGTERM");
            let _ = ctrl_c.await;
            return;
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate.recv() => {},
    }
    tracing::info!("shutting down");
}
