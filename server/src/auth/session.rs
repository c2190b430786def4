//! The session layer: cookies, the PostgreSQL store, idle and absolute expiry.

use axum::{extract::Request, middleware::Next, response::Response};
use sha2::{Digest, Sha512};
use tower_sessions::{
    Expiry, SessionManagerLayer,
    cookie::{Key, SameSite},
};
use tower_sessions_sqlx_store::PostgresStore;

use crate::{
    AppState, Error, Result,
    auth::{AuthSession, Backend, User},
};

const COOKIE: &str = "sfa_session";
/// The session key holding the log-in time, for the absolute expiry.
const LOGGED_IN_AT: &str = "sfa.logged_in_at";

/// Creates the store's schema (`tower_sessions`) if it is missing.
pub async fn migrate_session_store(pool: &sqlx::PgPool) -> Result<()> {
    PostgresStore::new(pool.clone())
        .migrate()
        .await
        .map_err(|err| Error::Session(format!("migrating the session store: {err}")))
}

/// Deletes sessions past their expiry; the maintenance job calls this.
pub async fn delete_expired_sessions(pool: &sqlx::PgPool) -> Result<u64> {
    Ok(
        sqlx::query("delete from tower_sessions.session where expiry_date < now()")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// The session and authentication layers, to wrap around every route. Cookies are `HttpOnly`,
/// `SameSite=Lax`, `Secure` when the public URL is https, and signed with a key derived from the master
/// key.
pub fn layer(
    state: &AppState,
) -> axum_login::AuthManagerLayer<Backend, PostgresStore, tower_sessions::service::SignedCookie> {
    let signing = Key::from(&Sha512::digest(
        [b"sfa session cookies\0".as_slice(), state.master_key.expose()].concat(),
    ));
    let idle = tower_sessions::cookie::time::Duration::days(i64::from(state.config.session_idle_days));
    let sessions = SessionManagerLayer::new(PostgresStore::new(state.pool.clone()))
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(idle))
        .with_signed(signing);
    axum_login::AuthManagerLayerBuilder::new(
        Backend {
            pool: state.pool.clone(),
        },
        sessions,
    )
    .build()
}

/// Logs `user` in on this session: a new session id (no fixation), the user's stamp, the time.
pub async fn log_in(session: &mut AuthSession, user: &User) -> Result<()> {
    // axum-login renews the id only when nobody was logged in to the session; a session someone else was
    // logged in to (a shared computer, a planted cookie) must not carry over either.
    session
        .session
        .cycle_id()
        .await
        .map_err(|err| Error::Session(err.to_string()))?;
    session
        .login(user)
        .await
        .map_err(|err| Error::Session(err.to_string()))?;
    session
        .session
        .insert(LOGGED_IN_AT, chrono::Utc::now().timestamp())
        .await
        .map_err(|err| Error::Session(err.to_string()))
}

/// Ends sessions older than the absolute limit, however active they were. Runs inside [`layer`].
pub(crate) async fn enforce_absolute_expiry(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(mut session) = request.extensions().get::<AuthSession>().cloned() else {
        return next.run(request).await;
    };
    if session.user.is_some() {
        let logged_in_at: Option<i64> = session.session.get(LOGGED_IN_AT).await.unwrap_or_default();
        let limit = i64::from(state.config.session_max_days) * 86_400;
        if logged_in_at.is_none_or(|at| chrono::Utc::now().timestamp() - at > limit) {
            if let Err(err) = session.logout().await {
                tracing::error!(error = %err, "cannot end an expired session");
            }
            // Handlers read the session from the extensions: they must see it logged out.
            request.extensions_mut().insert(session);
        }
    }
    next.run(request).await
}
