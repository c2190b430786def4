//! A track's jobs as the library row and the track page both show them: one line per stage (download,
//! separation, analysis) with its progress bar or its error, the attach form for a track without audio, and
//! the buttons that act on the track.

use leptos::prelude::*;

use crate::{
    api::tracks::{Batch, TrackCard, batch_tracks, cancel_track_jobs, delete_track, retry_track_jobs},
    error::AppError,
};

/// One line about a job: what it is doing, or what went wrong.
fn stage(job: &str, status: Option<&str>, error: Option<&str>, running: String) -> String {
    match (status, error) {
        (Some("failed"), Some(error)) => format!("{job} failed: {error}"),
        (Some("failed"), None) => format!("{job} failed"),
        (Some("cancelled"), _) => format!("{job} cancelled"),
        (Some("processing"), _) => running,
        (Some("queued"), Some(note)) => format!("{job} waiting to run again. {note}"),
        (Some("queued"), None) => format!("{job} waiting to start"),
        _ => String::new(),
    }
}

/// The line about a track's audio: its download, or that it is waiting for a file.
fn download_stage(track: &TrackCard) -> String {
    let running = match (track.source.as_str(), track.bytes) {
        (_, Some((done, total))) if done > 0 => match total {
            Some(total) => format!("Downloading… {} of {}", megabytes(done), megabytes(total)),
            None => format!("Downloading… {}", megabytes(done)),
        },
        ("spotify", _) => format!("Finding the audio… {}%", track.download_progress),
        _ => "Downloading… starting".to_owned(),
    };
    let stage = stage(
        "Download",
        track.download_status.as_deref().map(|status| match status {
            "downloading" => "processing",
            other => other,
        }),
        track.download_error.as_deref(),
        running,
    );
    if stage.is_empty() && !track.has_audio {
        "No audio yet: attach a file.".to_owned()
    } else {
        stage
    }
}

fn megabytes(bytes: i64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

/// The stage lines of one track; `read_only` leaves out the form that attaches a file.
#[component]
pub fn JobStages(track: TrackCard, #[prop(optional)] read_only: bool) -> impl IntoView {
    let cloud = track.separation_engine.as_deref() == Some("lalalai");
    let separation = match (track.separation_status.as_deref(), track.chunks) {
        (Some("completed"), _) if cloud => format!("Stems ready at lalal.ai ({})", track.stems.len()),
        (Some("completed"), _) => format!("Stems ready ({})", track.stems.len()),
        (status, chunks) => stage(
            "Separation",
            status,
            track.separation_error.as_deref(),
            match chunks {
                _ if cloud => format!("Separating at lalal.ai… {}%", track.separation_progress),
                Some((done, total)) => format!("Separating stems… chunk {done} of {total}"),
                None => "Separating stems… starting".to_owned(),
            },
        ),
    };
    let analysis = match track.analysis_status.as_deref() {
        Some("completed") => "Analysed".to_owned(),
        status => stage(
            "Analysis",
            status,
            track.analysis_error.as_deref(),
            format!("Analysing… {}%", track.analysis_progress),
        ),
    };
    let download = download_stage(&track);
    let downloading = matches!(track.download_status.as_deref(), Some("queued" | "downloading"));
    let running = |status: &Option<String>| matches!(status.as_deref(), Some("queued" | "processing"));
    let failed = |status: &Option<String>| status.as_deref() == Some("failed");
    let line =
        move |class: &'static str, text: String, failed: bool, progress: Option<(i32, &'static str)>| {
            (!text.is_empty()).then(|| {
                view! {
                    <p class=format!("track-stage {class}") class:failed=failed role="status">
                        {text}
                        {progress.map(|(value, label)| {
                            view! { <progress max="100" value=value aria-label=label></progress> }
                        })}
                    </p>
                }
            })
        };
    view! {
        <div class="track-jobs">
            {line(
                "track-download",
                download,
                failed(&track.download_status),
                downloading.then_some((track.download_progress, "Download progress")),
            )}
            {(!track.has_audio && !downloading && !read_only).then(|| view! { <AttachForm id=track.id.clone() /> })}
            {line(
                "track-separation",
                separation,
                failed(&track.separation_status),
                running(&track.separation_status).then_some((track.separation_progress, "Separation progress")),
            )}
            {line(
                "track-analysis",
                analysis,
                failed(&track.analysis_status),
                running(&track.analysis_status).then_some((track.analysis_progress, "Analysis progress")),
            )}
        </div>
    }
}

