//! A stand-in for lalal.ai that speaks its API 1.1.0 as ../shared/design/lalal-ai-openapi.json describes it
//! (the license key header, upload with `Content-Disposition`, both split endpoints with idempotency keys,
//! `check` with progress then an end, `cancel`, `delete`, `limits/minutes_left`, 400/401/429 bodies), and
//! serves a finished split's files. Its "separation" is arithmetic the tests can check: each requested
//! stem is a quarter of the uploaded WAV, and the remainder is what is left, so the files add up to the mix.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

/// The key the stand-in accepts.
pub const LICENSE: &str = "lalal-test-license-7Q2Z";

/// How a split ends, once it has answered `progress` for the planned number of checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Success,
    /// A failed task, with lalal.ai's error code and detail.
    Error(&'static str, &'static str),
    Cancelled,
    /// Never ends.
    Hold,
}

/// What the stand-in is told to do, and what it saw.
#[derive(Debug)]
pub struct Books {
    pub minutes_left: f64,
    /// Checks answered `progress` before the outcome.
    pub progress_checks: usize,
    pub outcome: Outcome,
    /// Every check whose number (from 1) this divides is answered 429.
    pub limit_every: Option<usize>,
    pub uploads: usize,
    pub splits: usize,
    pub checks: usize,
    /// The bodies of split requests, in order.
    pub split_requests: Vec<Value>,
    pub cancelled: Vec<String>,
    pub deleted: Vec<String>,
    /// Uploaded files still held, by source id.
    pub sources: HashMap<String, Vec<u8>>,
    tasks: HashMap<String, RemoteTask>,
    idempotency: HashMap<String, String>,
    base: String,
}

#[derive(Debug, Clone)]
struct RemoteTask {
    source: String,
    /// Requested stems, by lalal.ai's names; `back_label` names the remainder.
    stems: Vec<String>,
    back_label: String,
    checks: usize,
    cancelled: bool,
}

/// The stand-in's state, shared with the test.
#[derive(Clone)]
pub struct FakeLalalai(Arc<Mutex<Books>>);

impl FakeLalalai {
    pub fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.0.lock().expect("unpoisoned books")
    }

    /// Serves the stand-in on a free port; returns it and its base URL.
    pub async fn start() -> (Self, String) {
        let fake = Self(Arc::new(Mutex::new(Books {
            minutes_left: 100.0,
            progress_checks: 2,
            outcome: Outcome::Success,
            limit_every: None,
            uploads: 0,
            splits: 0,
            checks: 0,
            split_requests: Vec::new(),
            cancelled: Vec::new(),
            deleted: Vec::new(),
            sources: HashMap::new(),
            tasks: HashMap::new(),
            idempotency: HashMap::new(),
            base: String::new(),
        })));
        let router = Router::new()
            // Its uploads may be gigabytes.
            .route(
                "/api/v1/upload/",
                post(upload).layer(axum::extract::DefaultBodyLimit::disable()),
            )
            .route("/api/v1/split/stem_separator/", post(split_one))
            .route("/api/v1/split/multistem/", post(split_many))
            .route("/api/v1/check/", post(check))
            .route("/api/v1/cancel/", post(cancel))
            .route("/api/v1/delete/", post(delete))
            .route("/api/v1/limits/minutes_left/", post(minutes_left))
            .route("/files/{task}/{label}", get(file))
            .with_state(fake.clone());
        let addr: SocketAddr = crate::serve(router).await;
        let base = format!("http://{addr}");
        fake.books().base = base.clone();
        (fake, base)
    }
}

