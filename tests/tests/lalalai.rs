//! The cloud engine, through the real router, queue and HTTP client, against a stand-in for lalal.ai
//! (integration_tests::lalalai): a whole split stored as local stems are, a preview, the errors in words, a
//! cancel that reaches lalal.ai, and a restart while waiting that neither uploads nor pays twice.

use std::time::Duration;

use axum::http::StatusCode;
use integration_tests::{
    Client, Job, TestApp, click_track_wav, database_url, job_outcome,
    lalalai::{FakeLalalai, LICENSE, Outcome},
    tiny_model_dir,
};
use serde_json::Value;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use uuid::Uuid;

const PASSWORD: &str = "velvet thunder orchard";

fn pointed_at(base: &str) -> impl FnOnce(&mut server::config::Config) + use<> {
    let base = base.to_owned();
    move |config| {
        config.lalalai_url = base;
        config.lalalai_poll_ms = 20;
    }
}

/// Signs in, stores the stand-in's key and chooses lalal.ai with `stems` (its names) for new tracks.
async fn cloud_user<'a>(app: &'a TestApp, stems: &[&str], preview: bool) -> Client<'a> {
    let mut client = app.signed_in("dj@example.org", PASSWORD).await;
    choose_cloud(&mut client, stems, preview).await;
    client
}

