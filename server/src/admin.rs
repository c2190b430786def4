//! What administrators see and do: every account with its role, switch and storage; every job; and, for a
//! platform admin, any user's library to read. Each function takes the acting user and answers
//! [`Error::NotFound`] to anyone whose role does not allow it, as if the page did not exist.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    Error, Result,
    auth::{Role, User},
    storage::{Storage, StorageKey},
    tracks::{self, LibraryPage, LibraryQuery},
};

fn admin(actor: &User) -> Result<()> {
    if actor.role.is_admin() {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// One account as the admin page lists it.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub confirmed: bool,
    pub disabled: bool,
    pub inserted_at: DateTime<Utc>,
    pub tracks: i64,
    /// Bytes of the account's audio, cover art and stems on disk.
    pub storage_bytes: u64,
}

/// Every account, oldest first, with its tracks and the disk they use.
pub async fn accounts(pool: &PgPool, storage: &Storage, actor: &User) -> Result<Vec<Account>> {
    admin(actor)?;
    let rows = sqlx::query!(
        r#"select u.id, u.email, u.role as "role: Role", u.confirmed_at is not null as "confirmed!",
                  u.disabled_at is not null as "disabled!", u.inserted_at as "inserted_at: DateTime<Utc>",
                  (select count(*) from tracks t where t.user_id = u.id) as "tracks!",
                  array(select path from (
                      select t.audio_path as path from tracks t where t.user_id = u.id
                      union all select t.album_art_path from tracks t where t.user_id = u.id
                      union all select p.output_path from processing_jobs p where p.user_id = u.id
                  ) files where path is not null) as "files!"
           from users u order by u.inserted_at, u.email"#
    )
    .fetch_all(pool)
    .await?;
    let mut accounts = Vec::with_capacity(rows.len());
    for row in rows {
        let mut storage_bytes = 0;
        for path in &row.files {
            if let Ok(key) = StorageKey::parse(path) {
                storage_bytes += storage.usage(&key).await;
            }
        }
        accounts.push(Account {
            id: row.id,
            email: row.email,
            role: row.role,
            confirmed: row.confirmed,
            disabled: row.disabled,
            inserted_at: row.inserted_at,
            tracks: row.tracks,
            storage_bytes,
        });
    }
    Ok(accounts)
}

/// Locks account `id` if the actor may change it: not their own (nobody locks themselves out), and a
/// platform admin's only by a platform admin.
async fn changeable(tx: &mut sqlx::PgConnection, actor: &User, id: Uuid) -> Result<()> {
    admin(actor)?;
    let role = sqlx::query_scalar!(
        r#"select role as "role: Role" from users where id = $1 for update"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound)?;
    if id == actor.id {
        return Err(Error::Invalid(
            "You cannot change your own account here; ask another administrator.".into(),
        ));
    }
    if role == Role::PlatformAdmin && actor.role != Role::PlatformAdmin {
        return Err(Error::Invalid(
            "Only a platform admin can change a platform admin's account.".into(),
        ));
    }
    Ok(())
}

/// Gives account `id` the role `role`. Only a platform admin can make another one.
pub async fn set_role(pool: &PgPool, actor: &User, id: Uuid, role: Role) -> Result<()> {
    let mut tx = pool.begin().await?;
    changeable(&mut tx, actor, id).await?;
    if role == Role::PlatformAdmin && actor.role != Role::PlatformAdmin {
        return Err(Error::Invalid(
            "Only a platform admin can make a platform admin.".into(),
        ));
    }
    sqlx::query!("update users set role = $2 where id = $1", id, role as Role)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(actor = %actor.id, user.id = %id, role = role.as_str(), "role changed");
    Ok(())
}

/// Switches account `id` off (it cannot log in, and its sessions end at their next request) or on again.
/// Its tracks and files stay.
pub async fn set_disabled(pool: &PgPool, actor: &User, id: Uuid, disabled: bool) -> Result<()> {
    let mut tx = pool.begin().await?;
    changeable(&mut tx, actor, id).await?;
    sqlx::query!(
        "update users set disabled_at = case when $2 then coalesce(disabled_at, now()) end,
             security_stamp = case when $2 then gen_random_uuid() else security_stamp end
         where id = $1",
        id,
        disabled
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(actor = %actor.id, user.id = %id, disabled, "account switched");
    Ok(())
}

/// One job of any kind, as the admin page lists it.
#[derive(Debug, Clone)]
pub struct JobLine {
    pub id: Uuid,
    /// `download`, `processing` or `analysis`.
    pub kind: String,
    pub track_id: Uuid,
    pub track_title: String,
    pub owner_email: String,
    pub status: String,
    pub progress: i32,
    pub attempts: i32,
    pub error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// How many jobs the admin page lists at most.
pub const JOB_LINES: i64 = 200;

/// The most recently changed jobs of every user and kind, those in `status` only when given.
pub async fn jobs(pool: &PgPool, actor: &User, status: Option<&str>) -> Result<Vec<JobLine>> {
    admin(actor)?;
    Ok(sqlx::query_as!(
        JobLine,
        r#"select j.id as "id!", j.kind as "kind!", j.track_id as "track_id!", t.title as "track_title!",
                  u.email as "owner_email!", j.status as "status!", j.progress as "progress!",
                  j.attempts as "attempts!", j.error, j.updated_at as "updated_at!: DateTime<Utc>"
           from (
               select id, 'download' as kind, track_id, user_id, status, progress, attempts, error, updated_at
               from download_jobs
               union all
               select id, 'processing', track_id, user_id, status, progress, attempts, error, updated_at
               from processing_jobs
               union all
               select id, 'analysis', track_id, user_id, status, progress, attempts, error, updated_at
               from analysis_jobs
           ) j
           join tracks t on t.id = j.track_id
           join users u on u.id = j.user_id
           where $1::text is null or j.status = $1
           order by j.updated_at desc
           limit $2"#,
        status,
        JOB_LINES
    )
    .fetch_all(pool)
    .await?)
}

/// Jobs by state, for the summary at the top of the jobs list.
pub async fn job_counts(pool: &PgPool, actor: &User) -> Result<Vec<(String, i64)>> {
    admin(actor)?;
    let rows = sqlx::query!(
        r#"select status as "status!", count(*) as "count!" from (
               select status from download_jobs
               union all select status from processing_jobs
               union all select status from analysis_jobs
           ) j group by status order by status"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|row| (row.status, row.count)).collect())
}

/// The disk the data directory's files take, orphans and temporary files included.
pub async fn storage_total(storage: &Storage, actor: &User) -> Result<u64> {
    admin(actor)?;
    Ok(storage.total_usage().await)
}

/// Another user's library, to read: only a platform admin may, and only through this.
pub async fn library_of(
    pool: &PgPool,
    actor: &User,
    owner: Uuid,
    query: &LibraryQuery,
) -> Result<(String, LibraryPage)> {
    if actor.role != Role::PlatformAdmin {
        return Err(Error::NotFound);
    }
    let email = sqlx::query_scalar!("select email from users where id = $1", owner)
        .fetch_optional(pool)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((email, tracks::library_of(pool, owner, query).await?))
}
