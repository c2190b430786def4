//! lalal.ai's API 1.1.0 (../shared/design/lalal-ai-openapi.json), as far as separation needs it: upload a
//! file, start a split, check it, cancel it, delete the file, and the minutes left. The license key goes in
//! the `X-License-Key` header of requests to the API only, never to the download links it returns. What the
//! API answers is turned into our errors here: the user's words, never its raw body.

use std::{path::Path, time::Duration};

use futures_util::TryStreamExt as _;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::stems::Split;
use crate::{Error, Result, metered::Metered, storage::Storage, storage::StorageKey};

/// How long a request other than an upload or a download waits for its answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a vendor's message may be when we pass it on.
const MAX_DETAIL: usize = 200;

/// One user's access to lalal.ai.
#[derive(Clone)]
pub struct Api {
    client: Client,
    base: String,
    key: SecretString,
}

/// A file lalal.ai holds for us.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Source {
    pub id: String,
    /// Seconds, as lalal.ai measured it.
    pub duration: f64,
}

/// One file of a finished split.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Track {
    /// `stem` for a requested stem, `back` for what is left of the mix without them.
    #[serde(rename = "type")]
    pub kind: String,
    pub label: String,
    pub url: String,
}

/// Where a split task stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    /// Queued (0) or running, in percent.
    Progress(u8),
    Success(Vec<Track>),
    /// lalal.ai could not split the file; the text is for the user.
    Failed(String),
    Cancelled,
}

impl Api {
    pub fn new(client: &Client, base: &str, key: SecretString) -> Self {
        Self {
            client: client.clone(),
            base: base.trim_end_matches('/').to_owned(),
            key,
        }
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.client
            .post(format!("{}/api/v1/{path}", self.base))
            .header("X-License-Key", self.key.expose_secret())
    }

    /// Sends `request` and reads its JSON answer, or says in our words why there is none.
    async fn send<T: serde::de::DeserializeOwned>(&self, request: RequestBuilder) -> Result<T> {
        let response = request.send().await.map_err(unreachable)?;
        let response = self.accepted(response).await?;
        response
            .json()
            .await
            .map_err(|err| Error::Unavailable(format!("lalal.ai gave an answer we cannot read ({err}).")))
    }

