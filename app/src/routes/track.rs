//! One track: its stages (live), the waveform with the beat grid, the stem mixer, the analysis as cards and
//! charts, and its exports.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    NavigateOptions,
    hooks::{use_navigate, use_params_map},
};
use sfa_features::Analysis;

use crate::{
    api::tracks::{MixLine, TrackCard, ask_about_track, get_track, mix_candidates},
    components::{
        charts::{ChromaChart, EnergyChart, MfccChart, SpectralChart, WaveformChart},
        mixer::{Mixer, Transport, clock},
        track_jobs::{JobStages, TrackActions},
    },
};

#[component]
pub fn TrackPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let page = Resource::new(id, get_track);
    #[cfg(feature = "hydrate")]
    crate::live::follow(
        move || page.refetch(),
        move || {
            page.get_untracked()
                .and_then(Result::ok)
                .is_some_and(|page| page.card.busy())
        },
    );
    // Each part is rebuilt only when its own data changes: progress moving must not restart the mixer.
    let card = Memo::new(move |_| page.get().and_then(Result::ok).map(|page| page.card));
    crate::components::toasts::watch(move || card.get().map(|card| vec![card]));
    let analysis = Memo::new(move |_| page.get().and_then(Result::ok).and_then(|page| page.analysis));
    let stems = Memo::new(move |_| {
        card.get().map(|card| {
            let duration = card.duration_seconds.map_or(0.0, f64::from);
            (card.id, card.stems, duration)
        })
    });
    let transport = RwSignal::new(None::<Transport>);
    let position = Signal::derive(move || transport.get().map_or(0.0, |t| t.position.get()));
    let seek = Callback::new(move |at: f64| {
        if let Some(transport) = transport.get_untracked() {
            transport.seek.run(at);
        }
    });
    let changed = Callback::new(move |()| page.refetch());
    let asking = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let deleted = Callback::new(move |()| navigate("/", NavigateOptions::default()));

    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the track…"</p> }>
            {move || {
                page.get().and_then(Result::err).map(|err| {
                    view! {
                        <Title text="Track" />
                        <h1>"Track"</h1>
                        <p class="form-error" role="alert">{err.to_string()}</p>
                        <p><a href="/">"Back to the library"</a></p>
                    }
                })
            }}
            {move || card.get().map(|track| view! { <TrackHeader track changed deleted asking /> })}
            <section class="track-overview" aria-label="Waveform">
                {move || match analysis.get() {
                    Some(analysis) => {
                        let peaks = analysis.waveform.first().map(|w| w.peaks.clone()).unwrap_or_default();
                        view! {
                            <WaveformChart
                                peaks
                                beats=analysis.beats.clone()
                                downbeats=analysis.downbeats.clone()
                                duration=analysis.duration_seconds
                                position
                                seek
                            />
                        }
                            .into_any()
                    }
                    None => view! { <p class="placeholder-note muted">"The waveform and beat grid appear when the analysis is done."</p> }.into_any(),
                }}
            </section>
            {move || {
                stems.get().map(|(track_id, stems, duration)| {
                    if stems.is_empty() {
                        view! { <p class="placeholder-note muted">"The stem mixer opens when the separation is done."</p> }.into_any()
                    } else {
                        view! { <Mixer track_id stems duration transport /> }.into_any()
                    }
                })
            }}
            {move || analysis.get().map(|analysis| view! { <AnalysisView analysis /> })}
            {move || {
                analysis.with(Option::is_some).then(|| card.get().map(|track| view! { <AskBox id=track.id /> }))
            }}
            {move || {
                card.get().map(|track| view! { <Exports track has_analysis=analysis.with(Option::is_some) /> })
            }}
        </Transition>
    }
}

