//! Accounts and sessions: who a request comes from, and the one rule about what they may touch.
//!
//! Sessions are axum-login's, stored in PostgreSQL by tower-sessions. A session holds the user's id and
//! the security stamp they had at log in; a new stamp (password changed or reset, "log out everywhere")
//! ends every session at its next request. Sessions also end when idle and a fixed time after log in.

pub mod account;
mod guard;
mod password;
mod session;
mod token;
pub mod user;

use sqlx::PgPool;
use uuid::Uuid;

pub(crate) use self::session::enforce_absolute_expiry;
pub use self::{
    guard::{PublicPaths, require_login, safe_next},
    password::{MAX_CHARS as PASSWORD_MAX_CHARS, MIN_CHARS as PASSWORD_MIN_CHARS},
    session::{delete_expired_sessions, layer, log_in, migrate_session_store},
    token::delete_expired as delete_expired_tokens,
    user::{Role, User},
};
use crate::Error;

/// The session's view of the user: axum-login's `AuthSession` over our backend.
pub type AuthSession = axum_login::AuthSession<Backend>;

/// Loads the session's user on every request. Logging in goes through [`account::authenticate`], which
/// adds the rate limits; axum-login's own `authenticate` is not used.
#[derive(Clone)]
pub struct Backend {
    pool: PgPool,
}

impl axum_login::AuthnBackend for Backend {
    type User = User;
    type Credentials = std::convert::Infallible;
    type Error = Error;

    async fn authenticate(&self, credentials: Self::Credentials) -> Result<Option<User>, Error> {
        match credentials {}
    }

    async fn get_user(&self, id: &Uuid) -> Result<Option<User>, Error> {
        user::find_enabled(&self.pool, *id).await
    }
}