    /// `response` if it is a success, otherwise the error its status and body mean.
    async fn accepted(&self, response: Response) -> Result<Response> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body: Value = response.json().await.unwrap_or(Value::Null);
        Err(self.refusal(status, retry_after, &body))
    }

    fn refusal(&self, status: StatusCode, retry_after: Option<Duration>, body: &Value) -> Error {
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Error::Invalid(
                "lalal.ai refused the license key. Check it in Settings (lalal.ai → Account → License key)."
                    .into(),
            ),
            StatusCode::TOO_MANY_REQUESTS => Error::RateLimited {
                retry_after: retry_after.unwrap_or(Duration::from_secs(60)),
            },
            StatusCode::PAYLOAD_TOO_LARGE => {
                Error::Invalid("This file is larger than lalal.ai accepts in one upload.".into())
            }
            status if status.is_server_error() => {
                Error::Unavailable("lalal.ai is having trouble right now.".into())
            }
            StatusCode::BAD_REQUEST => {
                let code = body["code"].as_str().unwrap_or_default();
                let detail = body["detail"].as_str().map(|detail| self.passable(detail));
                Error::Invalid(refused(code, detail.flatten()))
            }
            status => Error::Internal(format!("lalal.ai answered {status}: {body}")),
        }
    }

    /// The vendor's words, if they are short and cannot carry the key back to the page.
    fn passable(&self, detail: &str) -> Option<String> {
        let detail = detail.trim();
        (!detail.is_empty() && !detail.contains(self.key.expose_secret()))
            .then(|| detail.chars().take(MAX_DETAIL).collect())
    }

    /// The processing minutes the key has left.
    pub async fn minutes_left(&self) -> Result<f64> {
        #[derive(Deserialize)]
        struct Limits {
            minutes_left: f64,
        }
        let limits: Limits = self
            .send(self.post("limits/minutes_left/").timeout(REQUEST_TIMEOUT))
            .await?;
        Ok(limits.minutes_left)
    }

    /// Uploads the file at `path` as `name` (ASCII; lalal.ai reads the format from it), calling `progress`
    /// with the bytes sent so far and the file's size.
    pub async fn upload(
        &self,
        path: &Path,
        name: &str,
        mut progress: impl FnMut(u64, u64) + Send + Sync + 'static,
    ) -> Result<Source> {
        let file = tokio::fs::File::open(path).await.map_err(Error::io(path))?;
        let length = file.metadata().await.map_err(Error::io(path))?.len();
        let mut sent = 0;
        let counted = tokio_util::io::ReaderStream::new(file).inspect_ok(move |chunk| {
            sent += chunk.len() as u64;
            progress(sent, length);
        });
        let body = reqwest::Body::wrap_stream(counted);
        self.send(
            self.post("upload/")
                .header(
                    reqwest::header::CONTENT_DISPOSITION,
                    format!("attachment; filename={name}"),
                )
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .header(reqwest::header::CONTENT_LENGTH, length)
                .body(body),
        )
        .await
    }

    /// Starts `split` of `source`. The same `idempotency_key` again, before the task starts, is the same
    /// task, so a request whose answer was lost can be sent again without paying twice.
    pub async fn split(&self, source: &str, split: &Split, idempotency_key: Uuid) -> Result<String> {
        #[derive(Deserialize)]
        struct Started {
            task_id: String,
        }
        let (path, presets) = match split {
            Split::One { stem, splitter } => (
                "split/stem_separator/",
                json!({ "stem": stem, "splitter": splitter, "encoder_format": "wav" }),
            ),
            Split::Many { stems } => (
                "split/multistem/",
                json!({ "stem_list": stems, "encoder_format": "wav" }),
            ),
        };
        let body = json!({ "source_id": source, "presets": presets, "idempotency_key": idempotency_key });
        let started: Started = self
            .send(self.post(path).timeout(REQUEST_TIMEOUT).json(&body))
            .await?;
        Ok(started.task_id)
    }

    /// Where the task stands.
    pub async fn check(&self, task: &str) -> Result<Task> {
        let answer: Value = self
            .send(
                self.post("check/")
                    .timeout(REQUEST_TIMEOUT)
                    .json(&json!({ "task_ids": [task] })),
            )
            .await?;
        let result = &answer["result"][task];
        let unreadable = || Error::Unavailable("lalal.ai gave an answer we cannot read.".into());
        match result["status"].as_str() {
            Some("progress") => Ok(Task::Progress(
                result["progress"].as_u64().unwrap_or(0).min(100) as u8
            )),
            Some("success") => serde_json::from_value(result["result"]["tracks"].clone())
                .map(Task::Success)
                .map_err(|_| unreadable()),
            Some("cancelled") => Ok(Task::Cancelled),
            Some("error") => {
                let error = &result["error"];
                let detail = error["detail"].as_str().and_then(|detail| self.passable(detail));
                Ok(Task::Failed(failed(error["code"].as_str(), detail)))
            }
            Some("server_error") => {
                let detail = result["error"].as_str().and_then(|detail| self.passable(detail));
                Ok(Task::Failed(match detail {
                    Some(detail) => format!("lalal.ai lost this split: {detail}"),
                    None => "lalal.ai lost this split.".into(),
                }))
            }
            _ => Err(unreadable()),
        }
    }

    /// Cancels the task, if it still runs.
    pub async fn cancel(&self, task: &str) -> Result<()> {
        let _: Value = self
            .send(
                self.post("cancel/")
                    .timeout(REQUEST_TIMEOUT)
                    .json(&json!({ "task_ids": [task] })),
            )
            .await?;
        Ok(())
    }

    /// Deletes the uploaded file and everything split from it from lalal.ai's storage.
    pub async fn delete(&self, source: &str) -> Result<()> {
        let _: Value = self
            .send(
                self.post("delete/")
                    .timeout(REQUEST_TIMEOUT)
                    .json(&json!({ "source_id": source })),
            )
            .await?;
        Ok(())
    }

    /// Stores the file at `url` (a link from a finished split; it takes no key) under `key`, up to
    /// `max_bytes`, calling `progress` with the bytes so far.
    pub async fn download(
        &self,
        storage: &Storage,
        url: &str,
        key: &StorageKey,
        max_bytes: u64,
        progress: impl FnMut(u64) + Send + Unpin,
    ) -> Result<u64> {
        let response = self.client.get(url).send().await.map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(Error::Unavailable(format!(
                "lalal.ai's file answered {} when we fetched it.",
                response.status()
            )));
        }
        let stream = response.bytes_stream().map_err(std::io::Error::other);
        let mut reader =
            Metered::with_progress(tokio_util::io::StreamReader::new(stream), max_bytes, progress);
        let written = storage.write(key, &mut reader).await;
        if reader.exceeded() {
            return Err(Error::Invalid(
                "A stem from lalal.ai is larger than this server accepts.".into(),
            ));
        }
        written
    }
}

