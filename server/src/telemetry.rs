//! Structured logs with `tracing`, as text for a terminal or JSON for a log collector.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

use crate::{
    Error, Result,
    config::{Config, LogFormat},
};

pub fn init(config: &Config) -> Result<()> {
    let filter = EnvFilter::try_new(&config.log)
        .map_err(|err| Error::Config(format!("log filter {:?}: {err}", config.log)))?;
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match config.log_format {
        // Colours only for a terminal: escape codes in a log file are noise.
        LogFormat::Text => registry
            .with(fmt::layer().with_ansi(std::io::stdout().is_terminal()))
            .try_init(),
        LogFormat::Json => registry.with(fmt::layer().json().flatten_event(true)).try_init(),
    };
    installed.map_err(|err| Error::Config(format!("logging: {err}")))
}
