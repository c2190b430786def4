//! Live job updates in the browser: the server's event stream (`/events`) says which of the user's tracks
//! moved, and the page fetches its list again, at most twice a second. While the stream is down (a proxy
//! that buffers it, a restart) the page falls back to looking every two seconds while work is running.

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::{JsCast, closure::Closure};

const TICK: Duration = Duration::from_millis(500);
/// Ticks between looks while polling.
const POLL_TICKS: u32 = 4;

/// Calls `refresh` after changes to the user's jobs, for as long as the calling component lives; `busy`
/// says whether polling is needed when the stream is down.
pub fn follow(refresh: impl Fn() + 'static, busy: impl Fn() -> bool + 'static) {
    let changed = RwSignal::new(false);
    let connected = RwSignal::new(false);
    let source = web_sys::EventSource::new("/events").ok();
    let mut listeners = Vec::new();
    if let Some(source) = &source {
        let mut listen = |event: &str, handler: Box<dyn Fn()>| {
            let closure = Closure::<dyn Fn()>::new(handler);
            if source
                .add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())
                .is_ok()
            {
                listeners.push(closure);
            }
        };
        listen("track", Box::new(move || changed.set(true)));
        listen("resync", Box::new(move || changed.set(true)));
        listen("open", Box::new(move || connected.set(true)));
        // The browser reconnects by itself; until then, poll.
        listen("error", Box::new(move || connected.set(false)));
    }
    let ticks = std::cell::Cell::new(0u32);
    let interval = set_interval_with_handle(
        move || {
            ticks.set(ticks.get().wrapping_add(1));
            let poll = !connected.get_untracked() && ticks.get().is_multiple_of(POLL_TICKS) && busy();
            if changed.get_untracked() || poll {
                changed.set(false);
                refresh();
            }
        },
        TICK,
    );
    let kept = StoredValue::new_local((source, listeners));
    on_cleanup(move || {
        if let Ok(handle) = interval {
            handle.clear();
        }
        kept.with_value(|(source, _)| {
            if let Some(source) = source {
                source.close();
            }
        });
    });
}