fn unreachable(err: reqwest::Error) -> Error {
    Error::Unavailable(if err.is_timeout() {
        "lalal.ai did not answer in time.".into()
    } else {
        "lalal.ai cannot be reached right now.".into()
    })
}

/// A refused request's meaning, by lalal.ai's error codes.
fn refused(code: &str, detail: Option<String>) -> String {
    match code {
        "exceeded_duration" => {
            "Your lalal.ai license has not enough minutes left for this split. Top it up at lalal.ai, or \
             separate on this server instead."
                .into()
        }
        "max_duration" => "This track is longer than your lalal.ai plan allows in one file.".into(),
        "exceeded_size" => "This file is larger than your lalal.ai plan allows.".into(),
        "batch_not_avaliable" => "Your lalal.ai plan does not include this kind of split.".into(),
        "idempotency_key_used" => {
            "lalal.ai started this split already, and its task was lost here. Retry to start it again.".into()
        }
        _ => match detail {
            Some(detail) => format!("lalal.ai refused the request: {detail}"),
            None => "lalal.ai refused the request.".into(),
        },
    }
}

/// A failed task's meaning.
fn failed(code: Option<&str>, detail: Option<String>) -> String {
    match (code, detail) {
        (Some("inference_error"), Some(detail)) => format!("lalal.ai found nothing to split: {detail}"),
        (_, Some(detail)) => format!("lalal.ai could not split this track: {detail}"),
        (_, None) => "lalal.ai could not split this track.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> Api {
        Api::new(
            &Client::new(),
            "http://127.0.0.1:9/",
            SecretString::from("lic-secret-1234"),
        )
    }

    #[test]
    fn refusals_are_said_in_our_words_and_never_echo_the_key() {
        let api = api();
        let said = |status: u16, body: Value| {
            api.refusal(StatusCode::from_u16(status).expect("a status"), None, &body)
                .public_message()
        };
        assert!(said(401, Value::Null).contains("refused the license key"));
        assert!(said(400, json!({ "code": "exceeded_duration", "detail": "x" })).contains("minutes left"));
        assert!(said(400, json!({ "code": "max_duration", "detail": "x" })).contains("longer than"));
        assert_eq!(
            said(400, json!({ "code": "odd", "detail": "Bad stem" })),
            "lalal.ai refused the request: Bad stem"
        );
        let echoed = said(
            400,
            json!({ "code": "odd", "detail": "key lic-secret-1234 is odd" }),
        );
        assert_eq!(echoed, "lalal.ai refused the request.");
        assert!(matches!(
            api.refusal(StatusCode::TOO_MANY_REQUESTS, Some(Duration::from_secs(7)), &Value::Null),
            Error::RateLimited { retry_after } if retry_after == Duration::from_secs(7)
        ));
        assert!(matches!(
            api.refusal(StatusCode::BAD_GATEWAY, None, &Value::Null),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            api.refusal(StatusCode::UNPROCESSABLE_ENTITY, None, &Value::Null),
            Error::Internal(_)
        ));
    }

    #[test]
    fn a_long_vendor_message_is_cut() {
        let long = "a".repeat(1000);
        assert_eq!(api().passable(&long).map(|text| text.len()), Some(MAX_DETAIL));
        assert_eq!(api().passable("  "), None);
    }
}
