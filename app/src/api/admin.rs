//! The admin pages' data and actions: accounts with their roles and switches, every job, the disk in use,
//! and (for a platform admin) another user's library to read. The server answers "not found" to anyone
//! else, so these pages do not exist for ordinary users.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr::{fail, row_id, state, user};
use crate::{api::tracks::LibraryRows, error::AppError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLine {
    pub id: String,
    pub email: String,
    /// `user`, `admin` or `platform_admin`.
    pub role: String,
    pub confirmed: bool,
    pub disabled: bool,
    /// `2026-12-04`
    pub joined: String,
    pub tracks: i64,
    pub storage_bytes: u64,
    /// The signed-in admin's own line: its role and switch cannot be changed here.
    pub is_me: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobItem {
    pub id: String,
    /// `download`, `processing` or `analysis`.
    pub kind: String,
    pub track_id: String,
    pub track_title: String,
    pub owner_email: String,
    pub status: String,
    pub progress: i32,
    pub attempts: i32,
    pub error: Option<String>,
    /// `2026-12-04 09:12 UTC`
    pub updated: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub accounts: Vec<AccountLine>,
    /// Jobs by status, every kind together.
    pub job_counts: Vec<(String, i64)>,
    pub jobs: Vec<JobItem>,
    /// Everything under the data directory's files, orphans and temporary files included.
    pub storage_total: u64,
    /// Whether the viewer may open other users' libraries.
    pub platform: bool,
}

/// Everything the admin page shows; `status` narrows the jobs to those in it (empty is every job).
#[server(endpoint = "admin")]
pub async fn admin_overview(status: String) -> Result<Overview, AppError> {
    use server::admin;
    let me = user().await?;
    let state = state()?;
    let status = Some(status.as_str()).filter(|status| !status.is_empty());
    let accounts = admin::accounts(&state.pool, &state.storage, &me)
        .await
        .map_err(fail)?;
    let jobs = admin::jobs(&state.pool, &me, status).await.map_err(fail)?;
    Ok(Overview {
        accounts: accounts
            .into_iter()
            .map(|account| AccountLine {
                is_me: account.id == me.id,
                id: account.id.to_string(),
                email: account.email,
                role: account.role.as_str().to_owned(),
                confirmed: account.confirmed,
                disabled: account.disabled,
                joined: account.inserted_at.format("%Y-%m-%d").to_string(),
                tracks: account.tracks,
                storage_bytes: account.storage_bytes,
            })
            .collect(),
        job_counts: admin::job_counts(&state.pool, &me).await.map_err(fail)?,
        jobs: jobs
            .into_iter()
            .map(|job| JobItem {
                id: job.id.to_string(),
                kind: job.kind,
                track_id: job.track_id.to_string(),
                track_title: job.track_title,
                owner_email: job.owner_email,
                status: job.status,
                progress: job.progress,
                attempts: job.attempts,
                error: job.error,
                updated: job.updated_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            })
            .collect(),
        storage_total: admin::storage_total(&state.storage, &me).await.map_err(fail)?,
        platform: me.role == server::auth::Role::PlatformAdmin,
    })
}

#[server(endpoint = "admin-set-role")]
pub async fn set_user_role(id: String, role: String) -> Result<(), AppError> {
    use server::auth::Role;
    let me = user().await?;
    let role = match role.as_str() {
        "user" => Role::User,
        "admin" => Role::Admin,
        "platform_admin" => Role::PlatformAdmin,
        _ => {
            return Err(fail(server::Error::Invalid(
                "Choose user, admin or platform admin.".into(),
            )));
        }
    };
    server::admin::set_role(&state()?.pool, &me, row_id(&id)?, role)
        .await
        .map_err(fail)
}

#[server(endpoint = "admin-set-disabled")]
pub async fn set_user_disabled(id: String, disabled: bool) -> Result<(), AppError> {
    let me = user().await?;
    server::admin::set_disabled(&state()?.pool, &me, row_id(&id)?, disabled)
        .await
        .map_err(fail)
}

/// Cancels (or, with `retry`, runs again) the stopped or running jobs of any user's track.
#[server(endpoint = "admin-job")]
pub async fn admin_job_action(track: String, retry: bool) -> Result<(), AppError> {
    use server::jobs::control::{self, Actor};
    let me = user().await?;
    let state = state()?;
    let track = row_id(&track)?;
    if retry {
        control::retry(&state.jobs, &state.pool, Actor::Admin(&me), track)
            .await
            .map(drop)
    } else {
        control::cancel(&state.pool, Actor::Admin(&me), track)
            .await
            .map(drop)
    }
    .map_err(fail)
}

/// Another user's library, read-only, for a platform admin: the newest [`READ_ONLY_ROWS`] tracks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadOnlyLibrary {
    pub email: String,
    pub library: LibraryRows,
}

pub const READ_ONLY_ROWS: i64 = 200;

#[server(endpoint = "admin-library")]
pub async fn user_library(id: String) -> Result<ReadOnlyLibrary, AppError> {
    let me = user().await?;
    let query = server::tracks::LibraryQuery {
        limit: READ_ONLY_ROWS,
        ..Default::default()
    };
    let (email, page) = server::admin::library_of(&state()?.pool, &me, row_id(&id)?, &query)
        .await
        .map_err(fail)?;
    let mut library = LibraryRows::from(page);
    // Art we store is served to its owner only; a read-only view shows none rather than broken images.
    for track in &mut library.tracks {
        track.art_url = track.art_url.take().filter(|url| !url.starts_with("/tracks/"));
    }
    Ok(ReadOnlyLibrary { email, library })
}
