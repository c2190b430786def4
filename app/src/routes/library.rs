use leptos::prelude::*;
use leptos_meta::Title;

use super::upload_box::UploadBox;
use crate::api::{
    import::ImportLink,
    tracks::{TrackCard, cancel_track_jobs, delete_track, list_tracks, retry_track_jobs},
};

type Tracks = Resource<Result<Vec<TrackCard>, crate::error::AppError>>;

/// The user's tracks, newest first, with the import and upload boxes. Until the first import, a welcome that says
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
        <div class="import-boxes">
            <ImportBox tracks />
            <UploadBox added=Callback::new(move |()| tracks.refetch()) />
        </div>
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

/// A Spotify link or a direct audio link. A server-function form, so it posts without the script too.
#[component]
fn ImportBox(tracks: Tracks) -> impl IntoView {
    let import = ServerAction::<ImportLink>::new();
    Effect::new(move || {
        if matches!(import.value().get(), Some(Ok(_))) {
            tracks.refetch();
        }
    });
    let pending = import.pending();
    view! {
        <ActionForm action=import attr:class="import-box panel">
            <label for="import-link">"Import a link"</label>
            <p class="hint" id="import-link-hint">
                "A Spotify track, album or playlist, or a direct link to an audio file."
            </p>
            <div class="inline-field">
                <input
                    id="import-link"
                    type="text"
                    name="link"
                    inputmode="url"
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="https://open.spotify.com/album/…"
                    aria-describedby="import-link-hint"
                    required
                />
                <button type="submit" class="button" disabled=pending>
                    {move || if pending.get() { "Importing…" } else { "Import" }}
                </button>
            </div>
            {move || {
                import.value().get().map(|result| match result {
                    Ok(summary) => view! { <p class="form-note import-result" role="status">{summary.describe()}</p> }.into_any(),
                    Err(err) => view! { <p class="form-error import-result" role="alert">{err.to_string()}</p> }.into_any(),
                })
            }}
        </ActionForm>
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
    let download = download_stage(&track);
    let shows_download = !download.is_empty();
    let download_failed = track.download_status.as_deref() == Some("failed");
    let downloading = matches!(track.download_status.as_deref(), Some("queued" | "downloading"));
    let needs_file = !track.has_audio && !downloading;
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
    let busy = track.busy();
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
                <Show when=move || shows_download>
                    <p class="track-stage track-download" class:failed=download_failed role="status">
                        {download.clone()}
                        <Show when=move || downloading>
                            <progress max="100" value=track.download_progress aria-label="Download progress"></progress>
                        </Show>
                    </p>
                </Show>
                <Show when=move || needs_file>
                    <AttachForm id=id.get_value() />
                </Show>
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
                <Show when=move || busy>
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