/// Stores the stand-in's key and chooses lalal.ai with `stems` for the signed-in user's new tracks.
async fn choose_cloud(client: &mut Client<'_>, stems: &[&str], preview: bool) {
    let reply = client.call("save-lalalai-key", &[("license_key", LICENSE)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let names: Vec<String> = stems.iter().map(|stem| format!("lalalai_{stem}")).collect();
    let mut fields = vec![
        ("separation_engine", "lalalai"),
        ("separation_model", ""),
        ("stem_format", "f32"),
        ("separate_on_import", "on"),
    ];
    fields.extend(names.iter().map(|name| (name.as_str(), "on")));
    if preview {
        fields.push(("lalalai_preview", "on"));
    }
    let reply = client.call("save-settings", &fields).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

async fn upload(client: &mut Client<'_>, wav: &[u8]) -> Uuid {
    let reply = client.upload(&[("Cloud Song.wav", wav)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let outcomes: Value = serde_json::from_str(&reply.body).expect("JSON");
    outcomes[0]["track_id"]
        .as_str()
        .expect("a track id")
        .parse()
        .expect("a UUID")
}

/// The samples of a WAV file, as floats.
fn samples(bytes: &[u8]) -> (hound::WavSpec, Vec<f32>) {
    let mut reader = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("a WAV file");
    let spec = reader.spec();
    let samples = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().map(|x| x.expect("a sample")).collect(),
        hound::SampleFormat::Int => reader
            .samples::<i32>()
            .map(|x| x.expect("a sample") as f32 / 32_768.0)
            .collect(),
    };
    (spec, samples)
}

/// The track's stems as (name, file bytes), in the order they are listed everywhere.
async fn stems(app: &TestApp, track: Uuid) -> Vec<(String, Vec<u8>)> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select stem_type, file_path from stems where track_id = $1 order by stem_rank(stem_type), stem_type",
    )
    .bind(track)
    .fetch_all(&app.state.pool)
    .await
    .expect("the stems");
    let files = app.data_dir.path().join("files");
    rows.into_iter()
        .map(|(name, path)| (name, std::fs::read(files.join(path)).expect("the stem file")))
        .collect()
}

async fn options(pool: &PgPool, track: Uuid) -> Value {
    sqlx::query_scalar("select options from processing_jobs where track_id = $1")
        .bind(track)
        .fetch_one(pool)
        .await
        .expect("the job's options")
}

#[sqlx::test(migrations = false)]
async fn a_cloud_split_is_stored_as_local_stems_are(options_: PgPoolOptions, connect: PgConnectOptions) {
    let (fake, base) = FakeLalalai::start().await;
    // Every third look is refused for its rate: the job waits and looks again.
    fake.books().limit_every = Some(3);
    TestApp::run_with(options_, connect, pointed_at(&base), async |app| {
        let pool = &app.state.pool;
        let mut client = cloud_user(app, &["vocals", "drum", "bass"], false).await;
        let shown: Value = serde_json::from_str(&client.call("settings", &[]).await.body).expect("JSON");
        assert_eq!(shown["separation_engine"], "lalalai");
        assert_eq!(shown["lalalai_key_hint"], "••••7Q2Z");
        assert!(!client.call("settings", &[]).await.body.contains(LICENSE));

        let wav = click_track_wav(3.0, 120.0);
        let track = upload(&mut client, &wav).await;
        let (status, error) = job_outcome(pool, Job::Separation, track).await;
        assert_eq!(status, "completed", "{error:?}");
        let (engine, model, results): (String, String, Value) =
            sqlx::query_as("select engine, model, results from processing_jobs where track_id = $1")
                .bind(track)
                .fetch_one(pool)
                .await
                .expect("the job");
        assert_eq!((engine.as_str(), model.as_str()), ("lalalai", "lalalai"));

        let stored = stems(app, track).await;
        let names: Vec<&str> = stored.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["vocals", "drums", "bass", "other"]);
        let (_, mix) = samples(&wav);
        for (name, bytes) in &stored {
            let (spec, stem) = samples(bytes);
            assert_eq!(
                (spec.sample_rate, spec.channels, spec.bits_per_sample),
                (44_100, 2, 32),
                "{name}"
            );
            assert_eq!(stem.len(), mix.len(), "{name}: exactly the source's length");
            // Three stems of a quarter each, and the quarter left over.
            let gain = 0.25;
            let worst = stem
                .iter()
                .zip(&mix)
                .map(|(s, m)| (s - gain * m).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1e-4, "{name} is a quarter of the mix, off by {worst}");
        }
        assert!(
            results["residual_db"].as_f64().is_some_and(|db| db < -80.0),
            "{results}"
        );
        assert!(results["stems"]["vocals"]["peak"].as_f64().is_some());

        {
            let books = fake.books();
            assert_eq!((books.uploads, books.splits), (1, 1));
            assert_eq!(
                books.split_requests[0]["presets"]["stem_list"],
                serde_json::json!(["vocals", "drum", "bass"])
            );
            assert!(books.split_requests[0]["idempotency_key"].is_string());
            assert!(books.checks >= 4, "looked again after the 429: {}", books.checks);
            assert_eq!(
                books.deleted.len(),
                1,
                "the file is deleted at lalal.ai when done"
            );
            assert!(books.sources.is_empty());
        }
        // The stems are the track's as any: the ZIP has them.
        let zip = client.get(&format!("/tracks/{track}/stems.zip")).await;
        assert_eq!(zip.status, StatusCode::OK);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn a_preview_sends_and_returns_only_the_first_minute(
    options_: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let (fake, base) = FakeLalalai::start().await;
    TestApp::run_with(options_, connect, pointed_at(&base), async |app| {
        let pool = &app.state.pool;
        let mut client = cloud_user(app, &["vocals"], true).await;
        let track = upload(&mut client, &click_track_wav(75.0, 120.0)).await;
        let (status, error) = job_outcome(pool, Job::Separation, track).await;
        assert_eq!(status, "completed", "{error:?}");
        let stored = stems(app, track).await;
        let names: Vec<&str> = stored.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["vocals", "other"]);
        for (name, bytes) in &stored {
            let (spec, stem) = samples(bytes);
            assert_eq!(stem.len(), 60 * 44_100 * usize::from(spec.channels), "{name}");
        }
        let results: Value = sqlx::query_scalar("select results from processing_jobs where track_id = $1")
            .bind(track)
            .fetch_one(pool)
            .await
            .expect("results");
        assert_eq!(results["preview_seconds"], 60);
        let books = fake.books();
        assert_eq!(books.split_requests[0]["presets"]["stem"], "vocals");
        assert!(
            (99.0..99.1).contains(&books.minutes_left),
            "one minute charged: {}",
            books.minutes_left
        );
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn a_refused_key_short_minutes_and_a_failed_split_are_said_in_words(
    options_: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let (fake, base) = FakeLalalai::start().await;
    TestApp::run_with(options_, connect, pointed_at(&base), async |app| {
        let pool = &app.state.pool;
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        let reply = client
            .call("save-lalalai-key", &[("license_key", "not-the-key")])
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert!(reply.body.contains("refused the license key"), "{}", reply.body);
        let shown: Value = serde_json::from_str(&client.call("settings", &[]).await.body).expect("JSON");
        assert_eq!(
            shown["lalalai_key_hint"],
            Value::Null,
            "a refused key is not kept"
        );
        let reply = client.call("test-lalalai-key", &[]).await;
        assert!(reply.body.contains("needs your license key"), "{}", reply.body);
        let reply = client
            .call(
                "save-settings",
                &[
                    ("separation_engine", "lalalai"),
                    ("separation_model", ""),
                    ("stem_format", "wav24"),
                    ("lalalai_vocals", "on"),
                    ("lalalai_wind", "on"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.body.contains("one at a time"), "{}", reply.body);

        choose_cloud(&mut client, &["vocals", "drum"], false).await;
        let reply = client.call("test-lalalai-key", &[]).await;
        assert_eq!(reply.body, "100.0", "the minutes left");

        // Two stems of a 90-second track need three minutes.
        fake.books().minutes_left = 2.5;
        let track = upload(&mut client, &click_track_wav(90.0, 120.0)).await;
        let (status, error) = job_outcome(pool, Job::Separation, track).await;
        assert_eq!(status, "failed");
        let error = error.expect("a reason");
        assert!(
            error.contains("2.5 minutes left") && error.contains("needs about 3.0"),
            "{error}"
        );
        assert_eq!(fake.books().uploads, 0, "nothing sent without the minutes");

        fake.books().minutes_left = 100.0;
        fake.books().outcome = Outcome::Error(
            "inference_error",
            "Unable to detect voice/vocals in the uploaded files",
        );
        let track = upload(&mut client, &click_track_wav(2.0, 120.0)).await;
        let (status, error) = job_outcome(pool, Job::Separation, track).await;
        assert_eq!(status, "failed");
        assert_eq!(
            error.as_deref(),
            Some("lalal.ai found nothing to split: Unable to detect voice/vocals in the uploaded files")
        );
        assert_eq!(fake.books().deleted.len(), 1, "its file is deleted there");
        let remote = options(pool, track).await;
        assert_eq!(
            remote["lalalai"]["task_id"],
            Value::Null,
            "a retry starts a new split"
        );

        // Retried once lalal.ai can split it: a new upload and split, then stems.
        fake.books().outcome = Outcome::Success;
        let reply = client
            .call("retry-track-jobs", &[("id", &track.to_string())])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let (status, error) = job_outcome(pool, Job::Separation, track).await;
        assert_eq!(status, "completed", "{error:?}");
        assert_eq!(stems(app, track).await.len(), 3);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn cancelling_a_cloud_split_cancels_it_at_lalalai(options_: PgPoolOptions, connect: PgConnectOptions) {
    let (fake, base) = FakeLalalai::start().await;
    fake.books().outcome = Outcome::Hold;
    TestApp::run_with(options_, connect, pointed_at(&base), async |app| {
        let pool = &app.state.pool;
        let mut client = cloud_user(app, &["bass"], false).await;
        let track = upload(&mut client, &click_track_wav(2.0, 120.0)).await;
        let task = wait_for_task(pool, track).await;
        let reply = client
            .call("cancel-track-jobs", &[("id", &track.to_string())])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        for _ in 0..100 {
            if !fake.books().deleted.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        {
            let books = fake.books();
            assert_eq!(books.cancelled, [task], "the remote task is cancelled");
            assert_eq!(books.deleted.len(), 1, "and its file deleted");
        }
        let (status, _) = job_outcome(pool, Job::Separation, track).await;
        assert_eq!(status, "cancelled");
    })
    .await;
}

/// Waits until the track's cloud job has started its split; returns the task id.
async fn wait_for_task(pool: &PgPool, track: Uuid) -> String {
    for _ in 0..400 {
        let remote =
            sqlx::query_scalar::<_, Value>("select options from processing_jobs where track_id = $1")
                .bind(track)
                .fetch_optional(pool)
                .await
                .expect("reads");
        if let Some(task) = remote
            .as_ref()
            .and_then(|options| options["lalalai"]["task_id"].as_str())
        {
            return task.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the split never started");
}

#[sqlx::test(migrations = false)]
async fn a_worker_killed_while_waiting_is_followed_by_one_that_looks_at_the_same_task(
    options_: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = std::env::var("SFA_SERVER_BIN")
        .expect("SFA_SERVER_BIN names the built server binary (scripts/test builds it and sets it)");
    let url = database_url(&connect);
    let (fake, base) = FakeLalalai::start().await;
    fake.books().outcome = Outcome::Hold;
    let adjust = {
        let point = pointed_at(&base);
        move |config: &mut server::config::Config| {
            point(config);
            config.job_heartbeat_secs = 1;
        }
    };
    TestApp::run_without_workers(options_, connect, adjust, async |app| {
        let pool = &app.state.pool;
        let mut client = cloud_user(app, &["vocals", "piano"], false).await;
        let track = upload(&mut client, &click_track_wav(2.0, 120.0)).await;
        let worker = || {
            tokio::process::Command::new(&server)
                .arg("worker")
                .env("DATABASE_URL", &url)
                .env("SFA_DATA_DIR", app.data_dir.path())
                .env("SFA_MODEL_DIR", tiny_model_dir())
                .env("SFA_JOB_HEARTBEAT_SECS", "1")
                .env("SFA_LALALAI_URL", &base)
                .env("SFA_LALALAI_POLL_MS", "20")
                .env("SFA_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("the worker starts")
        };
        let mut first = worker();
        wait_for_task(pool, track).await;
        for _ in 0..200 {
            if fake.books().checks >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        first.kill().await.expect("SIGKILL");
        assert!(fake.books().checks >= 3, "it was waiting on the task");
        fake.books().outcome = Outcome::Success;

        let mut second = worker();
        let (status, error) = job_outcome(pool, Job::Separation, track).await;
        second.kill().await.expect("SIGKILL");
        assert_eq!(status, "completed", "{error:?}");
        {
            let books = fake.books();
            assert_eq!(
                (books.uploads, books.splits),
                (1, 1),
                "no second upload, no second payment"
            );
            assert!(books.cancelled.is_empty());
        }
        let names: Vec<String> = stems(app, track)
            .await
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, ["vocals", "other", "piano"]);
        assert_eq!(
            options(pool, track).await["lalalai"]["task_id"],
            Value::Null,
            "forgotten when done"
        );
    })
    .await;
}