fn refused(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// The key check every API route makes first.
fn licensed(headers: &HeaderMap) -> Result<(), Box<Response>> {
    match headers.get("x-license-key").and_then(|key| key.to_str().ok()) {
        Some(LICENSE) => Ok(()),
        _ => Err(Box::new(refused(
            StatusCode::UNAUTHORIZED,
            json!({ "detail": "Invalid license key" }),
        ))),
    }
}

async fn minutes_left(State(fake): State<FakeLalalai>, headers: HeaderMap) -> Response {
    if let Err(refusal) = licensed(&headers) {
        return *refusal;
    }
    Json(json!({ "minutes_left": fake.books().minutes_left })).into_response()
}

async fn upload(State(fake): State<FakeLalalai>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refusal) = licensed(&headers) {
        return *refusal;
    }
    let name = headers
        .get("content-disposition")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("attachment; filename="))
        .map(str::to_owned);
    let Some(name) = name else {
        return refused(
            StatusCode::BAD_REQUEST,
            json!({ "detail": "Content-Disposition header is required", "code": "bad_request" }),
        );
    };
    let duration = hound::WavReader::new(std::io::Cursor::new(&body[..]))
        .map(|reader| reader.duration() / reader.spec().sample_rate)
        .unwrap_or(0);
    let id = uuid::Uuid::new_v4().to_string();
    let mut books = fake.books();
    books.uploads += 1;
    books.sources.insert(id.clone(), body.to_vec());
    Json(
        json!({ "id": id, "name": name, "size": body.len(), "duration": duration, "expires": 1_900_000_000 }),
    )
    .into_response()
}

async fn split_one(State(fake): State<FakeLalalai>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let stem = body["presets"]["stem"].as_str().unwrap_or_default().to_owned();
    let back = format!("no_{stem}");
    start(&fake, &headers, body, vec![stem], back)
}

async fn split_many(
    State(fake): State<FakeLalalai>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let stems = body["presets"]["stem_list"]
        .as_array()
        .map(|stems| {
            stems
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    start(&fake, &headers, body, stems, "no_multistem".into())
}

fn start(fake: &FakeLalalai, headers: &HeaderMap, body: Value, stems: Vec<String>, back: String) -> Response {
    if let Err(refusal) = licensed(headers) {
        return *refusal;
    }
    let mut books = fake.books();
    books.split_requests.push(body.clone());
    let source = body["source_id"].as_str().unwrap_or_default().to_owned();
    let Some(audio) = books.sources.get(&source) else {
        return refused(
            StatusCode::BAD_REQUEST,
            json!({ "detail": "Source file not found", "code": "source_not_found" }),
        );
    };
    if stems.is_empty() {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "detail": [{ "loc": ["body", "presets"], "msg": "Field required", "type": "missing" }] }),
        );
    }
    let seconds = hound::WavReader::new(std::io::Cursor::new(&audio[..]))
        .map(|reader| f64::from(reader.duration()) / f64::from(reader.spec().sample_rate))
        .unwrap_or(0.0);
    let needed = seconds / 60.0 * stems.len() as f64;
    if needed > books.minutes_left {
        return refused(
            StatusCode::BAD_REQUEST,
            json!({ "detail": "Not enough minutes", "code": "exceeded_duration" }),
        );
    }
    if let Some(key) = body["idempotency_key"].as_str()
        && let Some(task) = books.idempotency.get(key).cloned()
    {
        // The same request again: the same task, until it has begun.
        return if books.tasks[&task].checks == 0 {
            Json(json!({ "task_id": task })).into_response()
        } else {
            refused(
                StatusCode::BAD_REQUEST,
                json!({ "detail": "Idempotency key has already been used.", "code": "idempotency_key_used" }),
            )
        };
    }

    books.splits += 1;
    books.minutes_left -= needed;
    let task = uuid::Uuid::new_v4().to_string();
    if let Some(key) = body["idempotency_key"].as_str() {
        books.idempotency.insert(key.to_owned(), task.clone());
    }
    books.tasks.insert(
        task.clone(),
        RemoteTask {
            source,
            stems,
            back_label: back,
            checks: 0,
            cancelled: false,
        },
    );
    Json(json!({ "task_id": task })).into_response()
}

