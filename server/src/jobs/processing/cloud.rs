//! A separation at lalal.ai: upload the track (or its first minute), start the split, look at it until it
//! ends, fetch its files, and store them exactly as the local engine's stems (same folder, rows, format).
//!
//! Each remote step that costs something is recorded in the row's `options` before the next begins, so a
//! run cut short continues where it was: a restarted job with a task id looks at that task again instead of
//! uploading and paying twice, and a split request is sent with the job's idempotency key, so a resent one
//! is the same task. A cancel, a failure of the split or the job's end deletes the remote file; the ids are
//! then forgotten, so a retry starts afresh.

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{Options, Separation, folder, record};
use crate::{
    Error, Result,
    jobs::runner::{Report, Reporter, Supervisor},
    lalalai::{
        api::{Api, Task},
        license,
        stems::{Split, stem_type},
    },
    storage::StorageKey,
    vault::Vault,
};

/// How much of a track a preview sends.
pub const PREVIEW_SECONDS: u32 = 60;
/// The longest wait between two looks at a task: lalal.ai allows 20 a minute.
const LONGEST_POLL: Duration = Duration::from_secs(30);
/// The largest stem file we take from lalal.ai.
const MAX_STEM_BYTES: u64 = 4 << 30;

/// What the cloud engine needs beside the local one's: the service, how often to look, and the keys.
#[derive(Clone)]
pub struct Cloud {
    pub client: reqwest::Client,
    pub base_url: String,
    pub first_poll: Duration,
    pub vault: Vault,
}

/// A cloud separation's request and its remote state: `options.lalalai`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remote {
    /// lalal.ai's stem names.
    pub stems: Vec<String>,
    pub preview: bool,
    /// Sent with the split, so a resent request is the same task.
    pub idempotency_key: Uuid,
    /// The uploaded file, once lalal.ai has it.
    #[serde(default)]
    pub source_id: Option<String>,
    /// The split, once started.
    #[serde(default)]
    pub task_id: Option<String>,
}

impl Remote {
    pub fn new(stems: Vec<String>, preview: bool) -> Self {
        Self {
            stems,
            preview,
            idempotency_key: Uuid::new_v4(),
            source_id: None,
            task_id: None,
        }
    }
}

/// The track a cloud job separates.
pub(super) struct Track {
    pub id: Uuid,
    pub owner: Uuid,
    pub audio: StorageKey,
    /// Its length, as the import measured it.
    pub seconds: i32,
}

/// The job's remote state as it changes: written to the row at each step and kept here too, for the
/// clean-up after a cancel (when the row may be gone with its track).
#[derive(Clone)]
struct State {
    pool: PgPool,
    job_id: Uuid,
    options: Arc<Mutex<Options>>,
}

