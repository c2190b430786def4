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

    /// Master keys replaced by a rotation, comma-separated, kept until `rotate-secrets` has sealed every
    /// stored secret again under `SFA_SECRET_KEY`.
    #[arg(long, env = "SFA_RETIRED_SECRET_KEYS", hide_env_values = true, value_parser = parse_secret)]
    pub retired_secret_keys: Option<SecretString>,

    #[arg(long, env = "SFA_ENV", value_enum, default_value_t = Environment::Development)]
    pub environment: Environment,

    /// A `tracing` filter, such as `info` or `server=debug,sqlx=warn`. PostgreSQL's notices (a migration's
    /// "already exists, skipping") are quiet unless asked for.
    #[arg(long, env = "SFA_LOG", default_value = "info,sqlx::postgres::notice=warn")]
    pub log: String,

    #[arg(long, env = "SFA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Connections in the database pool, shared by the web server and the job workers. Each queue's worker
    /// holds two for as long as it runs (its notification listeners); the rest serve requests and steps. A
    /// process that runs the workers needs at least 19.
    #[arg(long, env = "SFA_DB_MAX_CONNECTIONS", default_value_t = 20)]
    pub db_max_connections: u32,

    /// The address users reach the site at, such as `https://music.example.org`: links in mail, the
    /// `Origin` that state-changing requests must come from, and `Secure` cookies when it is https.
    /// Defaults to `http://` and the bind address.
    #[arg(long, env = "SFA_PUBLIC_URL", value_parser = parse_origin)]
    pub public_url: Option<String>,

    /// Take the client's address from `X-Forwarded-For` (set this only behind a reverse proxy that
    /// overwrites that header); otherwise the connection's peer address is the client.
    #[arg(long, env = "SFA_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// SMTP server for account mail, as `smtps://user:password@host:465` or `smtp://host:587` (STARTTLS).
    /// Without it, mail is written to the log, so the links still reach whoever runs the server.
    #[arg(long, env = "SFA_SMTP_URL", hide_env_values = true, value_parser = parse_secret)]
    pub smtp_url: Option<SecretString>,

    /// The sender of account mail.
    #[arg(
        long,
        env = "SFA_MAIL_FROM",
        default_value = "Sound Forge Alchemy <noreply@localhost>"
    )]
    pub mail_from: String,

    /// Where separation models live, one folder per model holding its `manifest.json`. Default: `models`
    /// in the data directory.
    #[arg(long, env = "SFA_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,

    /// The separation model new jobs use: a folder name under the model directory.
    #[arg(long, env = "SFA_SEPARATION_MODEL", default_value = "htdemucs")]
    pub separation_model: String,

    /// Separations one process runs at once. Each uses both cores of a small machine, so one is right
    /// there; give a bigger machine more, or run more workers.
    #[arg(long, env = "SFA_SEPARATION_WORKERS", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub separation_workers: u16,

    /// Analyses one process runs at once.
    #[arg(long, env = "SFA_ANALYSIS_WORKERS", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub analysis_workers: u16,

    /// A running job whose progress has not moved for this many seconds is stopped and marked failed.
    /// There is no limit on a job's total time: a slow separation runs as long as it keeps moving.
    #[arg(long, env = "SFA_JOB_STALL_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(5..))]
    pub job_stall_secs: u64,

    /// How often a running job says it is alive. A job whose process died is taken up again by another
    /// worker once this much time (and a little) has passed without a beat.
    #[arg(long, env = "SFA_JOB_HEARTBEAT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub job_heartbeat_secs: u64,

    /// Downloads (audio links, the audio resolver) one process runs at once.
    #[arg(long, env = "SFA_DOWNLOAD_WORKERS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub download_workers: u16,

    /// Let audio links reach private, loopback and link-local addresses. Off by default, so a user's link
    /// cannot make the server fetch from its own network; the tests turn it on for their local servers.
    #[arg(long, env = "SFA_ALLOW_PRIVATE_URLS", default_value_t = false)]
    pub allow_private_urls: bool,

    /// The Spotify app's client id and secret (client-credentials flow), for importing Spotify links.
    /// Without them the import box says Spotify import is not configured.
    #[arg(long, env = "SFA_SPOTIFY_CLIENT_ID")]
    pub spotify_client_id: Option<String>,

    #[arg(long, env = "SFA_SPOTIFY_CLIENT_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub spotify_client_secret: Option<SecretString>,

    /// Spotify's Web API and accounts service; the tests point them at a local stand-in.
    #[arg(
        long,
        env = "SFA_SPOTIFY_API_URL",
        default_value = "https://api.spotify.com/v1"
    )]
    pub spotify_api_url: String,

    #[arg(
        long,
        env = "SFA_SPOTIFY_ACCOUNTS_URL",
        default_value = "https://accounts.spotify.com"
    )]
    pub spotify_accounts_url: String,

    /// lalal.ai's API, for users who separate in the cloud with their own license key; the tests point it at
    /// a local stand-in.
    #[arg(long, env = "SFA_LALALAI_URL", default_value = "https://www.lalal.ai")]
    pub lalalai_url: String,

    /// How long a cloud separation first waits between looks at its task, in milliseconds; the wait grows
    /// to 30 s, and lalal.ai allows 20 looks a minute.
    #[arg(long, env = "SFA_LALALAI_POLL_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub lalalai_poll_ms: u64,

    /// A command that finds the audio of a Spotify track and writes it to `{output}`, such as
    /// `yt-dlp -x -o {output}.%(ext)s "ytsearch1:{artist} - {title}"`. Placeholders: `{title}`, `{artist}`,
    /// `{album}`, `{duration}` (seconds), `{isrc}`, `{output}`. Run without a shell, one argument per word;
    /// a placeholder never splits an argument. Unset, Spotify tracks wait for an attached file.
    #[arg(long, env = "SFA_AUDIO_RESOLVER")]
    pub audio_resolver: Option<String>,

    /// A session unused for this many days ends.
    #[arg(long, env = "SFA_SESSION_IDLE_DAYS", default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub session_idle_days: u32,

    /// A session ends this many days after its log in, however active.
    #[arg(long, env = "SFA_SESSION_MAX_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub session_max_days: u32,
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

