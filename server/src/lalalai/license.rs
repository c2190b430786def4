//! A user's lalal.ai license key, sealed in `user_settings.lalalai_license_key` by the vault, and shown
//! only as its last four characters.

use reqwest::Client;
use secrecy::SecretString;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::api::Api;
use crate::{
    Error, Result,
    vault::{self, Owner, Vault},
};

/// Seals and stores `key` as the user's license key, replacing any before it.
pub async fn save(pool: &PgPool, vault: &Vault, user_id: Uuid, key: &str) -> Result<()> {
    let trimmed = key.trim();
    if trimmed.is_empty() || trimmed.len() > 200 || trimmed.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "Paste the license key as lalal.ai shows it (Account → License key).".into(),
        ));
    }
    let sealed = vault.seal(&SecretString::from(trimmed), Owner::lalalai_license(user_id));
    sqlx::query!(
        "insert into user_settings (user_id, lalalai_license_key) values ($1, $2)
         on conflict (user_id) do update set lalalai_license_key = excluded.lalalai_license_key",
        user_id,
        sealed
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets the user's key.
pub async fn remove(pool: &PgPool, user_id: Uuid) -> Result<()> {
    sqlx::query!(
        "update user_settings set lalalai_license_key = null where user_id = $1",
        user_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The stored key's last four characters, if there is one.
pub async fn hint(pool: &PgPool, vault: &Vault, user_id: Uuid) -> Result<Option<String>> {
    let sealed = stored(pool, user_id).await?;
    Ok(sealed.map(
        |sealed| match vault.open(&sealed, Owner::lalalai_license(user_id)) {
            Ok(key) => vault::masked(&key),
            Err(err) => {
                tracing::warn!(error = %err, user = %user_id, "a lalal.ai key does not open");
                "unreadable: enter the key again".to_owned()
            }
        },
    ))
}

async fn stored(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar!(
        "select lalalai_license_key from user_settings where user_id = $1",
        user_id
    )
    .fetch_optional(db)
    .await?
    .flatten())
}

/// The user's key, opened; its absence, or a key that no longer opens, is the user's to fix in Settings.
pub async fn key(db: impl PgExecutor<'_>, vault: &Vault, user_id: Uuid) -> Result<SecretString> {
    let sealed = stored(db, user_id).await?.ok_or_else(|| {
        Error::Invalid("Separating with lalal.ai needs your license key: add it in Settings.".into())
    })?;
    vault
        .open(&sealed, Owner::lalalai_license(user_id))
        .map_err(|err| {
            tracing::warn!(error = %err, user = %user_id, "a lalal.ai key does not open");
            Error::Invalid(
                "Your lalal.ai license key cannot be read any more: enter it again in Settings.".into(),
            )
        })
}

/// Whether the user's key works, as the minutes it has left.
pub async fn test(pool: &PgPool, vault: &Vault, client: &Client, base: &str, user_id: Uuid) -> Result<f64> {
    let key = key(pool, vault, user_id).await?;
    Api::new(client, base, key).minutes_left().await
}

/// Seals every stored license key again under the current master key, in the caller's transaction (see
/// `crate::reseal_secrets`). Returns how many changed.
pub async fn rotate_keys(tx: &mut sqlx::PgConnection, vault: &Vault) -> Result<usize> {
    let rows = sqlx::query!(
        r#"select user_id, lalalai_license_key as "key!" from user_settings
           where lalalai_license_key is not null for update"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut resealed = Vec::new();
    for row in rows {
        if let Some(sealed) = vault.resealed(&row.key, Owner::lalalai_license(row.user_id))? {
            resealed.push((row.user_id, sealed));
        }
    }
    for (user_id, sealed) in &resealed {
        sqlx::query!(
            "update user_settings set lalalai_license_key = $2 where user_id = $1",
            user_id,
            sealed
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(resealed.len())
}
