//! The upload box: audio files picked or dropped on it. With the script, each file goes up on a request of
//! its own, one after another, with its own progress bar and result; without it, the form posts them all
//! to `/upload` at once.

use std::collections::VecDeque;

use leptos::{ev, prelude::*};
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{File, FileList, FormData, ProgressEvent, XmlHttpRequest};

use crate::browser_value::BrowserValue;

/// Where one file is on its way in.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Waiting,
    /// The share of its bytes sent so far, 0 to 1.
    Sending(f64),
    /// Sent; the server is decoding it.
    Checking,
    Added(String),
    Failed(String),
}

#[derive(Debug, Clone)]
struct Upload {
    key: usize,
    name: String,
    bytes: f64,
    stage: RwSignal<Stage>,
}

/// The files not yet sent. One at a time: the server checks each by decoding it, which is the slow part.
#[derive(Default)]
struct Queue {
    waiting: VecDeque<(File, RwSignal<Stage>)>,
    sending: bool,
}

type SharedQueue = BrowserValue<Queue>;

/// `added` runs after each file that became a track.
#[component]
pub fn UploadBox(added: Callback<()>) -> impl IntoView {
    let uploads = RwSignal::new(Vec::<Upload>::new());
    let queue: SharedQueue = BrowserValue::new(Queue::default);
    let dragging = RwSignal::new(false);
    // Effects run only in the browser: once the script is here, picking a file sends it, so the button
    // that the plain form needs goes.
    let scripted = RwSignal::new(false);
    Effect::new(move || scripted.set(true));

    let add = move |files: FileList| {
        for index in 0..files.length() {
            let Some(file) = files.get(index) else { continue };
            let stage = RwSignal::new(Stage::Waiting);
            uploads.update(|list| {
                list.push(Upload {
                    key: list.len(),
                    name: file.name(),
                    bytes: file.size(),
                    stage,
                })
            });
            queue.update_value(|queue| queue.waiting.push_back((file, stage)));
        }
        pump(queue, added);
    };
    let picked = move |event: ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&event);
        if let Some(files) = input.files() {
            add(files);
        }
        // So that picking the same file again sends it again.
        input.set_value("");
    };
    let dropped = move |event: ev::DragEvent| {
        event.prevent_default();
        dragging.set(false);
        if let Some(files) = event.data_transfer().and_then(|transfer| transfer.files()) {
            add(files);
        }
    };
    let over = move |event: ev::DragEvent| {
        event.prevent_default();
        dragging.set(true);
    };

    view! {
        <form
            class="upload-box panel"
            class:dragging=move || dragging.get()
            method="post"
            action="/upload"
            enctype="multipart/form-data"
            on:dragover=over
            on:dragleave=move |_| dragging.set(false)
            on:drop=dropped
        >
            <label for="upload-files">"Add audio files"</label>
            <p class="hint">
                "Drop them here or choose them. WAV, AIFF, FLAC, MP3, Ogg Vorbis, AAC or ALAC; several at once is fine."
            </p>
            <input
                id="upload-files"
                type="file"
                name="file"
                accept="audio/*,.flac,.m4a,.aif,.aiff"
                multiple
                required
                on:change=picked
            />
            <button type="submit" class="button" hidden=move || scripted.get()>"Upload"</button>
            <Show when=move || !uploads.read().is_empty()>
                <ul class="upload-list" aria-label="Uploads">
                    <For each=move || uploads.get() key=|upload| upload.key let:upload>
                        <UploadLine upload />
                    </For>
                </ul>
            </Show>
        </form>
    }
}

