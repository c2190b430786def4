use clap::{Parser, Subcommand};
use server::{AppState, auth::Role, config::Config, jobs::Workers};

/// Sound Forge Alchemy: stems, tempo and key for your music.
#[derive(Parser)]
#[command(name = "sound-forge-alchemy", version)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and run the job workers (what happens without a command).
    Serve {
        /// Serve only; `worker` processes (here or on other machines) run the jobs.
        #[arg(long)]
        no_workers: bool,
    },
    /// Run the job workers without the web server, against the same database and storage.
    Worker,
    /// Give the account with this email a role: `user`, `admin` or `platform_admin`.
    SetRole {
        email: String,
        #[arg(value_enum)]
        role: Role,
    },
    /// Seal every stored secret again under SFA_SECRET_KEY, opening older ones with SFA_RETIRED_SECRET_KEYS.
    RotateSecrets,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Err(err) = server::telemetry::init(&cli.config) {
        eprintln!("sound-forge-alchemy: {err}");
        return std::process::ExitCode::FAILURE;
    }
    let outcome = match cli.command.unwrap_or(Command::Serve { no_workers: false }) {
        Command::Serve { no_workers } => {
            let workers = if no_workers { Workers::None } else { Workers::Run };
            serve(cli.config, workers).await
        }
        Command::Worker => server::work(cli.config).await,
        Command::SetRole { email, role } => set_role(cli.config, &email, role).await,
        Command::RotateSecrets => server::rotate_secrets(&cli.config).await.map(|count| {
            tracing::info!(count, "sealed stored secrets again under the current master key");
        }),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "failed");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config, workers: Workers) -> server::Result<()> {
    let state = AppState::start(config, workers).await?;
    let router = app::site::router(state.clone());
    server::serve(&state, router).await
}

async fn set_role(config: Config, email: &str, role: Role) -> server::Result<()> {
    let pool = server::db::connect(&config).await?;
    server::db::migrate(&pool).await?;
    let user = server::auth::user::set_role(&pool, email, role)
        .await
        .map_err(|err| match err {
            server::Error::NotFound => server::Error::Invalid(format!("no account has the email {email}")),
            other => other,
        })?;
    tracing::info!(user.id = %user.id, email = %user.email, role = role.as_str(), "role set");
    Ok(())
}
