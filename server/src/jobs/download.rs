//! The `download` queue: a track's audio, from a link the user gave (streamed into storage with progress
//! in bytes) or from the audio resolver command for a Spotify song. What arrives is checked by decoding
//! it; then the track gets its audio and its separation and analysis are queued, in the transaction that
//! completes the download.

use std::sync::Arc;

use futures_util::TryStreamExt;
use reqwest::{StatusCode, Url, header};
use uuid::Uuid;

use super::{
    Pipeline,
    row::Kind,
    runner::{Detail, JobQueue, Report, Reporter, Supervisor, Work},
};
use crate::{
    Error, Result,
    http_client::{self, HttpClients},
    import::resolver::{Query, Resolver},
    intake,
    metered::Metered,
    storage::{Storage, StorageKey},
    tracks,
};

#[derive(Clone)]
pub struct Download {
    storage: Storage,
    http: HttpClients,
    resolver: Option<Arc<Resolver>>,
    max_bytes: u64,
    pipeline: Pipeline,
}

pub type DownloadQueue = JobQueue<Download>;

impl Download {
    pub fn new(
        storage: &Storage,
        http: &HttpClients,
        resolver: Option<Resolver>,
        max_bytes: u64,
        pipeline: Pipeline,
    ) -> Self {
        Self {
            storage: storage.clone(),
            http: http.clone(),
            resolver: resolver.map(Arc::new),
            max_bytes,
            pipeline,
        }
    }

    /// Whether Spotify songs can get their audio here without the user.
    pub fn has_resolver(&self) -> bool {
        self.resolver.is_some()
    }
}

/// Creates a download job's row for `track_id` and queues it, in the caller's transaction: of `url`, or,
/// without one, through the audio resolver.
pub async fn enqueue(
    queue: &DownloadQueue,
    tx: &mut sqlx::PgConnection,
    track_id: Uuid,
    owner: Uuid,
    url: Option<&str>,
) -> Result<Uuid> {
    let job_id = Uuid::new_v4();
    sqlx::query!(
        "insert into download_jobs (id, track_id, user_id, url) values ($1, $2, $3, $4)",
        job_id,
        track_id,
        owner,
        url
    )
    .execute(&mut *tx)
    .await?;
    queue.enqueue(tx, job_id).await?;
    Ok(job_id)
}

impl Work for Download {
    const KIND: Kind = Kind::Download;
    const MAX_ATTEMPTS: i32 = 4;

    async fn run(&self, job_id: Uuid, supervisor: Supervisor) -> Result<()> {
        let job = sqlx::query!(
            r#"select j.url, j.track_id, j.user_id, t.title, t.artist, t.album, t.duration, t.isrc,
                      t.audio_path is not null as "has_audio!"
               from download_jobs j join tracks t on t.id = j.track_id where j.id = $1"#,
            job_id
        )
        .fetch_optional(supervisor.pool())
        .await?
        .ok_or(Error::Cancelled)?;
        if job.has_audio {
            return Err(Error::Invalid("This track already has its audio.".into()));
        }
        let (key, name) = match job.url {
            Some(url) => {
                let url = Url::parse(&url).map_err(|_| Error::Invalid("That link is not valid.".into()))?;
                let (http, storage, max) = (self.http.clone(), self.storage.clone(), self.max_bytes);
                supervisor
                    .run_async(
                        move |reporter| async move { fetch(&http, &storage, &url, max, &reporter).await },
                    )
                    .await?
            }
            None => {
                let resolver = self.resolver.clone().ok_or_else(|| {
                    Error::Invalid(
                        "No audio resolver is configured on this server any more. Attach a file to this track."
                            .into(),
                    )
                })?;
                let query = Query {
                    title: job.title.clone(),
                    artist: job.artist.unwrap_or_default(),
                    album: job.album.unwrap_or_default(),
                    duration_seconds: job.duration,
                    isrc: job.isrc.unwrap_or_default(),
                };
                let storage = self.storage.clone();
                let key = supervisor
                    .run_async(move |reporter| async move {
                        resolve(&resolver, &storage, &query, &reporter).await
                    })
                    .await?;
                (key, job.title)
            }
        };
        let mut intake = intake::check(&self.storage, &key, self.max_bytes, &name).await?;
        // Without a title tag, a link's track is named after the file it led to (after redirects), which
        // says more than the link did; a Spotify track keeps its own title whatever the file says.
        intake.title = intake.title.or_else(|| Some(intake::title_from_name(&name)));
        let recorded = self
            .record(&supervisor, job_id, job.track_id, job.user_id, &key, &intake)
            .await;
        if recorded.is_err() {
            // Nothing names the file now; a crash before this line leaves it to the orphan sweep.
            for stored in std::iter::once(&key).chain(intake.art.as_ref()) {
                if let Err(err) = self.storage.delete(stored).await {
                    tracing::warn!(error = %err, %job_id, "an unused download stays for the orphan sweep");
                }
            }
        }
        recorded
    }
}

