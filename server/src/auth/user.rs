//! The `users` row and the queries on it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, clap::ValueEnum)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Admin,
    // The name the database, the pages and the README use, on the command line too.
    #[value(name = "platform_admin")]
    PlatformAdmin,
}

impl Role {
    /// Whether the role may use the admin pages.
    pub fn is_admin(self) -> bool {
        matches!(self, Self::Admin | Self::PlatformAdmin)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
            Self::PlatformAdmin => "platform_admin",
        }
    }
}

/// A signed-up user. Holds the password hash, so it never goes to the browser and never derives
/// `Serialize`; its `Debug` leaves the hash out.
#[derive(Clone)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub(crate) hashed_password: String,
    pub(crate) security_stamp: Uuid,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl axum_login::AuthUser for User {
    type Id = Uuid;

    fn id(&self) -> Uuid {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        self.security_stamp.as_bytes()
    }
}

// Every query names the columns and their Rust types: the `time` feature that the session store turns on
// in sqlx would otherwise make the macros pick `time`'s types for timestamps.

/// The account `id` unless an administrator switched it off: what a session finds on each request.
pub async fn find_enabled(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<User>> {
    Ok(sqlx::query_as!(
        User,
        r#"select id, email, role as "role: Role", confirmed_at as "confirmed_at: DateTime<Utc>", hashed_password, security_stamp
           from users where id = $1 and disabled_at is null"#,
        id
    )
    .fetch_optional(db)
    .await?)
}

pub async fn find_by_email(db: impl PgExecutor<'_>, email: &str) -> Result<Option<User>> {
    Ok(sqlx::query_as!(
        User,
        r#"select id, email, role as "role: Role", confirmed_at as "confirmed_at: DateTime<Utc>", hashed_password, security_stamp
           from users where lower(email) = lower($1)"#,
        email
    )
    .fetch_optional(db)
    .await?)
}

/// Whether an administrator switched the account off.
pub async fn is_disabled(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"select disabled_at is not null as "disabled!" from users where id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?
    .unwrap_or(true))
}

/// A new account; the first on the instance is its admin. The lock makes "first" mean first even when
/// two people register at the same moment.
pub async fn insert(pool: &PgPool, email: &str, hashed_password: &str) -> Result<User> {
    let mut tx = pool.begin().await?;
    sqlx::query!("select pg_advisory_xact_lock(hashtext('sfa.users.first_admin'))")
        .execute(&mut *tx)
        .await?;
    let user = sqlx::query_as!(
        User,
        r#"insert into users (id, email, hashed_password, role)
           values ($1, $2, $3, case when exists (select 1 from users) then 'user' else 'admin' end)
           returning id, email, role as "role: Role", confirmed_at as "confirmed_at: DateTime<Utc>", hashed_password, security_stamp"#,
        Uuid::new_v4(),
        email,
        hashed_password
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|err| match &err {
        sqlx::Error::Database(db) if db.constraint() == Some("users_email_key") => Error::EmailTaken,
        _ => Error::Database(err),
    })?;
    tx.commit().await?;
    Ok(user)
}

/// Sets a new password and a new security stamp, which ends every session of the user.
pub async fn set_password(db: impl PgExecutor<'_>, id: Uuid, hashed_password: &str) -> Result<User> {
    Ok(sqlx::query_as!(
        User,
        r#"update users set hashed_password = $2, security_stamp = gen_random_uuid() where id = $1
           returning id, email, role as "role: Role", confirmed_at as "confirmed_at: DateTime<Utc>", hashed_password, security_stamp"#,
        id,
        hashed_password
    )
    .fetch_one(db)
    .await?)
}

/// A new security stamp: every session of the user ends at its next request.
pub async fn renew_security_stamp(db: impl PgExecutor<'_>, id: Uuid) -> Result<User> {
    Ok(sqlx::query_as!(
        User,
        r#"update users set security_stamp = gen_random_uuid() where id = $1
           returning id, email, role as "role: Role", confirmed_at as "confirmed_at: DateTime<Utc>", hashed_password, security_stamp"#,
        id
    )
    .fetch_one(db)
    .await?)
}

/// Marks the address `email` confirmed, making it the account's address if it was a requested change.
pub async fn confirm_email(db: impl PgExecutor<'_>, id: Uuid, email: &str) -> Result<User> {
    sqlx::query_as!(
        User,
        r#"update users set email = $2, confirmed_at = now() where id = $1
           returning id, email, role as "role: Role", confirmed_at as "confirmed_at: DateTime<Utc>", hashed_password, security_stamp"#,
        id,
        email
    )
    .fetch_one(db)
    .await
    .map_err(|err| match &err {
        sqlx::Error::Database(db) if db.constraint() == Some("users_email_key") => Error::EmailTaken,
        _ => Error::Database(err),
    })
}

pub async fn set_role(db: impl PgExecutor<'_>, email: &str, role: Role) -> Result<User> {
    sqlx::query_as!(
        User,
        r#"update users set role = $2 where lower(email) = lower($1)
           returning id, email, role as "role: Role", confirmed_at as "confirmed_at: DateTime<Utc>", hashed_password, security_stamp"#,
        email,
        role as Role
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound)
}

/// A plausible email address, trimmed: something@something.tld, no spaces, at most 320 characters.
/// Whether it receives mail is what confirmation finds out.
pub fn normalize_email(input: &str) -> Result<String> {
    let email = input.trim();
    let plausible = email.len() <= 320
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if plausible {
        Ok(email.to_owned())
    } else {
        Err(Error::Invalid(
            "Enter an email address like name@example.org.".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_named_alike_everywhere() {
        use clap::ValueEnum;
        for role in [Role::User, Role::Admin, Role::PlatformAdmin] {
            assert_eq!(Role::from_str(role.as_str(), false), Ok(role));
        }
    }

    #[test]
    fn plausible_addresses_pass_and_others_do_not() {
        assert_eq!(
            normalize_email("  DJ@Example.org ").expect("valid"),
            "DJ@Example.org"
        );
        for bad in [
            "",
            "dj",
            "dj@",
            "@example.org",
            "dj@example",
            "dj@@example.org",
            "d j@example.org",
            "dj@example.org.",
            "dj@.org",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        assert!(normalize_email(&format!("{}@example.org", "a".repeat(320))).is_err());
    }
}
