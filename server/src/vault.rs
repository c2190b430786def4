//! Secrets at rest (users' LLM provider keys and lalal.ai license keys): AES-256-GCM under a key derived from the master key.
//!
//! A sealed secret is `format (1 byte) ‖ key id (4) ‖ nonce (12) ‖ ciphertext and tag`. The nonce is fresh
//! from the operating system's generator on every seal, so sealing the same key twice gives two different
//! values. The associated data names the row the secret belongs to (its user and its own id), so a value
//! copied into another row, or another user's, does not open. The key id says which master key sealed it:
//! after a rotation the retired keys still open old values until `rotate-secrets` has sealed them again
//! under the current one.

use aes_gcm::{
    Aes256Gcm, Key, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Error, Result, secret::MasterKey};

const FORMAT: u8 = 1;
const KEY_ID_LEN: usize = 4;
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;
/// Keeps the encryption key apart from the master key's other use (signing session cookies).
const KEY_CONTEXT: &[u8] = b"sound-forge-alchemy secrets at rest v1";

/// The column a secret is kept in: part of what the associated data binds it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// `llm_providers.api_key`, whose row is the provider.
    ProviderKey,
    /// `user_settings.lalalai_license_key`, whose row is the user's settings (keyed by the user).
    LalalaiLicense,
}

impl Column {
    fn label(self) -> &'static [u8] {
        match self {
            Self::ProviderKey => b"llm_providers.api_key:",
            Self::LalalaiLicense => b"user_settings.lalalai_license_key:",
        }
    }
}

/// The row a secret belongs to: what the associated data binds it to.
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub column: Column,
    pub user_id: Uuid,
    pub row_id: Uuid,
}

impl Owner {
    /// The key of the user's LLM provider `row_id`.
    pub fn provider_key(user_id: Uuid, row_id: Uuid) -> Self {
        Self {
            column: Column::ProviderKey,
            user_id,
            row_id,
        }
    }

    /// The user's lalal.ai license key.
    pub fn lalalai_license(user_id: Uuid) -> Self {
        Self {
            column: Column::LalalaiLicense,
            user_id,
            row_id: user_id,
        }
    }

    fn associated_data(self) -> Vec<u8> {
        let mut data = self.column.label().to_vec();
        data.extend_from_slice(self.user_id.as_bytes());
        data.extend_from_slice(self.row_id.as_bytes());
        data
    }
}

#[derive(Clone)]
struct SealingKey {
    id: [u8; KEY_ID_LEN],
    cipher: Aes256Gcm,
}

impl SealingKey {
    fn derive(master: &MasterKey) -> Self {
        let key = Sha256::new()
            .chain_update(KEY_CONTEXT)
            .chain_update(master.expose())
            .finalize();
        let id = Sha256::digest(key);
        Self {
            id: [id[0], id[1], id[2], id[3]],
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)),
        }
    }
}

/// Seals with the current master key; opens with it or any retired one.
#[derive(Clone)]
pub struct Vault {
    current: SealingKey,
    retired: Vec<SealingKey>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("retired", &self.retired.len())
            .finish_non_exhaustive()
    }
}

impl Vault {
    pub fn new(current: &MasterKey, retired: &[MasterKey]) -> Self {
        Self {
            current: SealingKey::derive(current),
            retired: retired.iter().map(SealingKey::derive).collect(),
        }
    }

