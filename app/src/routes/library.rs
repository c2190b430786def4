use leptos::prelude::*;
use leptos_meta::Title;

/// The user's tracks. Until the first import, a welcome that says what the app will do with one.
#[component]
pub fn LibraryPage() -> impl IntoView {
    view! {
        <Title text="Library" />
        <h1>"Library"</h1>
        <EmptyLibrary />
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