impl Download {
    /// The download's completion, the track's audio and its pipeline, in one transaction.
    async fn record(
        &self,
        supervisor: &Supervisor,
        job_id: Uuid,
        track_id: Uuid,
        owner: Uuid,
        key: &StorageKey,
        intake: &intake::Intake,
    ) -> Result<()> {
        let size = tokio::fs::metadata(self.storage.path(key))
            .await
            .map_err(Error::io(self.storage.path(key)))?
            .len();
        let mut tx = supervisor.pool().begin().await?;
        let completed = sqlx::query!(
            "update download_jobs set status = 'completed', progress = 100, error = null, output_path = $2,
                 file_size = $3, bytes_done = $3
             where id = $1 and status = 'downloading'",
            job_id,
            key.as_str(),
            size as i64
        )
        .execute(&mut *tx)
        .await?;
        if completed.rows_affected() == 0 {
            return Err(Error::Cancelled);
        }
        tracks::set_audio(&mut tx, track_id, key, intake).await?;
        self.pipeline.enqueue(&mut tx, track_id, owner).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Streams `url` into storage, reporting bytes as they arrive; returns the stored file and the name the
/// link gives it.
async fn fetch(
    http: &HttpClients,
    storage: &Storage,
    url: &Url,
    max: u64,
    reporter: &Reporter,
) -> Result<(StorageKey, String)> {
    http.check_link(url)?;
    let host = url.host_str().unwrap_or("the server").to_owned();
    let response = http
        .links
        .get(url.clone())
        .send()
        .await
        .map_err(|err| request_error(&err, &host))?;
    let status = response.status();
    if !status.is_success() {
        return Err(status_error(status, &host));
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("text/html") || content_type.starts_with("application/xhtml") {
        return Err(Error::Invalid(
            "That link leads to a web page, not an audio file. Use a direct link to the file itself.".into(),
        ));
    }
    let total = response.content_length();
    if total.is_some_and(|total| total > max) {
        return Err(too_large(max));
    }
    let name = file_name(&response).unwrap_or_else(|| "download".to_owned());
    let key = StorageKey::generate("audio", &intake::extension(&name))?;
    let stream = response.bytes_stream().map_err(std::io::Error::other);
    let total = total.map(|t| t as i64);
    let mut reader = Metered::with_progress(tokio_util::io::StreamReader::new(stream), max, |done| {
        let done = done as i64;
        reporter.report(Report {
            percent: total.map_or(0, |total| (done * 99 / total.max(1)).clamp(0, 99) as i32),
            detail: Detail::Bytes { done, total },
        });
    });
    let written = storage.write(&key, &mut reader).await;
    if reader.exceeded() {
        return Err(too_large(max));
    }
    match written {
        Ok(_) => Ok((key, name)),
        Err(Error::Io { source, .. })
            if source
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<reqwest::Error>().is_some()) =>
        {
            Err(Error::Unavailable(format!("The download from {host} broke off.")))
        }
        Err(err) => Err(err),
    }
}

/// The name of the file behind a response: its `Content-Disposition` file name, or the last segment of
/// the URL it came from after redirects.
fn file_name(response: &reqwest::Response) -> Option<String> {
    let disposition = response
        .headers()
        .get(header::CONTENT_DISPOSITION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value.split(';').find_map(|part| {
                let (key, name) = part.trim().split_once('=')?;
                (key.eq_ignore_ascii_case("filename")).then(|| name.trim().trim_matches('"').to_owned())
            })
        });
    disposition
        .or_else(|| intake::name_in_url(response.url()))
        .filter(|name| !name.trim().is_empty())
}

fn too_large(max: u64) -> Error {
    Error::Invalid(format!(
        "That file is larger than this server's limit of {} MB.",
        max / (1 << 20)
    ))
}

fn request_error(err: &reqwest::Error, host: &str) -> Error {
    if let Some(refused) = http_client::refusal(err) {
        return Error::Invalid(refused.to_string());
    }
    if err.is_redirect() {
        return Error::Invalid("That link redirects in a loop.".into());
    }
    tracing::info!(error = %err, host, "a download did not connect");
    Error::Unavailable(format!("{host} did not answer."))
}

fn status_error(status: StatusCode, host: &str) -> Error {
    let said = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
    let said = said.trim();
    if status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
    {
        Error::Unavailable(format!("{host} answered {said}."))
    } else {
        Error::Invalid(format!(
            "{host} answered {said} for that link. Check that it is right and that the file is public."
        ))
    }
}

/// Runs the resolver in a scratch folder and stores what it wrote.
async fn resolve(
    resolver: &Resolver,
    storage: &Storage,
    query: &Query,
    reporter: &Reporter,
) -> Result<StorageKey> {
    let scratch = storage.scratch_folder().await?;
    // A line without a percentage still shows the command is alive; the bar stays where it was.
    let mut percent = 0;
    let found = resolver
        .run(query, scratch.path(), |fraction| {
            if let Some(fraction) = fraction {
                percent = (fraction * 95.0) as i32;
            }
            reporter.report(Report::phase(percent));
        })
        .await;
    let stored = async {
        let file = found?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let key = StorageKey::generate("audio", &intake::extension(&name))?;
        let mut reader = tokio::fs::File::open(&file).await.map_err(Error::io(&file))?;
        storage.write(&key, &mut reader).await?;
        Ok(key)
    }
    .await;
    scratch.remove().await;
    stored
}