/// `scheme://host[:port]`, kept without a trailing slash so it compares equal to a browser's `Origin`.
fn parse_origin(value: &str) -> Result<String, String> {
    let origin = value.trim().trim_end_matches('/');
    let uri: axum::http::Uri = origin.parse().map_err(|err| format!("not a URL: {err}"))?;
    match (uri.scheme_str(), uri.authority(), uri.path()) {
        (Some("http" | "https"), Some(_), "" | "/") => Ok(origin.to_owned()),
        _ => Err("expected http(s)://host[:port] with no path".to_owned()),
    }
}

impl Config {
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }

    pub fn models_dir(&self) -> PathBuf {
        self.model_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("models"))
    }

    pub fn secret_key_file(&self) -> PathBuf {
        self.data_dir.join("secret.key")
    }

    /// Where users reach the site, with no trailing slash.
    pub fn public_origin(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
    }

    /// Cookies are marked `Secure` when the site is served over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.public_origin().starts_with("https://")
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
    fn the_public_url_is_an_origin() {
        let parse = |url: &str| Config::try_parse_from(["sfa", "--database-url", "x", "--public-url", url]);
        let config = parse("https://music.example.org/").expect("an origin");
        assert_eq!(config.public_origin(), "https://music.example.org");
        assert!(config.secure_cookies());
        assert!(parse("https://music.example.org/app").is_err());
        assert!(parse("ftp://music.example.org").is_err());
        assert!(parse("music.example.org").is_err());
        let local = Config::try_parse_from(["sfa", "--database-url", "x"]).expect("parses");
        assert_eq!(local.public_origin(), "http://127.0.0.1:3000");
        assert!(!local.secure_cookies());
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
