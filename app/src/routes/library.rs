use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    library_view::{PAGE, Sort, Stage, count},
    upload_box::UploadBox,
};
use crate::{
    api::{
        import::ImportLink,
        tracks::{Batch, LibraryRows, TrackCard, batch_tracks, list_tracks},
    },
    components::{
        toasts,
        track_facts::TrackFacts,
        track_jobs::{JobStages, TrackActions},
    },
};

type Tracks = Resource<Result<LibraryRows, crate::error::AppError>>;

/// The user's tracks, newest first, with the import and upload boxes. Until the first import, a welcome that says
/// what the app will do with one. Job progress arrives live (see `live`). The search, filter, sort and
/// "Show more" ask the server again: only the rows shown travel.
#[component]
pub fn LibraryPage() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let stage = RwSignal::new(Stage::All);
    let sort = RwSignal::new(Sort::Newest);
    let shown = RwSignal::new(PAGE);
    let tracks: Tracks = Resource::new(
        move || (search.get(), stage.get(), sort.get(), shown.get()),
        |(search, stage, sort, limit)| {
            list_tracks(
                Some(search),
                Some(stage.name().to_owned()),
                Some(sort.name().to_owned()),
                Some(limit),
            )
        },
    );
    #[cfg(feature = "hydrate")]
    crate::live::follow(
        move || tracks.refetch(),
        move || {
            tracks
                .get_untracked()
                .and_then(Result::ok)
                .is_some_and(|rows| rows.tracks.iter().any(TrackCard::busy))
        },
    );
    let rows = move || tracks.get().and_then(Result::ok);
    toasts::watch(move || rows().map(|rows| rows.tracks));
    let asking = RwSignal::new(None::<String>);
    let chosen = RwSignal::new(Vec::<String>::new());
    // Derived, not memos: the resource is read only where the page reads these, inside the `Transition`,
    // which is what makes the server wait for it before it renders the list.
    let listed = Signal::derive(move || rows().map(|rows| rows.tracks).unwrap_or_default());
    let matched = Signal::derive(move || rows().map_or(0, |rows| rows.matched));
    let total = Signal::derive(move || rows().map_or(0, |rows| rows.total));
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
                    Ok(rows) if rows.total == 0 => view! { <EmptyLibrary /> }.into_any(),
                    Ok(_) => ().into_any(),
                })
            }}
            <Show when=move || total.get() != 0>
                <LibraryTools total matched search stage sort shown />
                <BatchBar tracks chosen shown=listed />
            </Show>
            <ul class="track-list" aria-label="Your tracks">
                // A row is rebuilt only when something on it changed, so a stem playing in one row keeps
                // playing while another row's progress moves.
                <For each=move || listed.get() key=|track| format!("{track:?}") let:track>
                    <TrackRow track tracks asking chosen />
                </For>
            </ul>
            {move || {
                let left = matched.get().saturating_sub(listed.with(Vec::len));
                (left > 0).then(|| {
                    view! {
                        <button class="button secondary show-more" on:click=move |_| shown.update(|n| *n += PAGE)>
                            {format!("Show {} more", left.min(PAGE as usize))}
                        </button>
                    }
                })
            }}
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

