use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::tracks::{TrackCard, cancel_track_jobs, delete_track, list_tracks, retry_track_jobs};

type Tracks = Resource<Result<Vec<TrackCard>, crate::error::AppError>>;

/// The user's tracks, newest first, with the upload box. Until the first import, a welcome that says
/// what the app will do with one. Job progress arrives live (see `live`).
#[component]
pub fn LibraryPage() -> impl IntoView {
    let tracks: Tracks = Resource::new(|| (), |_| list_tracks());
    #[cfg(feature = "hydrate")]
    crate::live::follow(
        move || tracks.refetch(),
        move || {
            tracks
                .get_untracked()
                .and_then(Result::ok)
                .is_some_and(|list| list.iter().any(TrackCard::busy))
        },
    );
    let listed = move || tracks.get().and_then(Result::ok).unwrap_or_default();
    view! {
        <Title text="Library" />
        <h1>"Library"</h1>
        <UploadBox />
        <Transition fallback=|| view! { <p class="muted">"Loading your tracks…"</p> }>
            {move || {
                tracks.get().map(|result| match result {
                    Err(err) => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <EmptyLibrary /> }.into_any(),
                    Ok(_) => ().into_any(),
                })
            }}
            <ul class="track-list" aria-label="Your tracks">
                // A row is rebuilt only when something on it changed, so a stem playing in one row keeps
                // playing while another row's progress moves.
                <For each=listed key=|track| format!("{track:?}") let:track>
                    <TrackRow track tracks />
                </For>
            </ul>
        </Transition>
    }
}

/// Files from the computer: a plain form, so it works before (and without) the script.
#[component]
fn UploadBox() -> impl IntoView {
    view! {
        <form class="upload-box panel" method="post" action="/upload" enctype="multipart/form-data">
            <label for="upload-files">"Add audio files"</label>
            <p class="hint">"WAV, AIFF, FLAC, MP3, Ogg Vorbis, AAC or ALAC. Several at once is fine."</p>
            <input id="upload-files" type="file" name="file" accept="audio/*,.flac,.m4a,.aif,.aiff" multiple required />
            <button type="submit" class="button">"Upload"</button>
        </form>
    }
}

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