/// Gives a track without audio a file from the computer; a plain form, like the upload box.
#[component]
fn AttachForm(id: String) -> impl IntoView {
    let input = format!("attach-{id}");
    view! {
        <form class="attach-form" method="post" action="/upload" enctype="multipart/form-data">
            <input type="hidden" name="track" value=id />
            <label for=input.clone()>"Attach audio"</label>
            <input id=input type="file" name="file" accept="audio/*,.flac,.m4a,.aif,.aiff" required />
            <button type="submit" class="button secondary">"Attach"</button>
        </form>
    }
}

#[derive(Debug, Clone, Copy)]
enum Act {
    Cancel,
    Retry,
    Delete,
    /// A stage the track never had (turned off on import): run it now.
    Run(Batch),
}

/// Cancel while a job runs, Retry after one stopped, and Delete (asked twice). `changed` runs after each
/// success, `deleted` after a delete. `asking` is the track whose delete awaits its answer: the page holds
/// it, because a row is rebuilt whenever its progress moves and the question must outlive that.
#[component]
pub fn TrackActions(
    track: TrackCard,
    changed: Callback<()>,
    deleted: Callback<()>,
    asking: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = StoredValue::new(track.id.clone());
    let act = Action::new(move |what: &Act| {
        let (what, id) = (*what, id.get_value());
        async move {
            let done = match what {
                Act::Cancel => cancel_track_jobs(id).await,
                Act::Retry => retry_track_jobs(id).await,
                Act::Delete => delete_track(id).await,
                Act::Run(stage) => batch_tracks(vec![id], stage).await.and_then(|outcome| {
                    outcome
                        .refused
                        .into_iter()
                        .next()
                        .map_or(Ok(()), |why| Err(AppError::Message(why)))
                }),
            };
            // The row (or the page) that asked may be gone by the time the answer comes: a row is rebuilt
            // whenever its progress moves, and a click elsewhere leaves the page. Its successor shows the
            // change through the live updates, so a callback that went with it is skipped.
            if done.is_ok() {
                if matches!(what, Act::Delete) {
                    deleted.try_run(());
                } else {
                    changed.try_run(());
                }
            }
            done
        }
    });
    let confirming = move || asking.with(|asked| asked.as_deref() == Some(id.get_value().as_str()));
    let ask = move |on: bool| asking.set(on.then(|| id.get_value()));
    let run = move |what: Act| {
        move |_| {
            act.dispatch(what);
        }
    };
    let title = track.title.clone();
    view! {
        <div class="track-actions">
            {track.busy().then(|| view! { <button class="button secondary" on:click=run(Act::Cancel)>"Cancel"</button> })}
            {track.retryable().then(|| view! { <button class="button secondary" on:click=run(Act::Retry)>"Retry"</button> })}
            {(track.has_audio && track.separation_status.is_none()).then(|| {
                view! { <button class="button secondary" on:click=run(Act::Run(Batch::Separate))>"Separate"</button> }
            })}
            {(track.has_audio && track.analysis_status.is_none()).then(|| {
                view! { <button class="button secondary" on:click=run(Act::Run(Batch::Analyse))>"Analyse"</button> }
            })}
            <Show
                when=confirming
                fallback=move || view! {
                    <button class="button secondary" on:click=move |_| ask(true)>"Delete"</button>
                }
            >
                <span class="confirm">
                    {format!("Delete “{title}” and its stems?")}
                    <button class="button danger" on:click=run(Act::Delete)>"Delete"</button>
                    <button class="button secondary" on:click=move |_| ask(false)>"Keep"</button>
                </span>
            </Show>
            {move || {
                act.value().get().and_then(Result::err).map(|err| {
                    view! { <p class="form-error" role="alert">{err.to_string()}</p> }
                })
            }}
        </div>
    }
}
