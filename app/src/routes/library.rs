use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::tracks::{TrackCard, list_tracks};

/// The user's tracks, newest first, with the upload box. Until the first import, a welcome that says
/// what the app will do with one.
#[component]
pub fn LibraryPage() -> impl IntoView {
    let tracks = Resource::new(|| (), |_| list_tracks());
    // While an analysis is running, look again every two seconds (the browser only).
    #[cfg(feature = "hydrate")]
    {
        let busy = move || {
            tracks
                .get()
                .and_then(Result::ok)
                .is_some_and(|list| list.iter().any(TrackCard::busy))
        };
        let handle = set_interval_with_handle(
            move || {
                if busy() {
                    tracks.refetch();
                }
            },
            std::time::Duration::from_secs(2),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    }
    view! {
        <Title text="Library" />
        <h1>"Library"</h1>
        <UploadBox />
        <Transition fallback=|| view! { <p class="muted">"Loading your tracks…"</p> }>
            {move || {
                tracks.get().map(|result| match result {
                    Err(err) => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <EmptyLibrary /> }.into_any(),
                    Ok(list) => view! {
                        <ul class="track-list" aria-label="Your tracks">
                            {list.into_iter().map(|track| view! { <TrackRow track /> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                })
            }}
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

#[component]
fn TrackRow(track: TrackCard) -> impl IntoView {
    let byline = [track.artist.clone(), track.album.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    let stage = match (track.analysis_status.as_deref(), &track.analysis_error) {
        (Some("failed"), Some(error)) => format!("Analysis failed: {error}"),
        (Some("failed"), None) => "Analysis failed".to_owned(),
        (Some("completed"), _) => "Analysed".to_owned(),
        (Some("processing"), _) => format!("Analysing… {}%", track.analysis_progress),
        (Some("queued"), _) => "Waiting to analyse".to_owned(),
        (Some("cancelled"), _) => "Analysis cancelled".to_owned(),
        _ => "Imported".to_owned(),
    };
    let failed = track.analysis_status.as_deref() == Some("failed");
    let busy = track.busy();
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
            <p class="track-stage" class:failed=failed role="status">
                {stage}
                <Show when=move || busy>
                    <progress max="100" value=track.analysis_progress aria-label="Analysis progress"></progress>
                </Show>
            </p>
        </li>
    }
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