#[component]
fn TrackHeader(
    track: TrackCard,
    changed: Callback<()>,
    deleted: Callback<()>,
    asking: RwSignal<Option<String>>,
) -> impl IntoView {
    let byline = track.byline();
    view! {
        <Title text=track.title.clone() />
        <nav class="crumbs" aria-label="Breadcrumb"><a href="/">"Library"</a></nav>
        <header class="track-header">
            {match track.art_url.clone() {
                Some(url) => view! { <img class="track-art large" src=url alt="" width="96" height="96" /> }.into_any(),
                None => view! { <div class="track-art large placeholder" aria-hidden="true">"♪"</div> }.into_any(),
            }}
            <div class="track-text">
                <h1>{track.title.clone()}</h1>
                <p class="track-byline muted">{byline}</p>
                <p class="muted">{track.duration_seconds.map(|s| clock(f64::from(s))).unwrap_or_default()}</p>
            </div>
        </header>
        <JobStages track=track.clone() />
        <TrackActions track=track.clone() changed deleted asking />
    }
}

/// The headline numbers as cards, then the charts.
#[component]
fn AnalysisView(analysis: Analysis) -> impl IntoView {
    let tempo = analysis.tempo.clone();
    // The estimate may be half or double what a DJ counts: one click shows the other reading.
    let shown = RwSignal::new(tempo.as_ref().map(|t| t.bpm));
    let reading = move |factor: &'static str, value: f64| {
        view! {
            <button
                type="button"
                class="toggle"
                aria-pressed=move || (shown.get() == Some(value)).to_string()
                on:click=move |_| shown.set(Some(value))
            >
                {factor}
            </button>
        }
    };
    let loudness = analysis.loudness.clone();
    let db =
        |value: Option<f64>, unit: &str| value.map_or_else(|| "–".to_owned(), |v| format!("{v:.1} {unit}"));
    view! {
        <section class="analysis-cards" aria-label="Analysis">
            <article class="card tempo-card">
                <h2>"Tempo"</h2>
                {match tempo {
                    Some(tempo) => view! {
                        <p class="card-value">{move || shown.get().map(|bpm| format!("{bpm:.1}")).unwrap_or_default()} " BPM"</p>
                        <div class="readings" role="group" aria-label="Tempo reading">
                            {reading("×½", tempo.half)}
                            {reading("×1", tempo.bpm)}
                            {reading("×2", tempo.double)}
                        </div>
                        <p class="muted">{format!("Confidence {:.0}% · {} beats", tempo.confidence * 100.0, analysis.beats.len())}</p>
                    }.into_any(),
                    None => view! { <p class="card-value">"–"</p><p class="muted">"No steady beat found."</p> }.into_any(),
                }}
            </article>
            <article class="card key-card">
                <h2>"Key"</h2>
                {match analysis.key.clone() {
                    Some(key) => view! {
                        <p class="card-value">{key.name}</p>
                        <p>{format!("Camelot {} · Open Key {}", key.camelot, key.open_key)}</p>
                        <p class="muted">{format!("Confidence {:.0}%", key.confidence * 100.0)}</p>
                    }.into_any(),
                    None => view! { <p class="card-value">"–"</p><p class="muted">"No clear key."</p> }.into_any(),
                }}
            </article>
            <article class="card loudness-card">
                <h2>"Loudness"</h2>
                <p class="card-value">{db(loudness.integrated_lufs, "LUFS")}</p>
                <p>{format!("Range {:.1} LU · true peak {}", loudness.range_lu, db(loudness.true_peak_dbtp, "dBTP"))}</p>
            </article>
            <article class="card energy-card">
                <h2>"Energy"</h2>
                <p class="card-value">{format!("{:.0}%", analysis.energy * 100.0)}</p>
                <p class="muted">{format!("{:.1} onsets a second", analysis.onset_rate)}</p>
            </article>
        </section>
        <section class="charts" aria-label="Charts">
            <EnergyChart curve=analysis.energy_curve.clone() />
            <ChromaChart chroma=analysis.chroma />
            <MfccChart mfcc=analysis.mfcc.clone() />
            <SpectralChart spectral=analysis.spectral.clone() />
        </section>
    }
}