#[component]
fn TrackRow(track: TrackCard, tracks: Tracks) -> impl IntoView {
    let byline = [track.artist.clone(), track.album.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    let separation = match (track.separation_status.as_deref(), track.chunks) {
        (Some("completed"), _) => format!("Stems ready ({})", track.stems.len()),
        (status, chunks) => stage(
            "Separation",
            status,
            track.separation_error.as_deref(),
            match chunks {
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
    let separation_failed = track.separation_status.as_deref() == Some("failed");
    let analysis_failed = track.analysis_status.as_deref() == Some("failed");
    let separating = matches!(track.separation_status.as_deref(), Some("queued" | "processing"));
    let analysing = matches!(track.analysis_status.as_deref(), Some("queued" | "processing"));
    let id = StoredValue::new(track.id.clone());
    let act = Action::new(move |(what, id): &(Act, String)| {
        let (what, id) = (*what, id.clone());
        async move {
            let done = match what {
                Act::Cancel => cancel_track_jobs(id).await,
                Act::Retry => retry_track_jobs(id).await,
                Act::Delete => delete_track(id).await,
            };
            if done.is_ok() {
                tracks.refetch();
            }
            done
        }
    });
    let confirming = RwSignal::new(false);
    let run = move |what: Act| {
        move |_| {
            act.dispatch((what, id.get_value()));
        }
    };
    let title = track.title.clone();
    view! {
        <li class="track-row" data-track-id=track.id.clone()>
            {match track.art_url.clone() {
                Some(url) => view! { <img class="track-art" src=url alt="" width="56" height="56" /> }.into_any(),
                None => view! { <div class="track-art placeholder" aria-hidden="true">"♪"</div> }.into_any(),
            }}
            <div class="track-text">
                <p class="track-title">{track.title.clone()}</p>
                <p class="track-byline muted">{byline}</p>
            </div>
            <dl class="track-facts">
                <div>
                    <dt>"Length"</dt>
                    <dd>{track.duration_seconds.map(format_duration).unwrap_or_else(|| "–".into())}</dd>
                </div>
                <div>
                    <dt>"BPM"</dt>
                    <dd class="track-bpm">{track.tempo.map(|bpm| format!("{bpm:.1}")).unwrap_or_else(|| "–".into())}</dd>
                </div>
                <div>
                    <dt>"Key"</dt>
                    <dd class="track-key">{track.key.clone().unwrap_or_else(|| "–".into())}</dd>
                </div>
            </dl>
            <div class="track-jobs">
                <p class="track-stage track-separation" class:failed=separation_failed role="status">
                    {separation}
                    <Show when=move || separating>
                        <progress max="100" value=track.separation_progress aria-label="Separation progress"></progress>
                    </Show>
                </p>
                <p class="track-stage track-analysis" class:failed=analysis_failed role="status">
                    {analysis}
                    <Show when=move || analysing>
                        <progress max="100" value=track.analysis_progress aria-label="Analysis progress"></progress>
                    </Show>
                </p>
            </div>
            <Stems id=track.id.clone() stems=track.stems.clone() />
            <div class="track-actions">
                <Show when=move || separating || analysing>
                    <button class="button secondary" on:click=run(Act::Cancel)>"Cancel"</button>
                </Show>
                <Show when={
                    let retryable = track.retryable();
                    move || retryable
                }>
                    <button class="button secondary" on:click=run(Act::Retry)>"Retry"</button>
                </Show>
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button class="button secondary" on:click=move |_| confirming.set(true)>"Delete"</button>
                    }
                >
                    <span class="confirm">
                        {format!("Delete “{title}” and its stems?")}
                        <button class="button danger" on:click=run(Act::Delete)>"Delete"</button>
                        <button class="button secondary" on:click=move |_| confirming.set(false)>"Keep"</button>
                    </span>
                </Show>
                {move || {
                    act.value().get().and_then(Result::err).map(|err| {
                        view! { <p class="form-error" role="alert">{err.to_string()}</p> }
                    })
                }}
            </div>
        </li>
    }
}

#[derive(Debug, Clone, Copy)]
enum Act {
    Cancel,
    Retry,
    Delete,
}

/// The finished stems: listen to each, or download it.
#[component]
fn Stems(id: String, stems: Vec<String>) -> impl IntoView {
    (!stems.is_empty()).then(|| {
        view! {
            <ul class="stems" aria-label="Stems">
                {stems
                    .into_iter()
                    .map(|stem| {
                        let url = format!("/tracks/{id}/stems/{stem}");
                        view! {
                            <li class="stem">
                                <span class="stem-name">{stem.clone()}</span>
                                <audio controls preload="none" src=url.clone() aria-label=format!("Play the {stem} stem")></audio>
                                <a class="stem-download" href=url download=format!("{stem}.wav")>"Download"</a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    })
}

fn format_duration(seconds: i32) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

#[component]
fn EmptyLibrary() -> impl IntoView {
    let explained = RwSignal::new(false);
    view! {
        <section class="empty-state" aria-labelledby="empty-title">
            <h2 id="empty-title">"Your library is empty"</h2>
            <p>
                "Bring in a song and Sound Forge Alchemy splits it into stems, finds its tempo, beats and key, "
                "and keeps it all here to play, mix and export, on your own machine."
            </p>
            <button
                class="button secondary"
                aria-expanded=move || explained.get().to_string()
                aria-controls="how-it-works"
                on:click=move |_| explained.update(|shown| *shown = !*shown)
            >
                {move || if explained.get() { "Hide how it works" } else { "How it works" }}
            </button>
            <ol id="how-it-works" class="pipeline" hidden=move || !explained.get()>
                <li>
                    <strong>"Import"</strong>
                    " a Spotify link, an audio URL or a file from your computer."
                </li>
                <li>
                    <strong>"Download"</strong>
                    " the audio into your library."
                </li>
                <li>
                    <strong>"Separate"</strong>
                    " it into vocals, drums, bass and the rest, on this machine's CPU."
                </li>
                <li>
                    <strong>"Analyse"</strong>
                    " tempo, beat grid, key, loudness and the spectrum."
                </li>
            </ol>
        </section>
    }
}