#[component]
fn UploadLine(upload: Upload) -> impl IntoView {
    let stage = upload.stage;
    let failed = move || matches!(stage.get(), Stage::Failed(_));
    let text = move || match stage.get() {
        Stage::Waiting => "Waiting…".to_owned(),
        Stage::Sending(share) => format!("Sending… {:.0}%", share * 100.0),
        Stage::Checking => "Checking the audio…".to_owned(),
        Stage::Added(title) => format!("Added “{title}”"),
        Stage::Failed(error) => error,
    };
    let sent = move || match stage.get() {
        Stage::Sending(share) => Some(share),
        _ => None,
    };
    view! {
        <li class="upload" class:failed=failed data-file=upload.name.clone()>
            <span class="upload-name">{upload.name.clone()}</span>
            <span class="upload-size muted">{format!("{:.1} MB", upload.bytes / 1_048_576.0)}</span>
            <span class="upload-stage" role="status">{text}</span>
            {move || {
                sent()
                    .map(|share| {
                        view! { <progress max="1" value=share aria-label="Upload progress"></progress> }
                    })
            }}
        </li>
    }
}

/// Starts the next waiting file unless one is on its way.
fn pump(queue: SharedQueue, added: Callback<()>) {
    let next = queue
        .try_update_value(|queue| {
            if queue.sending {
                return None;
            }
            let next = queue.waiting.pop_front();
            queue.sending = next.is_some();
            next
        })
        .flatten();
    let Some((file, stage)) = next else { return };
    stage.set(Stage::Sending(0.0));
    let progress = move |share: f64| {
        stage.set(if share >= 1.0 {
            Stage::Checking
        } else {
            Stage::Sending(share)
        })
    };
    let done = move |result: Stage| {
        if matches!(result, Stage::Added(_)) {
            added.run(());
        }
        stage.set(result);
        queue.update_value(|queue| queue.sending = false);
        pump(queue, added);
    };
    if let Err(err) = send(&file, progress, done) {
        leptos::logging::warn!("could not send {}: {err:?}", file.name());
        stage.set(Stage::Failed("Your browser could not send this file.".to_owned()));
        queue.update_value(|queue| queue.sending = false);
        pump(queue, added);
    }
}

/// Posts one file to `/upload`, reporting the share sent, then what the server made of it.
fn send(
    file: &File,
    progress: impl Fn(f64) + 'static,
    done: impl FnOnce(Stage) + 'static,
) -> Result<(), JsValue> {
    let form = FormData::new()?;
    form.append_with_blob_and_filename("file", file, &file.name())?;
    let request = XmlHttpRequest::new()?;
    request.open("POST", "/upload")?;
    request.set_request_header("Accept", "application/json")?;
    let upload = request.upload()?;
    let on_progress = Closure::<dyn Fn(ProgressEvent)>::new(move |event: ProgressEvent| {
        if event.length_computable() && event.total() > 0.0 {
            progress(event.loaded() / event.total());
        }
    });
    upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    let finished = request.clone();
    // Runs once, at the end whatever the end was, and frees itself and the progress listener.
    let on_end = Closure::once_into_js(move || {
        upload.set_onprogress(None);
        drop(on_progress);
        done(outcome(&finished));
    });
    request.set_onloadend(Some(on_end.unchecked_ref()));
    request.send_with_opt_form_data(Some(&form))
}

/// The part of `/upload`'s answer (one entry per file) that the box shows.
#[derive(Deserialize)]
struct Outcome {
    title: Option<String>,
    error: Option<String>,
}

fn outcome(request: &XmlHttpRequest) -> Stage {
    let body = request.response_text().ok().flatten().unwrap_or_default();
    let failed = |message: &str| Stage::Failed(message.to_owned());
    match request.status().unwrap_or(0) {
        200 | 422 => match serde_json::from_str::<Vec<Outcome>>(&body)
            .ok()
            .and_then(|outcomes| outcomes.into_iter().next())
        {
            Some(Outcome {
                title: Some(title), ..
            }) => Stage::Added(title),
            Some(Outcome {
                error: Some(error), ..
            }) => Stage::Failed(error),
            _ => failed("The server's answer made no sense. Reload the page to see what arrived."),
        },
        0 => failed("The upload was cut short. Check the connection and try again."),
        401 => failed("You were signed out. Sign in again, then add the file again."),
        413 => failed("This file is larger than the upload limit."),
        400 if !body.is_empty() && body.len() < 200 => Stage::Failed(body),
        _ => failed("The server could not take this file just now. Try again later."),
    }
}