    pub fn seal(&self, secret: &SecretString, owner: Owner) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = owner.associated_data();
        let sealed = self
            .current
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: &aad,
                },
            )
            // AES-GCM fails only on inputs of gigabytes.
            .unwrap_or_default();
        let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
        out.push(FORMAT);
        out.extend_from_slice(&self.current.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The secret in `sealed`, if it was sealed for `owner` under a key this vault holds and nobody
    /// changed a bit of it. The error says which of those failed, never anything of the secret.
    pub fn open(&self, sealed: &[u8], owner: Owner) -> Result<SecretString> {
        if sealed.len() < HEADER_LEN || sealed[0] != FORMAT {
            return Err(Error::Internal("a stored secret has an unknown format".into()));
        }
        let (id, rest) = sealed[1..].split_at(KEY_ID_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let key = std::iter::once(&self.current)
            .chain(&self.retired)
            .find(|key| key.id == id)
            .ok_or_else(|| {
                Error::Internal(format!(
                    "a stored secret was sealed by master key {}, which is not configured",
                    hex::encode(id)
                ))
            })?;
        let aad = owner.associated_data();
        let plain = key
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                Error::Internal(format!(
                    "a stored secret of row {} does not open: altered, or copied from another row",
                    owner.row_id
                ))
            })?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| Error::Internal("a stored secret is not text".into()))
    }

    /// Whether `sealed` was sealed under the current master key, so a rotation can leave it.
    pub fn is_current(&self, sealed: &[u8]) -> bool {
        sealed.get(1..1 + KEY_ID_LEN) == Some(&self.current.id[..])
    }

    /// `sealed` sealed again under the current master key, or `None` if it already is: one secret's step
    /// of a rotation.
    pub fn resealed(&self, sealed: &[u8], owner: Owner) -> Result<Option<Vec<u8>>> {
        if self.is_current(sealed) {
            return Ok(None);
        }
        Ok(Some(self.seal(&self.open(sealed, owner)?, owner)))
    }
}

/// The last four characters of a key, for the page that may never show the rest: `••••abcd`.
pub fn masked(secret: &SecretString) -> String {
    let chars: Vec<char> = secret.expose_secret().chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("••••{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_bytes([byte; crate::secret::KEY_LEN])
    }

    fn owner() -> Owner {
        Owner::provider_key(Uuid::new_v4(), Uuid::new_v4())
    }

    fn key() -> SecretString {
        SecretString::from("sk-ant-api03-not-a-real-key-7f3a")
    }

    #[test]
    fn a_sealed_key_opens_for_its_row_and_every_seal_differs() {
        let vault = Vault::new(&master(1), &[]);
        let row = owner();
        let (first, second) = (vault.seal(&key(), row), vault.seal(&key(), row));
        assert_ne!(first, second, "a fresh nonce each time");
        assert!(
            !first
                .windows(10)
                .any(|w| key().expose_secret().as_bytes().windows(10).any(|k| k == w))
        );
        for sealed in [&first, &second] {
            assert_eq!(
                vault.open(sealed, row).expect("opens").expose_secret(),
                key().expose_secret()
            );
        }
        assert_eq!(masked(&key()), "••••7f3a");
        assert_eq!(masked(&SecretString::from("ab")), "••••ab");
    }

    #[test]
    fn altered_moved_or_foreign_values_do_not_open() {
        let vault = Vault::new(&master(1), &[]);
        let row = owner();
        let sealed = vault.seal(&key(), row);
        for at in [0, 3, HEADER_LEN, sealed.len() - 1] {
            let mut altered = sealed.clone();
            altered[at] ^= 1;
            assert!(vault.open(&altered, row).is_err(), "a bit changed at {at}");
        }
        let other_row = Owner::provider_key(row.user_id, Uuid::new_v4());
        let other_user = Owner::provider_key(Uuid::new_v4(), row.row_id);
        assert!(vault.open(&sealed, other_row).is_err(), "copied to another row");
        assert!(vault.open(&sealed, other_user).is_err(), "copied to another user");
        let same_user_license = Owner::lalalai_license(row.user_id);
        assert!(
            vault.open(&sealed, same_user_license).is_err(),
            "copied to another column"
        );
        assert!(
            Vault::new(&master(2), &[]).open(&sealed, row).is_err(),
            "another master key"
        );
        assert!(vault.open(&sealed[..10], row).is_err(), "cut short");
        let err = vault.open(&sealed, other_row).expect_err("fails").to_string();
        assert!(!err.contains("not-a-real"), "{err}");
    }

    #[test]
    fn after_a_rotation_old_values_open_until_sealed_again() {
        let row = owner();
        let old = Vault::new(&master(1), &[]).seal(&key(), row);
        let rotated = Vault::new(&master(2), &[master(1)]);
        assert!(!rotated.is_current(&old));
        let again = rotated.seal(&rotated.open(&old, row).expect("a retired key opens"), row);
        assert!(rotated.is_current(&again));
        assert!(
            Vault::new(&master(2), &[]).open(&again, row).is_ok(),
            "the retired key is no longer needed"
        );
    }
}
