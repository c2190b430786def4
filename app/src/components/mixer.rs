//! The stem mixer: every stem decoded into an `AudioBuffer` and played on one `AudioContext` clock. All
//! sources of a take start at the same context time, so the stems cannot drift; a seek, mute or solo never
//! restarts one stem alone. Each stem runs through its own gain node, whose value is what the page shows
//! (and what the tests read back).

use leptos::{ev, prelude::*, task::spawn_local};

use crate::browser_value::BrowserValue;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AudioBuffer, AudioBufferSourceNode, AudioContext, AudioScheduledSourceNode, GainNode};

/// How far ahead a take is scheduled, so that every stem's start lands on the same sample.
const LEAD_SECONDS: f64 = 0.05;
const MAX_VOLUME: f64 = 1.5;

#[derive(Debug, Clone, PartialEq)]
enum Status {
    /// Nothing fetched yet: the first Play loads the stems.
    Idle,
    Loading {
        done: usize,
        total: usize,
    },
    Ready,
    Failed(String),
}

impl Status {
    fn name(&self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Loading { .. } => "loading",
            Status::Ready => "ready",
            Status::Failed(_) => "failed",
        }
    }
}

/// One stem's controls.
#[derive(Debug, Clone, Copy)]
struct Strip {
    volume: RwSignal<f64>,
    muted: RwSignal<bool>,
    solo: RwSignal<bool>,
    /// The gain node's value, read back after each change.
    applied: RwSignal<f32>,
}

/// The audio graph, which lives in the browser only.
struct Engine {
    context: AudioContext,
    buffers: Vec<AudioBuffer>,
    gains: Vec<GainNode>,
    sources: Vec<AudioBufferSourceNode>,
    /// The context time at which the track's start is (or would have been) playing.
    origin: f64,
}

impl Engine {
    fn position(&self) -> f64 {
        (self.context.current_time() - self.origin).max(0.0)
    }

    fn start(&mut self, at: f64) -> Result<(), JsValue> {
        self.stop();
        let when = self.context.current_time() + LEAD_SECONDS;
        for (buffer, gain) in self.buffers.iter().zip(&self.gains) {
            let source = self.context.create_buffer_source()?;
            source.set_buffer(Some(buffer));
            source.connect_with_audio_node(gain)?;
            source.start_with_when_and_grain_offset(when, at)?;
            self.sources.push(source);
        }
        self.origin = when - at;
        Ok(())
    }

    fn stop(&mut self) {
        for source in self.sources.drain(..) {
            // A source that already ended refuses to stop; either way it is done.
            let _ = AsRef::<AudioScheduledSourceNode>::as_ref(&source).stop();
            let _ = source.disconnect();
        }
    }

    fn set_gains(&self, gains: &[f32]) -> Vec<f32> {
        self.gains
            .iter()
            .zip(gains)
            .map(|(node, &gain)| {
                node.gain().set_value(gain);
                node.gain().value()
            })
            .collect()
    }
}

/// The gain each stem should have: soloed stems only, when any is; otherwise every stem not muted.
fn effective_gains(strips: &[(f64, bool, bool)]) -> Vec<f32> {
    let any_solo = strips.iter().any(|&(_, _, solo)| solo);
    strips
        .iter()
        .map(|&(volume, muted, solo)| {
            let audible = if any_solo { solo } else { !muted };
            if audible { volume as f32 } else { 0.0 }
        })
        .collect()
}

/// What the mixer shares with the rest of the track page: where playback is, and a way to move it.
#[derive(Clone, Copy)]
pub struct Transport {
    pub position: Signal<f64>,
    pub seek: Callback<f64>,
}

