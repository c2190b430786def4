use clap::Parser;
use server::{AppState, config::Config};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    if let Err(err) = server::telemetry::init(&config) {
        eprintln!("sound-forge-alchemy: {err}");
        return std::process::ExitCode::FAILURE;
    }
    match run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "cannot start");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> server::Result<()> {
    let state = AppState::start(config).await?;
    let router = app::site::router(state.clone());
    server::serve(&state, router).await
}
