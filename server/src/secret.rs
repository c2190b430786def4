//! The instance's master secret: signs session cookies and encrypts secrets at rest.

use std::path::Path;

use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};

use crate::{
    Error, Result,
    config::{Config, Environment},
};

pub const KEY_LEN: usize = 32;

/// 32 secret bytes; never printed.
#[derive(Clone)]
pub struct MasterKey(std::sync::Arc<SecretBox<[u8; KEY_LEN]>>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        self.0.expose_secret()
    }

    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(std::sync::Arc::new(SecretBox::new(Box::new(bytes))))
    }

    fn from_hex(text: &str) -> Result<Self> {
        let mut bytes = [0u8; KEY_LEN];
        hex::decode_to_slice(text.trim(), &mut bytes)
            .map_err(|_| Error::Config(format!("a secret key must be {} hex digits", KEY_LEN * 2)))?;
        Ok(Self::from_bytes(bytes))
    }

    /// The master keys retired by a rotation (`SFA_RETIRED_SECRET_KEYS`), which still open secrets sealed
    /// before it until `rotate-secrets` has sealed them again.
    pub fn retired(config: &Config) -> Result<Vec<Self>> {
        config
            .retired_secret_keys
            .as_ref()
            .map(|keys| {
                keys.expose_secret()
                    .split(',')
                    .filter(|k| !k.trim().is_empty())
                    .map(Self::from_hex)
                    .collect()
            })
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    /// The configured key; in development without one, the key kept in the data directory, made on first
    /// use. Production refuses to invent a key, since losing it would make every stored secret unreadable.
    pub fn load(config: &Config) -> Result<Self> {
        if let Some(hex) = &config.secret_key {
            return Self::from_hex(hex.expose_secret());
        }
        if config.environment == Environment::Production {
            return Err(Error::Config("SFA_SECRET_KEY is required in production".into()));
        }
        Self::load_or_create(&config.secret_key_file())
    }

    fn load_or_create(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; KEY_LEN];
                rand::rng().fill_bytes(&mut bytes);
                write_private(path, &hex::encode(bytes))?;
                tracing::info!(path = %path.display(), "generated a development secret key");
                Ok(Self::from_bytes(bytes))
            }
            Err(err) => Err(Error::io(path)(err)),
        }
    }
}

/// Writes a file only its owner can read, failing rather than replacing one that appeared meanwhile.
fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(Error::io(path))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(Error::io(path))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn config(args: &[&str]) -> Config {
        let mut all = vec!["sfa", "--database-url", "postgres://x/y"];
        all.extend_from_slice(args);
        Config::try_parse_from(all).expect("parses")
    }

    #[test]
    fn development_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = config(&["--data-dir", dir.path().to_str().expect("utf-8")]);
        let first = MasterKey::load(&config).expect("made");
        let second = MasterKey::load(&config).expect("read back");
        assert_eq!(first.expose(), second.expose());
        let mode = std::fs::metadata(config.secret_key_file())
            .expect("kept")
            .permissions();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777, 0o600);
    }

    #[test]
    fn production_requires_a_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().to_str().expect("utf-8");
        let err = MasterKey::load(&config(&["--data-dir", data_dir, "--environment", "production"]));
        assert!(matches!(err, Err(Error::Config(_))));
        let key = "ab".repeat(KEY_LEN);
        let given = config(&["--environment", "production", "--secret-key", &key]);
        assert_eq!(MasterKey::load(&given).expect("given").expose(), &[0xab; KEY_LEN]);
        let short = config(&["--environment", "production", "--secret-key", "abcd"]);
        assert!(matches!(MasterKey::load(&short), Err(Error::Config(_))));
    }
}