async fn check(State(fake): State<FakeLalalai>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Err(refusal) = licensed(&headers) {
        return *refusal;
    }
    let mut books = fake.books();
    books.checks += 1;
    if books.limit_every.is_some_and(|every| books.checks % every == 0) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            Json(json!({ "detail": "Rate limit exceeded: 20 per 1 minute" })),
        )
            .into_response();
    }
    let (planned, outcome, base) = (books.progress_checks, books.outcome.clone(), books.base.clone());
    let mut result = serde_json::Map::new();
    for id in body["task_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let Some(task) = books.tasks.get_mut(id) else {
            result.insert(
                id.to_owned(),
                json!({ "status": "server_error", "error": "Failed to extract information about task" }),
            );
            continue;
        };
        task.checks += 1;
        let presets = json!({ "task_type": "split", "label": "multistem", "stem_list": task.stems });
        let answer = if task.cancelled {
            json!({ "status": "cancelled", "source_id": task.source, "presets": presets })
        } else if task.checks <= planned || outcome == Outcome::Hold {
            let progress = (100 * task.checks / (planned + 1)).min(99);
            json!({ "status": "progress", "progress": progress, "source_id": task.source, "presets": presets })
        } else {
            match outcome {
                Outcome::Success => {
                    let mut tracks: Vec<Value> = task
                        .stems
                        .iter()
                        .map(|stem| json!({ "type": "stem", "label": stem, "url": format!("{base}/files/{id}/{stem}") }))
                        .collect();
                    let back = &task.back_label;
                    tracks.push(
                        json!({ "type": "back", "label": back, "url": format!("{base}/files/{id}/{back}") }),
                    );
                    json!({ "status": "success", "source_id": task.source, "presets": presets,
                            "result": { "duration": 0, "tracks": tracks } })
                }
                Outcome::Error(code, detail) => json!({
                    "status": "error", "source_id": task.source, "presets": presets,
                    "error": { "code": code, "detail": detail, "id": "e-1" }
                }),
                Outcome::Cancelled => {
                    json!({ "status": "cancelled", "source_id": task.source, "presets": presets })
                }
                Outcome::Hold => unreachable!("held above"),
            }
        };
        result.insert(id.to_owned(), answer);
    }
    Json(json!({ "result": result })).into_response()
}

async fn cancel(State(fake): State<FakeLalalai>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Err(refusal) = licensed(&headers) {
        return *refusal;
    }
    let mut books = fake.books();
    let mut result = serde_json::Map::new();
    for id in body["task_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        books.cancelled.push(id.to_owned());
        let answer = match books.tasks.get_mut(id) {
            Some(task) => {
                task.cancelled = true;
                json!({ "status": "success" })
            }
            None => json!({ "status": "server_error", "error": "Permission denied" }),
        };
        result.insert(id.to_owned(), answer);
    }
    Json(json!({ "result": result })).into_response()
}

async fn delete(State(fake): State<FakeLalalai>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Err(refusal) = licensed(&headers) {
        return *refusal;
    }
    let source = body["source_id"].as_str().unwrap_or_default().to_owned();
    let mut books = fake.books();
    books.sources.remove(&source);
    books.deleted.push(source);
    Json(json!({})).into_response()
}

/// A finished split's file: a quarter of the upload per stem, the rest as the remainder; 32-bit float WAV.
async fn file(State(fake): State<FakeLalalai>, Path((task, label)): Path<(String, String)>) -> Response {
    let books = fake.books();
    let Some(task) = books.tasks.get(&task) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(audio) = books.sources.get(&task.source) else {
        // Deleted already: as lalal.ai's links, gone.
        return StatusCode::NOT_FOUND.into_response();
    };
    let gain = if label == task.back_label {
        1.0 - 0.25 * task.stems.len() as f32
    } else if task.stems.contains(&label) {
        0.25
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut reader = hound::WavReader::new(std::io::Cursor::new(&audio[..])).expect("the stand-in takes WAV");
    let spec = reader.spec();
    let scale = (1u32 << (spec.bits_per_sample - 1)) as f32;
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().map(|x| x.expect("a sample")).collect(),
        hound::SampleFormat::Int => reader
            .samples::<i32>()
            .map(|x| x.expect("a sample") as f32 / scale)
            .collect(),
    };
    let out_spec = hound::WavSpec {
        channels: spec.channels,
        sample_rate: spec.sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut bytes = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut bytes, out_spec).expect("a writer");
    for x in samples {
        writer.write_sample(gain * x).expect("writes");
    }
    writer.finalize().expect("finishes");
    ([("content-type", "audio/wav")], bytes.into_inner()).into_response()
}
