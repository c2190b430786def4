//! One-time tokens for the links we mail: 32 random bytes go to the user once, only their SHA-256 is
//! stored (`users_tokens`), and using one deletes it.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirms an address: the account's own, or the new one of a requested change.
    Confirm,
    ResetPassword,
}

impl Purpose {
    fn context(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::ResetPassword => "reset_password",
        }
    }

    /// A reset link is a key to the account, so it is short-lived; a confirmation only proves an address.
    pub fn lifetime(self) -> chrono::TimeDelta {
        match self {
            Self::Confirm => chrono::TimeDelta::days(7),
            Self::ResetPassword => chrono::TimeDelta::hours(1),
        }
    }
}

/// Whom a used token was for.
#[derive(Debug)]
pub struct Grant {
    pub user_id: Uuid,
    pub sent_to: String,
}

fn digest(raw: &[u8]) -> Vec<u8> {
    Sha256::digest(raw).to_vec()
}

/// A new token for `user_id`, mailed to `sent_to`; returns the text that goes into the link.
pub async fn issue(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    purpose: Purpose,
    sent_to: &str,
) -> Result<String> {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    sqlx::query!(
        "insert into users_tokens (id, user_id, token, context, sent_to) values ($1, $2, $3, $4, $5)",
        Uuid::new_v4(),
        user_id,
        digest(&raw),
        purpose.context(),
        sent_to
    )
    .execute(db)
    .await?;
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

/// Uses the token: deletes it and says whom it was for, if it exists, is for `purpose` and has not
/// expired. Anything else is [`Error::TokenInvalid`], without saying which.
pub async fn consume(db: impl PgExecutor<'_>, purpose: Purpose, text: &str) -> Result<Grant> {
    let raw = URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| Error::TokenInvalid)?;
    if raw.len() != 32 {
        return Err(Error::TokenInvalid);
    }
    let row = sqlx::query!(
        r#"delete from users_tokens
           where context = $1 and token = $2 and inserted_at > now() - make_interval(secs => $3)
           returning user_id, sent_to as "sent_to!""#,
        purpose.context(),
        digest(&raw),
        purpose.lifetime().as_seconds_f64()
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::TokenInvalid)?;
    Ok(Grant {
        user_id: row.user_id,
        sent_to: row.sent_to,
    })
}

/// Deletes every outstanding token of `purpose` for the user (after a reset, the other reset links die).
pub async fn revoke_all(db: impl PgExecutor<'_>, user_id: Uuid, purpose: Purpose) -> Result<()> {
    sqlx::query!(
        "delete from users_tokens where user_id = $1 and context = $2",
        user_id,
        purpose.context()
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes tokens past the longest lifetime; the maintenance job calls this.
pub async fn delete_expired(db: impl PgExecutor<'_>) -> Result<u64> {
    let longest = Purpose::Confirm.lifetime().max(Purpose::ResetPassword.lifetime());
    Ok(sqlx::query!(
        "delete from users_tokens where inserted_at <= now() - make_interval(secs => $1)",
        longest.as_seconds_f64()
    )
    .execute(db)
    .await?
    .rows_affected())
}
