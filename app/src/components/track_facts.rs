//! A track's headline facts as the library lists them: length, BPM and key (with its Camelot number).

use leptos::prelude::*;

use crate::{api::tracks::TrackCard, components::mixer::clock};

#[component]
pub fn TrackFacts(track: TrackCard) -> impl IntoView {
    let missing = || "–".to_owned();
    view! {
        <dl class="track-facts">
            <div>
                <dt>"Length"</dt>
                <dd>{track.duration_seconds.map(|s| clock(f64::from(s))).unwrap_or_else(missing)}</dd>
            </div>
            <div>
                <dt>"BPM"</dt>
                <dd class="track-bpm">{track.tempo.map(|bpm| format!("{bpm:.1}")).unwrap_or_else(missing)}</dd>
            </div>
            <div>
                <dt>"Key"</dt>
                <dd class="track-key">
                    {track.key.unwrap_or_else(missing)}
                    {track.camelot.map(|camelot| view! { " " <span class="camelot" title="Camelot">{camelot}</span> })}
                </dd>
            </div>
        </dl>
    }
}