#[component]
fn Exports(track: TrackCard, has_analysis: bool) -> impl IntoView {
    let id = track.id.clone();
    view! {
        <section class="exports panel" aria-labelledby="exports-title">
            <h2 id="exports-title">"Export"</h2>
            <ul>
                {track.has_audio.then(|| view! { <li><a href=format!("/tracks/{id}/audio") download="">"The original audio"</a></li> })}
                {has_analysis.then(|| view! { <li><a href=format!("/tracks/{id}/analysis.json") download="">"The analysis (JSON)"</a></li> })}
                {(!track.stems.is_empty()).then(|| view! { <li><a href=format!("/tracks/{id}/stems.zip") download="">"Every stem (ZIP)"</a></li> })}
            </ul>
            {(!track.stems.is_empty()).then(|| view! { <MinusOne id=id.clone() stems=track.stems.clone() /> })}
        </section>
    }
}

/// The mix of every stem but the ticked ones, rendered by the server. Without the script, a plain form that
/// asks for it; with it, a download link that follows the boxes (the router would take the form's address
/// for one of its pages).
#[component]
fn MinusOne(id: String, stems: Vec<String>) -> impl IntoView {
    let action = format!("/tracks/{id}/mix.wav");
    let left_out = RwSignal::new(Vec::<String>::new());
    let scripted = RwSignal::new(false);
    Effect::new(move || scripted.set(true));
    let href = {
        let action = action.clone();
        move || {
            let without: Vec<String> = left_out
                .get()
                .iter()
                .map(|stem| format!("without={stem}"))
                .collect();
            if without.is_empty() {
                action.clone()
            } else {
                format!("{action}?{}", without.join("&"))
            }
        }
    };
    view! {
        <form class="minus-one" method="get" action=action>
            <fieldset>
                <legend>"A mix without…"</legend>
                {stems
                    .into_iter()
                    .map(|stem| {
                        let name = stem.clone();
                        let ticked = move |event: leptos::ev::Event| {
                            let on = event_target_checked(&event);
                            left_out.update(|left| {
                                left.retain(|other| *other != name);
                                if on {
                                    left.push(name.clone());
                                }
                            });
                        };
                        view! {
                            <label class="check">
                                <input type="checkbox" name="without" value=stem.clone() on:change=ticked />
                                {stem}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <button type="submit" class="button secondary" hidden=move || scripted.get()>
                "Download the mix (WAV)"
            </button>
            <a class="button secondary" download="" href=href hidden=move || !scripted.get()>
                "Download the mix (WAV)"
            </a>
        </form>
    }
}

/// A question about the track for the user's LLM providers, with the analysis; the answer appears as it is
/// written, with the name of the provider that gives it.
#[component]
fn AskBox(id: String) -> impl IntoView {
    let question = RwSignal::new(String::new());
    let answer = RwSignal::new(String::new());
    let provider = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let id = StoredValue::new(id);
    let matches = RwSignal::new(None::<Vec<MixLine>>);
    let ask = move || {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        answer.set(String::new());
        provider.set(None);
        failure.set(None);
        let (id, asked) = (id.get_value(), question.get_untracked());
        leptos::task::spawn_local(async move {
            use futures_util::StreamExt;
            match ask_about_track(id, asked).await {
                Err(err) => failure.set(Some(err.to_string())),
                Ok(stream) => {
                    let mut stream = stream.into_inner();
                    // The first line names the provider; pieces may split it anywhere.
                    let mut head = String::new();
                    while let Some(piece) = stream.next().await {
                        match piece {
                            Err(err) => {
                                failure.set(Some(err.to_string()));
                                break;
                            }
                            Ok(text) if provider.with_untracked(Option::is_some) => {
                                answer.update(|answer| answer.push_str(&text));
                            }
                            Ok(text) => {
                                head.push_str(&text);
                                if let Some((name, rest)) = head.split_once('\n') {
                                    provider.set(Some(name.to_owned()));
                                    answer.set(rest.to_owned());
                                }
                            }
                        }
                    }
                }
            }
            busy.set(false);
        });
    };
    // Our own picks first, from the library's keys and tempos; then the providers explain an order.
    let suggest = move |_| {
        failure.set(None);
        leptos::task::spawn_local(async move {
            match mix_candidates(id.get_value()).await {
                Err(err) => failure.set(Some(err.to_string())),
                Ok(found) if found.is_empty() => {
                    matches.set(Some(found));
                }
                Ok(found) => {
                    question.set(mix_question(&found));
                    matches.set(Some(found));
                    ask();
                }
            }
        });
    };
    view! {
        <section class="panel ask" aria-labelledby="ask-title">
            <h2 id="ask-title">"Ask about this track"</h2>
            <form
                class="stacked-form"
                on:submit=move |event| {
                    event.prevent_default();
                    ask();
                }
            >
                <label for="ask-question">"Your question"</label>
                <textarea
                    id="ask-question"
                    rows="3"
                    maxlength="2000"
                    required
                    placeholder="How would you bring this into a 128 BPM set?"
                    prop:value=move || question.get()
                    on:input=move |event| question.set(event_target_value(&event))
                ></textarea>
                <p class="hint">"Your providers in Settings answer, with this track's tempo, key, loudness and energy."</p>
                <noscript><p class="hint">"Asking needs JavaScript."</p></noscript>
                <div class="inline-field">
                    <button type="submit" class="button" disabled=move || busy.get()>
                        {move || if busy.get() { "Asking…" } else { "Ask" }}
                    </button>
                    <button type="button" class="button secondary" disabled=move || busy.get() on:click=suggest>
                        "What mixes well with this?"
                    </button>
                </div>
            </form>
            {move || {
                matches.get().map(|found| {
                    if found.is_empty() {
                        view! {
                            <p class="muted mix-none">
                                "Nothing in your library is within one step on the Camelot wheel and 6% in tempo yet."
                            </p>
                        }
                        .into_any()
                    } else {
                        view! {
                            <ol class="mix-list" aria-label="Tracks that mix with this one">
                                {found
                                    .into_iter()
                                    .map(|line| {
                                        view! {
                                            <li>
                                                <a href=format!("/tracks/{}", line.id)>{line.title.clone()}</a>
                                                {format!(" · {:.1} BPM{} · {}", line.tempo, line.how.map(|how| format!(" ({how})")).unwrap_or_default(), line.camelot)}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ol>
                        }
                        .into_any()
                    }
                })
            }}
            {move || failure.get().map(|why| view! { <p class="form-error" role="alert">{why}</p> })}
            <Show when=move || provider.with(Option::is_some)>
                <p class="muted ask-provider">{move || format!("Answered by {}", provider.get().unwrap_or_default())}</p>
                <p class="ask-answer" aria-live="polite">{move || answer.get()}</p>
            </Show>
        </section>
    }
}

/// The question that asks the providers to order our picks.
fn mix_question(found: &[MixLine]) -> String {
    let listed: Vec<String> = found
        .iter()
        .enumerate()
        .map(|(at, line)| {
            format!(
                "{}. “{}”{}: {:.1} BPM{}, Camelot {}",
                at + 1,
                line.title,
                line.artist
                    .as_deref()
                    .map(|artist| format!(" by {artist}"))
                    .unwrap_or_default(),
                line.tempo,
                line.how
                    .as_deref()
                    .map(|how| format!(" (at {how})"))
                    .unwrap_or_default(),
                line.camelot
            )
        })
        .collect();
    format!(
        "These tracks from my library are close to this one in key and tempo:\n{}\nIn which order would you \
         play them after this track, and why?",
        listed.join("\n")
    )
}
