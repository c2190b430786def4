//! Fixed-window rate limits kept in PostgreSQL (`rate_limits`), so every server process counts together.

use std::time::Duration;

use sqlx::PgPool;

use crate::{Error, Result};

/// At most `max` attempts per `window` for one key (a client address, an account).
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub name: &'static str,
    pub max: i32,
    pub window: Duration,
}

pub const LOGIN_PER_ADDRESS: Limit = Limit {
    name: "login:addr",
    max: 30,
    window: Duration::from_secs(15 * 60),
};
pub const LOGIN_PER_ACCOUNT: Limit = Limit {
    name: "login:account",
    max: 10,
    window: Duration::from_secs(15 * 60),
};
pub const REGISTER_PER_ADDRESS: Limit = Limit {
    name: "register:addr",
    max: 10,
    window: Duration::from_secs(60 * 60),
};
pub const RESET_PER_ADDRESS: Limit = Limit {
    name: "reset:addr",
    max: 10,
    window: Duration::from_secs(60 * 60),
};
pub const RESET_PER_ACCOUNT: Limit = Limit {
    name: "reset:account",
    max: 3,
    window: Duration::from_secs(60 * 60),
};

/// Counts one attempt for `key`; past the limit, [`Error::RateLimited`] with the time until the window
/// ends. Keys are compared in lower case (email addresses).
pub async fn hit(pool: &PgPool, limit: Limit, key: &str) -> Result<()> {
    let bucket = format!("{}:{}", limit.name, key.to_lowercase());
    let window_secs = limit.window.as_secs_f64();
    let row = sqlx::query!(
        r#"with window_start as (
               select to_timestamp(floor(extract(epoch from now())::float8 / $2::float8) * $2::float8) as at
           )
           insert into rate_limits (bucket, window_start, hits)
           select $1, at, 1 from window_start
           on conflict (bucket, window_start) do update set hits = rate_limits.hits + 1
           returning hits, extract(epoch from (window_start - now()))::float8 + $2::float8 as "seconds_left!""#,
        bucket,
        window_secs
    )
    .fetch_one(pool)
    .await?;
    if row.hits > limit.max {
        let retry_after = Duration::from_secs_f64(row.seconds_left.clamp(1.0, window_secs).ceil());
        return Err(Error::RateLimited { retry_after });
    }
    Ok(())
}

/// Deletes windows that have ended; the maintenance job calls this.
pub async fn delete_expired(pool: &PgPool) -> Result<u64> {
    // The longest window is an hour.
    Ok(
        sqlx::query!("delete from rate_limits where window_start < now() - interval '1 hour'")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