#[component]
pub fn Mixer(
    track_id: String,
    stems: Vec<String>,
    /// The track's length as the page knows it; the decoded stems' own length replaces it once loaded.
    duration: f64,
    /// Filled with the mixer's transport, for the waveform.
    transport: RwSignal<Option<Transport>>,
) -> impl IntoView {
    let status = RwSignal::new(Status::Idle);
    let playing = RwSignal::new(false);
    let position = RwSignal::new(0.0f64);
    let length = RwSignal::new(duration);
    let strips: Vec<Strip> = stems
        .iter()
        .map(|_| Strip {
            volume: RwSignal::new(1.0),
            muted: RwSignal::new(false),
            solo: RwSignal::new(false),
            applied: RwSignal::new(1.0),
        })
        .collect();
    let strips = StoredValue::new(strips);
    let engine = BrowserValue::new(|| None::<Engine>);
    let urls: Vec<String> = stems
        .iter()
        .map(|stem| format!("/tracks/{track_id}/stems/{stem}"))
        .collect();

    // The graph follows the controls, and takes them on when it is built.
    Effect::new(move || {
        status.track();
        let wanted: Vec<_> = strips
            .get_value()
            .iter()
            .map(|s| (s.volume.get(), s.muted.get(), s.solo.get()))
            .collect();
        let gains = effective_gains(&wanted);
        let applied = engine
            .with_value(|engine| engine.as_ref().map(|engine| engine.set_gains(&gains)))
            .flatten()
            .unwrap_or(gains);
        for (strip, gain) in strips.get_value().iter().zip(applied) {
            strip.applied.set(gain);
        }
    });

    let play_from = move |at: f64| {
        let started = engine.try_update_value(|engine| match engine {
            Some(engine) => {
                let _ = engine.context.resume();
                engine.start(at).map(|()| true)
            }
            None => Ok(false),
        });
        match started {
            Some(Ok(true)) => playing.set(true),
            Some(Err(err)) => status.set(Status::Failed(format!("The browser would not play: {err:?}"))),
            _ => {}
        }
    };
    let pause = move || {
        engine.update_value(|engine| {
            if let Some(engine) = engine {
                position.set(engine.position().min(length.get_untracked()));
                engine.stop();
            }
        });
        playing.set(false);
    };
    let seek = move |at: f64| {
        let at = at.clamp(0.0, length.get_untracked());
        position.set(at);
        if playing.get_untracked() {
            play_from(at);
        }
    };
    let load_and_play = move || {
        let urls = urls.clone();
        status.set(Status::Loading {
            done: 0,
            total: urls.len(),
        });
        spawn_local(async move {
            match load(&urls, status).await {
                Ok(loaded) => {
                    length.set(
                        loaded
                            .buffers
                            .iter()
                            .map(AudioBuffer::duration)
                            .fold(0.0, f64::max),
                    );
                    engine.set_value(Some(loaded));
                    status.set(Status::Ready);
                    play_from(position.get_untracked());
                }
                Err(message) => status.set(Status::Failed(message)),
            }
        });
    };
    let toggle = move || match status.get_untracked() {
        Status::Loading { .. } => {}
        Status::Idle | Status::Failed(_) => load_and_play(),
        Status::Ready if playing.get_untracked() => pause(),
        Status::Ready => {
            let at = position.get_untracked();
            play_from(if at >= length.get_untracked() { 0.0 } else { at });
        }
    };
    let toggle = BrowserValue::new(|| toggle);

    // The clock: the context's time, read while playing; the end of the track stops the take.
    let ticker = set_interval_with_handle(
        move || {
            if !playing.get_untracked() {
                return;
            }
            let now = engine
                .with_value(|engine| engine.as_ref().map(Engine::position))
                .flatten();
            if let Some(now) = now {
                let end = length.get_untracked();
                if now >= end {
                    pause();
                    position.set(end);
                } else {
                    position.set(now);
                }
            }
        },
        std::time::Duration::from_millis(50),
    );
    on_cleanup(move || {
        if let Ok(ticker) = ticker {
            ticker.clear();
        }
        engine.update_value(|engine| {
            if let Some(engine) = engine {
                engine.stop();
                let _ = engine.context.close();
            }
        });
    });

    // Space plays and pauses; 1–9 mute a stem, Shift+1–9 solo it; not while typing.
    let keys = window_event_listener(ev::keydown, move |event| {
        if event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        let focus = focus(&event);
        let code = event.code();
        if code == "Space" && focus == Focus::Elsewhere {
            event.prevent_default();
            toggle.with_value(|toggle| toggle());
        } else if let Some(n) = code.strip_prefix("Digit").and_then(|d| d.parse::<usize>().ok())
            && focus != Focus::Text
            && let Some(strip) = n.checked_sub(1).and_then(|i| strips.get_value().get(i).copied())
        {
            let flag = if event.shift_key() {
                strip.solo
            } else {
                strip.muted
            };
            flag.update(|on| *on = !*on);
        }
    });
    on_cleanup(move || keys.remove());

    transport.set(Some(Transport {
        position: position.into(),
        seek: Callback::new(seek),
    }));

    let count = stems.len();
    let rows = stems
        .into_iter()
        .enumerate()
        .map(|(i, stem)| {
            let strip = strips.get_value()[i];
            let url = format!("/tracks/{track_id}/stems/{stem}");
            let key = i + 1;
            view! {
                <li class="strip" data-stem=stem.clone() data-gain=move || format!("{:.2}", strip.applied.get())>
                    <span class="stem-name">{stem.clone()}</span>
                    {switch(strip.muted, "mute", format!("Mute {stem}"), key.to_string())}
                    {switch(strip.solo, "solo", format!("Solo {stem}"), format!("Shift+{key}"))}
                    <input
                        type="range"
                        min="0"
                        max=MAX_VOLUME.to_string()
                        step="0.01"
                        aria-label=format!("{stem} volume")
                        prop:value=move || strip.volume.get().to_string()
                        on:input=move |event| {
                            if let Ok(volume) = event_target_value(&event).parse::<f64>() {
                                strip.volume.set(volume.clamp(0.0, MAX_VOLUME));
                            }
                        }
                    />
                    <a class="stem-download" href=url download=format!("{stem}.wav")>"Download"</a>
                </li>
            }
        })
        .collect_view();

    view! {
        <section
            class="mixer panel"
            aria-label="Stem mixer"
            data-status=move || status.get().name()
            data-playing=move || playing.get().to_string()
            data-position=move || format!("{:.2}", position.get())
            data-duration=move || format!("{:.2}", length.get())
        >
            <div class="transport">
                <button
                    type="button"
                    class="button play"
                    aria-keyshortcuts="Space"
                    disabled=move || matches!(status.get(), Status::Loading { .. })
                    on:click=move |_| {
                        toggle.with_value(|toggle| toggle());
                    }
                >
                    {move || if playing.get() { "Pause" } else { "Play" }}
                </button>
                <span class="clock" aria-label="Playback position">
                    {move || format!("{} / {}", clock(position.get()), clock(length.get()))}
                </span>
                <span class="mixer-status" role="status">
                    {move || match status.get() {
                        Status::Loading { done, total } => format!("Loading stems… {done} of {total}"),
                        Status::Failed(message) => message,
                        Status::Idle | Status::Ready => String::new(),
                    }}
                </span>
            </div>
            <ul class="strips" aria-label="Stems">
                {rows}
            </ul>
            <p class="hint">
                {format!(
                    "Space plays or pauses. 1–{count} mute a stem, Shift with the number solos it. Click the waveform to jump."
                )}
            </p>
        </section>
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Focus {
    /// A field that takes the key as text.
    Text,
    /// A button, which Space presses.
    Button,
    Elsewhere,
}

fn focus(event: &web_sys::KeyboardEvent) -> Focus {
    let Some(element) = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
    else {
        return Focus::Elsewhere;
    };
    match element.tag_name().as_str() {
        "TEXTAREA" | "SELECT" => Focus::Text,
        "BUTTON" => Focus::Button,
        "INPUT" => match element
            .dyn_into::<web_sys::HtmlInputElement>()
            .map(|input| input.type_())
        {
            Ok(kind)
                if matches!(
                    kind.as_str(),
                    "range" | "checkbox" | "radio" | "button" | "submit"
                ) =>
            {
                Focus::Button
            }
            _ => Focus::Text,
        },
        _ => Focus::Elsewhere,
    }
}

/// A strip's mute or solo button: pressed while `on` is, its first letter on it.
fn switch(on: RwSignal<bool>, kind: &'static str, label: String, keys: String) -> impl IntoView {
    let letter = kind[..1].to_ascii_uppercase();
    view! {
        <button
            type="button"
            class=format!("toggle {kind}")
            aria-pressed=move || on.get().to_string()
            aria-keyshortcuts=keys
            aria-label=label
            on:click=move |_| on.update(|on| *on = !*on)
        >
            {letter}
        </button>
    }
}

/// Fetches and decodes every stem, counting them off in `status`.
async fn load(urls: &[String], status: RwSignal<Status>) -> Result<Engine, String> {
    let failed = |err: JsValue| {
        leptos::logging::warn!("the mixer could not load the stems: {err:?}");
        "The stems could not be loaded. Reload the page to try again.".to_owned()
    };
    let context = AudioContext::new().map_err(failed)?;
    let window = web_sys::window().ok_or_else(|| "No browser window.".to_owned())?;
    let mut buffers = Vec::with_capacity(urls.len());
    let mut gains = Vec::with_capacity(urls.len());
    for (done, url) in urls.iter().enumerate() {
        let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
            .await
            .and_then(JsCast::dyn_into)
            .map_err(failed)?;
        if !response.ok() {
            return Err(format!(
                "A stem could not be fetched ({}). Reload the page to try again.",
                response.status()
            ));
        }
        let bytes = JsFuture::from(response.array_buffer().map_err(failed)?)
            .await
            .map_err(failed)?;
        let bytes: js_sys::ArrayBuffer = bytes.dyn_into().map_err(failed)?;
        let buffer: AudioBuffer = JsFuture::from(context.decode_audio_data(&bytes).map_err(failed)?)
            .await
            .and_then(JsCast::dyn_into)
            .map_err(failed)?;
        let gain = context.create_gain().map_err(failed)?;
        gain.connect_with_audio_node(&context.destination())
            .map_err(failed)?;
        buffers.push(buffer);
        gains.push(gain);
        status.set(Status::Loading {
            done: done + 1,
            total: urls.len(),
        });
    }
    Ok(Engine {
        context,
        buffers,
        gains,
        sources: Vec::new(),
        origin: 0.0,
    })
}

/// `m:ss`
pub fn clock(seconds: f64) -> String {
    let whole = seconds.max(0.0).floor() as u64;
    format!("{}:{:02}", whole / 60, whole % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solo_wins_over_mute_and_volume_carries_through() {
        assert_eq!(
            effective_gains(&[(1.0, false, false), (0.5, true, false)]),
            [1.0, 0.0]
        );
        assert_eq!(
            effective_gains(&[(1.0, false, false), (0.5, true, true), (0.8, false, false)]),
            [0.0, 0.5, 0.0],
            "a soloed stem plays even when muted; the others fall silent"
        );
        assert_eq!(
            effective_gains(&[(1.2, false, true), (1.0, false, true)]),
            [1.2, 1.0]
        );
    }

    #[test]
    fn the_clock_reads_minutes_and_seconds() {
        assert_eq!(clock(0.0), "0:00");
        assert_eq!(clock(65.9), "1:05");
        assert_eq!(clock(-3.0), "0:00");
    }
}