impl State {
    fn remote(&self) -> Remote {
        self.lock()
            .cloud
            .clone()
            .unwrap_or_else(|| Remote::new(Vec::new(), false))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Options> {
        self.options
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Changes the remote state and records it; a row no longer running means the job was cancelled.
    async fn update(&self, change: impl FnOnce(&mut Remote)) -> Result<()> {
        let options = {
            let mut options = self.lock();
            if let Some(remote) = options.cloud.as_mut() {
                change(remote);
            }
            json!(*options)
        };
        let updated = sqlx::query!(
            "update processing_jobs set options = $2 where id = $1 and status = 'processing'",
            self.job_id,
            options
        )
        .execute(&self.pool)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(Error::Cancelled);
        }
        Ok(())
    }

    /// Deletes what lalal.ai holds for the job (cancelling its task first if `cancel`), and forgets it, so
    /// a retry starts afresh. Best effort: lalal.ai deletes files itself when they expire.
    async fn forget(&self, api: &Api, cancel: bool) {
        let remote = self.remote();
        if cancel
            && let Some(task) = &remote.task_id
            && let Err(err) = api.cancel(task).await
        {
            tracing::warn!(error = %err, job_id = %self.job_id, "cannot cancel the lalal.ai task");
        }
        if let Some(source) = &remote.source_id
            && let Err(err) = api.delete(source).await
        {
            tracing::warn!(error = %err, job_id = %self.job_id, "cannot delete the file at lalal.ai");
        }
        let options = {
            let mut options = self.lock();
            if let Some(remote) = options.cloud.as_mut() {
                remote.source_id = None;
                remote.task_id = None;
                remote.idempotency_key = Uuid::new_v4();
            }
            json!(*options)
        };
        // Whatever the row's status now (cancelled, or about to be failed).
        let forgotten = sqlx::query!(
            "update processing_jobs set options = $2 where id = $1",
            self.job_id,
            options
        )
        .execute(&self.pool)
        .await;
        if let Err(err) = forgotten {
            tracing::warn!(error = %err, job_id = %self.job_id, "cannot record the forgotten lalal.ai task");
        }
    }
}

pub(super) async fn run(
    separation: &Separation,
    job_id: Uuid,
    supervisor: Supervisor,
    track: Track,
    options: Options,
) -> Result<()> {
    let cloud = &separation.cloud;
    let pool = supervisor.pool().clone();
    let format = options
        .format
        .parse::<sfa_audio::separate::SampleFormat>()
        .map_err(|err| Error::Internal(format!("separation {job_id}: {err}")))?;
    let remote = options
        .cloud
        .clone()
        .ok_or_else(|| Error::Internal(format!("separation {job_id}: a cloud job without its request")))?;
    let split = Split::of(&remote.stems)?;
    let key = license::key(&pool, &cloud.vault, track.owner).await?;
    let api = Api::new(&cloud.client, &cloud.base_url, key);
    let output = folder(job_id)?;
    let out_dir = separation.storage.path(&output);
    tokio::fs::create_dir_all(&out_dir)
        .await
        .map_err(Error::io(&out_dir))?;
    let state = State {
        pool: pool.clone(),
        job_id,
        options: Arc::new(Mutex::new(options)),
    };

    // What goes to lalal.ai, and what its stems are measured against: the file, or its first minute.
    let source = separation.storage.path(&track.audio);
    let (sent, seconds) = if remote.preview {
        // A hyphen no stem's name has, so no stem file can take its place.
        let preview = out_dir.join("lalalai-preview.wav");
        let (from, to, limits) = (source.clone(), preview.clone(), separation.limits);
        supervisor
            .run_blocking(move |_| {
                let decoded = sfa_audio::decode(open(&from)?, &limits)?;
                let excerpt = sfa_audio::separate::excerpt(&decoded.audio, f64::from(PREVIEW_SECONDS));
                sfa_audio::separate::write_wav(&excerpt, &to, sfa_audio::separate::SampleFormat::Wav16)?;
                Ok(())
            })
            .await?;
        (preview, track.seconds.min(PREVIEW_SECONDS as i32))
    } else {
        (source, track.seconds)
    };

    let remote_work = {
        let (api, state, sent) = (api.clone(), state.clone(), sent.clone());
        let (storage, output, first_poll) = (separation.storage.clone(), output.clone(), cloud.first_poll);
        supervisor.run_async(move |reporter| async move {
            let task = start(&api, &state, &split, &sent, seconds, &reporter).await?;
            let tracks = finished(&api, &state, &task, first_poll, &reporter).await?;
            let mut files = Vec::new();
            let count = tracks.len().max(1) as i32;
            for (at, file) in tracks.iter().enumerate() {
                let Some(name) = stem_type(&file.kind, &file.label) else {
                    tracing::warn!(label = %file.label, %job_id, "lalal.ai returned a file we cannot name");
                    continue;
                };
                let key = StorageKey::parse(&format!("{output}/lalalai-{name}"))?;
                api.download(&storage, &file.url, &key, MAX_STEM_BYTES, |_| {
                    reporter.report(Report::phase(90 + 8 * at as i32 / count));
                })
                .await?;
                files.push((name, storage.path(&key)));
            }
            Ok(files)
        })
    };
    let files = match remote_work.await {
        Ok(files) => files,
        // The task may still run there (a cancel, a stall, a file we refused): stop it, so it costs no more.
        Err(err) if err.is_users() => {
            state.forget(&api, true).await;
            return Err(err);
        }
        // Ours or the service's trouble: the ids stay, and the next attempt continues the same task.
        Err(err) => return Err(err),
    };
    if files.is_empty() {
        state.forget(&api, false).await;
        return Err(Error::Invalid(
            "lalal.ai finished the split but returned no stems.".into(),
        ));
    }

    let limits = separation.limits;
    let (mix, stem_files) = (sent.clone(), files.clone());
    let separated = supervisor
        .run_blocking(move |reporter| {
            reporter.report(Report::phase(98));
            let mix = sfa_audio::decode(open(&mix)?, &limits)?.audio;
            let stems = stem_files.into_iter().map(|(name, path)| {
                let audio = sfa_audio::decode(open(&path)?, &limits)?.audio;
                Ok((name, audio))
            });
            sfa_audio::separate::adopt(&mix, stems, &out_dir, format)
        })
        .await?;
    record(&pool, job_id, track.id, &output, &separated, remote.preview).await?;
    for (_, path) in &files {
        remove(path).await;
    }
    if remote.preview {
        remove(&sent).await;
    }
    // Done: lalal.ai keeps nothing of the user's.
    state.forget(&api, false).await;
    Ok(())
}

/// The task of the job's split: the one already started, or a new one (uploading the file first unless
/// lalal.ai has it), each step recorded before the next.
async fn start(
    api: &Api,
    state: &State,
    split: &Split,
    sent: &Path,
    seconds: i32,
    reporter: &Reporter,
) -> Result<String> {
    let remote = state.remote();
    if let Some(task) = remote.task_id {
        return Ok(task);
    }
    let source = match remote.source_id {
        Some(source) => source,
        None => {
            let minutes_left = api.minutes_left().await.map_err(slow_down)?;
            let needed = f64::from(seconds) / 60.0 * split.charged_stems() as f64;
            if minutes_left < needed {
                return Err(Error::Invalid(format!(
                    "Your lalal.ai license has {minutes_left:.1} minutes left; this split needs about \
                     {needed:.1} ({} stems of {:.1} minutes). Top it up at lalal.ai, choose fewer stems, \
                     or separate on this server.",
                    split.charged_stems(),
                    f64::from(seconds) / 60.0
                )));
            }
            reporter.report(Report::phase(2));
            let name = upload_name(sent);
            // Reports as the bytes go, so a long upload is not taken for a hang.
            let uploading = reporter.clone();
            let source = api
                .upload(sent, &name, move |done, total| {
                    let share = (done * 3).checked_div(total).unwrap_or(3);
                    uploading.report(Report::phase(2 + share as i32));
                })
                .await
                .map_err(slow_down)?
                .id;
            state
                .update(|remote| remote.source_id = Some(source.clone()))
                .await?;
            source
        }
    };
    reporter.report(Report::phase(5));
    let task = api
        .split(&source, split, remote.idempotency_key)
        .await
        .map_err(slow_down)?;
    state.update(|remote| remote.task_id = Some(task.clone())).await?;
    Ok(task)
}

/// Looks at the task until it ends, waiting longer each time (and as long as lalal.ai asks when it says
/// we look too often); returns its files.
async fn finished(
    api: &Api,
    state: &State,
    task: &str,
    first_poll: Duration,
    reporter: &Reporter,
) -> Result<Vec<crate::lalalai::api::Track>> {
    let mut wait = first_poll;
    let mut percent = 5;
    loop {
        match api.check(task).await {
            Ok(Task::Progress(progress)) => {
                percent = 5 + 85 * i32::from(progress) / 100;
                reporter.report(Report::phase(percent));
            }
            Ok(Task::Success(tracks)) => return Ok(tracks),
            Ok(Task::Failed(why)) => return Err(Error::Invalid(why)),
            Ok(Task::Cancelled) => {
                return Err(Error::Invalid(
                    "The split was cancelled at lalal.ai. Retry to start it again.".into(),
                ));
            }
            Err(Error::RateLimited { retry_after }) => {
                tracing::info!(job_id = %state.job_id, ?retry_after, "lalal.ai asks us to look less often");
                // A report keeps the stall watchdog from taking the wait for a hang.
                reporter.report(Report::phase(percent));
                wait = wait.max(retry_after);
            }
            Err(err) => return Err(err),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 3 / 2).min(LONGEST_POLL);
    }
}

/// A limit on the one-off requests is lalal.ai's passing trouble, retried with the job, not the user's.
fn slow_down(err: Error) -> Error {
    match err {
        Error::RateLimited { .. } => Error::Unavailable("lalal.ai asks us to slow down.".into()),
        other => other,
    }
}

/// The file name lalal.ai is told: ASCII, with the extension it reads the format from.
fn upload_name(path: &Path) -> String {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .filter(|extension| extension.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("bin");
    format!("track.{extension}")
}

fn open(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(Error::io(path))
}

async fn remove(path: &Path) {
    if let Err(err) = tokio::fs::remove_file(path).await {
        tracing::warn!(error = %err, path = %path.display(), "cannot remove a finished download");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uploaded_name_keeps_only_a_plain_extension() {
        assert_eq!(upload_name(Path::new("/data/files/audio/abc.flac")), "track.flac");
        assert_eq!(upload_name(Path::new("/data/files/audio/abc")), "track.bin");
        assert_eq!(upload_name(Path::new("/x/a.mp3;rm")), "track.bin");
    }

    #[test]
    fn options_without_a_remote_part_are_a_local_job() {
        let local: Options = serde_json::from_value(json!({ "format": "wav24" })).expect("reads");
        assert_eq!(local.cloud, None);
        let cloud = Options {
            format: "wav16".into(),
            cloud: Some(Remote::new(vec!["vocals".into()], true)),
        };
        let stored = json!(cloud);
        assert_eq!(stored["lalalai"]["stems"], json!(["vocals"]));
        assert_eq!(
            serde_json::from_value::<Options>(stored).expect("reads back"),
            cloud
        );
    }
}
