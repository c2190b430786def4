//! The admin pages: accounts (roles, the on/off switch, tracks and disk per account), the disk in all,
//! every job with retry and cancel, and, for a platform admin, any user's library to read.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::admin::{
        AccountLine, JobItem, admin_job_action, admin_overview, set_user_disabled, set_user_role,
        user_library,
    },
    components::{track_facts::TrackFacts, track_jobs::JobStages},
    routes::library_view::count,
};

const ROLES: [(&str, &str); 3] = [
    ("user", "User"),
    ("admin", "Admin"),
    ("platform_admin", "Platform admin"),
];

const JOB_STATUSES: [(&str, &str); 7] = [
    ("", "Every job"),
    ("queued", "Queued"),
    ("downloading", "Downloading"),
    ("processing", "Running"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
    ("completed", "Completed"),
];

/// `12.3 MB`
pub fn size(bytes: u64) -> String {
    match bytes {
        0..1_000_000 => format!("{:.0} kB", bytes as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", bytes as f64 / 1e6),
        _ => format!("{:.2} GB", bytes as f64 / 1e9),
    }
}

/// What an admin action changed, for the page to look again.
#[derive(Debug, Clone)]
enum Change {
    Role { id: String, role: String },
    Switch { id: String, disabled: bool },
    Job { track: String, retry: bool },
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let status = RwSignal::new(String::new());
    let act = Action::new(|change: &Change| {
        let change = change.clone();
        async move {
            match change {
                Change::Role { id, role } => set_user_role(id, role).await,
                Change::Switch { id, disabled } => set_user_disabled(id, disabled).await,
                Change::Job { track, retry } => admin_job_action(track, retry).await,
            }
        }
    });
    let refresh = RwSignal::new(0u32);
    let overview = Resource::new(
        move || (status.get(), act.version().get(), refresh.get()),
        |(status, _, _)| admin_overview(status),
    );
    view! {
        <Title text="Admin" />
        <h1>"Admin"</h1>
        {move || {
            act.value().get().and_then(Result::err).map(|err| {
                view! { <p class="form-error" role="alert">{err.to_string()}</p> }
            })
        }}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                overview.get().map(|result| match result {
                    Err(err) => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                    Ok(overview) => {
                        let platform = overview.platform;
                        view! {
                            <section class="panel admin-summary" aria-labelledby="storage-title">
                                <h2 id="storage-title">"Storage and work"</h2>
                                <p class="admin-storage">
                                    {format!("{} on disk in all", size(overview.storage_total))}
                                </p>
                                <ul class="job-counts" aria-label="Jobs by state">
                                    {overview
                                        .job_counts
                                        .into_iter()
                                        .map(|(status, count)| view! { <li>{format!("{count} {status}")}</li> })
                                        .collect_view()}
                                </ul>
                            </section>
                            <Accounts accounts=overview.accounts platform act />
                            <Jobs jobs=overview.jobs status act refresh />
                        }
                        .into_any()
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn Accounts(
    accounts: Vec<AccountLine>,
    platform: bool,
    act: Action<Change, Result<(), crate::error::AppError>>,
) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="accounts-title">
            <h2 id="accounts-title">"Accounts"</h2>
            <div class="table-scroll">
                <table class="admin-table accounts-table">
                    <thead>
                        <tr>
                            <th scope="col">"Email"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Joined"</th>
                            <th scope="col">"Tracks"</th>
                            <th scope="col">"Storage"</th>
                            <th scope="col">"Account"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {accounts
                            .into_iter()
                            .map(|account| {
                                let id = StoredValue::new(account.id.clone());
                                let email = account.email.clone();
                                let disabled = account.disabled;
                                view! {
                                    <tr data-email=account.email.clone() class:disabled=disabled>
                                        <th scope="row">
                                            {if platform {
                                                view! { <a href=format!("/admin/users/{}", account.id)>{email.clone()}</a> }.into_any()
                                            } else {
                                                email.clone().into_any()
                                            }}
                                            {(!account.confirmed).then(|| view! { " " <span class="badge warn">"unconfirmed"</span> })}
                                        </th>
                                        <td>
                                            <select
                                                aria-label=format!("Role of {email}")
                                                disabled=account.is_me
                                                on:change=move |event| {
                                                    act.dispatch(Change::Role { id: id.get_value(), role: event_target_value(&event) });
                                                }
                                            >
                                                {ROLES
                                                    .iter()
                                                    .map(|&(value, label)| view! { <option value=value selected=value == account.role>{label}</option> })
                                                    .collect_view()}
                                            </select>
                                        </td>
                                        <td>{account.joined.clone()}</td>
                                        <td>{account.tracks}</td>
                                        <td>{size(account.storage_bytes)}</td>
                                        <td>
                                            {if account.is_me {
                                                view! { <span class="muted">"you"</span> }.into_any()
                                            } else {
                                                view! {
                                                    <button
                                                        class="button secondary"
                                                        class:danger=!disabled
                                                        aria-label=format!("{} {email}", if disabled { "Enable" } else { "Disable" })
                                                        on:click=move |_| {
                                                            act.dispatch(Change::Switch { id: id.get_value(), disabled: !disabled });
                                                        }
                                                    >
                                                        {if disabled { "Enable" } else { "Disable" }}
                                                    </button>
                                                }
                                                .into_any()
                                            }}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn Jobs(
    jobs: Vec<JobItem>,
    status: RwSignal<String>,
    act: Action<Change, Result<(), crate::error::AppError>>,
    refresh: RwSignal<u32>,
) -> impl IntoView {
    let empty = jobs.is_empty();
    view! {
        <section class="panel" aria-labelledby="jobs-title">
            <h2 id="jobs-title">"Jobs"</h2>
            <div class="library-tools">
                <label>
                    "Show "
                    <select aria-label="Jobs to show" on:change=move |event| status.set(event_target_value(&event))>
                        {JOB_STATUSES
                            .iter()
                            .map(|&(value, label)| view! { <option value=value selected=move || status.get() == value>{label}</option> })
                            .collect_view()}
                    </select>
                </label>
                <button class="button secondary" on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
            </div>
            {empty.then(|| view! { <p class="muted">"No jobs here."</p> })}
            <div class="table-scroll" hidden=empty>
                <table class="admin-table jobs-table">
                    <thead>
                        <tr>
                            <th scope="col">"Job"</th>
                            <th scope="col">"Track"</th>
                            <th scope="col">"Owner"</th>
                            <th scope="col">"State"</th>
                            <th scope="col">"Tries"</th>
                            <th scope="col">"Changed"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {jobs
                            .into_iter()
                            .map(|job| {
                                let track = StoredValue::new(job.track_id.clone());
                                let running = matches!(job.status.as_str(), "queued" | "downloading" | "processing");
                                let stopped = matches!(job.status.as_str(), "failed" | "cancelled");
                                let act_on = move |retry: bool| {
                                    move |_| {
                                        act.dispatch(Change::Job { track: track.get_value(), retry });
                                    }
                                };
                                view! {
                                    <tr data-job-id=job.id.clone() data-status=job.status.clone()>
                                        <td>{job.kind.clone()}</td>
                                        <td>{job.track_title.clone()}</td>
                                        <td>{job.owner_email.clone()}</td>
                                        <td>
                                            {if running { format!("{} {}%", job.status, job.progress) } else { job.status.clone() }}
                                            {job.error.clone().map(|error| view! { <p class="form-error">{error}</p> })}
                                        </td>
                                        <td>{job.attempts}</td>
                                        <td>{job.updated.clone()}</td>
                                        <td>
                                            {running.then(|| view! { <button class="button secondary" on:click=act_on(false)>"Cancel"</button> })}
                                            {stopped.then(|| view! { <button class="button secondary" on:click=act_on(true)>"Retry"</button> })}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

/// A user's library as its owner sees it, without the buttons: a platform admin looks, and does not touch.
#[component]
pub fn UserLibraryPage() -> impl IntoView {
    let params = use_params_map();
    let library = Resource::new(move || params.read().get("id").unwrap_or_default(), user_library);
    view! {
        <Title text="Library (read-only)" />
        <p><a href="/admin">"← Admin"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                library.get().map(|result| match result {
                    Err(err) => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                    Ok(library) => view! {
                        <h1>{format!("Library of {}", library.email)}</h1>
                        <p class="notice">"Read-only: you see what this user sees, and can change nothing."</p>
                        <p class="muted">
                            {match (library.library.tracks.len(), library.library.total) {
                                (0, _) => "No tracks yet.".to_owned(),
                                (shown, total) if shown == total => count(total, "track"),
                                (shown, total) => format!("The newest {shown} of {}", count(total, "track")),
                            }}
                        </p>
                        <ul class="track-list" aria-label="Their tracks">
                            {library
                                .library
                                .tracks
                                .into_iter()
                                .map(|track| {
                                    let id = track.id.clone();
                                    view! {
                                        <li class="track-row" data-track-id=id>
                                            <div class="track-text">
                                                <p class="track-title">{track.title.clone()}</p>
                                                <p class="track-byline muted">{track.byline()}</p>
                                            </div>
                                            <TrackFacts track=track.clone() />
                                            <JobStages track read_only=true />
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                    .into_any(),
                })
            }}
        </Transition>
    }
}