#[component]
fn TrackRow(
    track: TrackCard,
    tracks: Tracks,
    asking: RwSignal<Option<String>>,
    chosen: RwSignal<Vec<String>>,
) -> impl IntoView {
    let byline = track.byline();
    let refetch = Callback::new(move |()| tracks.refetch());
    let id = StoredValue::new(track.id.clone());
    let picked = move || chosen.with(|chosen| id.with_value(|id| chosen.contains(id)));
    view! {
        <li class="track-row" class:picked=picked data-track-id=track.id.clone()>
            <input
                type="checkbox"
                class="track-select"
                aria-label=format!("Select “{}”", track.title)
                prop:checked=picked
                on:change=move |event| {
                    let on = event_target_checked(&event);
                    chosen.update(|chosen| {
                        let id = id.get_value();
                        chosen.retain(|other| *other != id);
                        if on {
                            chosen.push(id);
                        }
                    });
                }
            />
            {match track.art_url.clone() {
                Some(url) => view! { <img class="track-art" src=url alt="" width="56" height="56" /> }.into_any(),
                None => view! { <div class="track-art placeholder" aria-hidden="true">"♪"</div> }.into_any(),
            }}
            <div class="track-text">
                <p class="track-title"><a href=format!("/tracks/{}", track.id)>{track.title.clone()}</a></p>
                <p class="track-byline muted">{byline}</p>
            </div>
            <TrackFacts track=track.clone() />
            <JobStages track=track.clone() />
            <Stems id=track.id.clone() stems=track.stems.clone() />
            <TrackActions track=track.clone() changed=refetch deleted=refetch asking />
        </li>
    }
    // A type-erased row keeps the page's view type shallow enough to compile for the browser.
    .into_any()
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

/// Acts on the ticked tracks at once: separate, analyse, or delete (asked first). Says what it did and
/// which tracks it left alone, and why.
#[component]
fn BatchBar(tracks: Tracks, chosen: RwSignal<Vec<String>>, shown: Signal<Vec<TrackCard>>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let act = Action::new(move |(ids, batch): &(Vec<String>, Batch)| {
        let (ids, batch) = (ids.clone(), *batch);
        async move {
            let outcome = batch_tracks(ids, batch).await;
            if outcome.is_ok() {
                if batch == Batch::Delete {
                    chosen.set(Vec::new());
                }
                tracks.refetch();
            }
            outcome.map(|outcome| (batch, outcome))
        }
    });
    // Only ticked rows on show count: a ticked track may have been deleted, or filtered out, since.
    let live = move || {
        let present = tracks
            .get()
            .and_then(Result::ok)
            .map(|rows| rows.tracks)
            .unwrap_or_default();
        chosen.with(|chosen| {
            chosen
                .iter()
                .filter(|id| present.iter().any(|track| &track.id == *id))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let count = move || live().len();
    let run = move |batch: Batch| {
        confirming.set(false);
        act.dispatch((live(), batch));
    };
    let all_shown = move || {
        let shown = shown.get();
        !shown.is_empty() && chosen.with(|chosen| shown.iter().all(|track| chosen.contains(&track.id)))
    };
    view! {
        <div class="batch-bar" role="group" aria-label="Selected tracks">
            <label class="check">
                <input
                    type="checkbox"
                    class="select-all"
                    prop:checked=all_shown
                    on:change=move |event| {
                        let ids = shown.get_untracked().into_iter().map(|track| track.id);
                        if event_target_checked(&event) {
                            chosen.update(|chosen| {
                                for id in ids {
                                    if !chosen.contains(&id) {
                                        chosen.push(id);
                                    }
                                }
                            });
                        } else {
                            chosen.set(Vec::new());
                        }
                    }
                />
                "Select all shown"
            </label>
            <Show when=move || count() != 0>
                <span class="batch-count" role="status">{move || format!("{} selected", count())}</span>
                <button class="button secondary" disabled=act.pending() on:click=move |_| run(Batch::Separate)>"Separate"</button>
                <button class="button secondary" disabled=act.pending() on:click=move |_| run(Batch::Analyse)>"Analyse"</button>
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button class="button secondary" on:click=move |_| confirming.set(true)>"Delete…"</button>
                    }
                >
                    <span class="confirm">
                        {move || match count() {
                            1 => "Delete this track and its stems?".to_owned(),
                            n => format!("Delete these {n} tracks and their stems?"),
                        }}
                        <button class="button danger" on:click=move |_| run(Batch::Delete)>"Delete"</button>
                        <button class="button secondary" on:click=move |_| confirming.set(false)>"Keep"</button>
                    </span>
                </Show>
                <button class="link-button" on:click=move |_| chosen.set(Vec::new())>"Clear selection"</button>
            </Show>
            {move || {
                act.value().get().map(|result| match result {
                    Ok((batch, outcome)) => view! {
                        <div class="form-note batch-result" role="status">
                            <p>{batch.done(outcome.done)}</p>
                            {(!outcome.refused.is_empty()).then(|| view! {
                                <ul>{outcome.refused.into_iter().map(|why| view! { <li>{why}</li> }).collect_view()}</ul>
                            })}
                        </div>
                    }
                    .into_any(),
                    Err(err) => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                })
            }}
        </div>
    }
    .into_any()
}

/// Search, stage filter and sort over the library, with how many tracks match.
#[component]
fn LibraryTools(
    total: Signal<usize>,
    matched: Signal<usize>,
    search: RwSignal<String>,
    stage: RwSignal<Stage>,
    sort: RwSignal<Sort>,
    shown: RwSignal<i64>,
) -> impl IntoView {
    // A new question starts from the top of its answer.
    let reset = move || shown.set(PAGE);
    let filtered = move || !search.read().trim().is_empty() || stage.get() != Stage::All;
    view! {
        <div class="library-tools" role="search" aria-label="Find tracks">
            <input
                type="search"
                class="library-search"
                aria-label="Search your tracks"
                placeholder="Search title, artist or album"
                prop:value=move || search.get()
                on:input=move |event| {
                    search.set(event_target_value(&event));
                    reset();
                }
            />
            <label>
                "Show "
                <select aria-label="Show" on:change=move |event| {
                    stage.set(Stage::parse(&event_target_value(&event)));
                    reset();
                }>
                    {Stage::ALL
                        .iter()
                        .map(|&(value, name, label)| {
                            view! { <option value=name selected=move || stage.get() == value>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Sort by "
                <select aria-label="Sort by" on:change=move |event| sort.set(Sort::parse(&event_target_value(&event)))>
                    {Sort::ALL
                        .iter()
                        .map(|&(value, name, label)| {
                            view! { <option value=name selected=move || sort.get() == value>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <p class="muted library-count" role="status">
                {move || match (matched.get(), total.get()) {
                    (0, _) => "No tracks match.".to_owned(),
                    (n, total) if n == total => count(total, "track"),
                    (n, total) => format!("{n} of {}", count(total, "track")),
                }}
            </p>
            <Show when=filtered>
                <button
                    class="link-button"
                    on:click=move |_| {
                        search.set(String::new());
                        stage.set(Stage::All);
                        reset();
                    }
                >
                    "Clear"
                </button>
            </Show>
        </div>
    }
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
