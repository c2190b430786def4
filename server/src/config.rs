//! The one typed configuration, read once at start from flags and the environment (see `.env.example`).

use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, ValueEnum};
use secrecy::SecretString;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "sound-forge-alchemy",
    version,
    about = "Sound Forge Alchemy: stems, tempo and key for your music"
)]
pub struct Config {
    /// PostgreSQL connection string.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = parse_secret)]
    pub database_url: SecretString,

    /// Address the web server listens on.
    #[arg(long, env = "SFA_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// Where uploaded audio, stems, models and (in development) the generated secret key live.
    #[arg(long, env = "SFA_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// The built site: the hydration bundle under `pkg/` and the files of `public/`.
    #[arg(long, env = "SFA_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Largest accepted upload or download, in bytes.
    #[arg(long, env = "SFA_MAX_UPLOAD_BYTES", default_value_t = 1 << 30)]
    pub max_upload_bytes: u64,

    /// 32 bytes as 64 hex digits: signs sessions and encrypts secrets at rest. Required in production;
    /// in development one is generated and kept in the data directory.
    #[arg(long, env = "SFA_SECRET_KEY", hide_env_values = true, value_parser = parse_secret)]
    pub secret_key: Option<SecretString>,

    #[arg(long, env = "SFA_ENV", value_enum, default_value_t = Environment::Development)]
    pub environment: Environment,

    /// A `tracing` filter, such as `info` or `server=debug,sqlx=warn`. PostgreSQL's notices (a migration's
    /// "already exists, skipping") are quiet unless asked for.
    #[arg(long, env = "SFA_LOG", default_value = "info,sqlx::postgres::notice=warn")]
    pub log: String,

    #[arg(long, env = "SFA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Connections in the database pool, shared by the web server and the job workers.
    #[arg(long, env = "SFA_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

fn parse_secret(value: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(value))
}

impl Config {
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }

    pub fn secret_key_file(&self) -> PathBuf {
        self.data_dir.join("secret.key")
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn defaults_serve_locally_in_development() {
        let config = Config::try_parse_from(["sfa", "--database-url", "postgres://x/y"]).expect("parses");
        assert_eq!(config.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(config.environment, Environment::Development);
        assert!(config.secret_key.is_none());
        assert_eq!(config.database_url.expose_secret(), "postgres://x/y");
    }

    #[test]
    fn secrets_do_not_print() {
        let config = Config::try_parse_from([
            "sfa",
            "--database-url",
            "postgres://user:hunter2@db/sfa",
            "--secret-key",
            "00112233",
        ])
        .expect("parses");
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("00112233"), "{shown}");
    }
}
