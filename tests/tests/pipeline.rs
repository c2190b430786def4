//! The pipeline on the real queues with the real workers: an upload ends with its stems and analysis;
//! cancel stops a separation and retry resumes it; a missing model fails with words a user can act on.
//! Separation uses the tiny stand-in model, whose stems are each a quarter of the mix.

use std::time::Duration;

use axum::http::StatusCode;
use integration_tests::{
    Client, Job, TINY_MODEL, TestApp, click_track_wav, database_url, job_outcome, tiny_model_dir,
};
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use uuid::Uuid;

const PASSWORD: &str = "velvet thunder orchard";

async fn upload(client: &mut Client<'_>, name: &str, wav: &[u8]) -> Uuid {
    let reply = client.upload(&[(name, wav)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let outcomes: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    outcomes[0]["track_id"]
        .as_str()
        .expect("a track id")
        .parse()
        .expect("a UUID")
}

#[derive(Debug, sqlx::FromRow)]
struct Separation {
    status: String,
    progress: i32,
    chunks_done: i32,
    chunks_total: Option<i32>,
    resumed_at_chunk: Option<i32>,
}

async fn separation(pool: &PgPool, track: Uuid) -> Separation {
    sqlx::query_as(
        "select status, progress, chunks_done, chunks_total, resumed_at_chunk from processing_jobs
         where track_id = $1",
    )
    .bind(track)
    .fetch_one(pool)
    .await
    .expect("the separation job")
}

/// Waits until the separation has finished at least `chunks` chunks.
async fn separated_chunks(pool: &PgPool, track: Uuid, chunks: i32) -> Separation {
    for _ in 0..1200 {
        let job = separation(pool, track).await;
        if job.chunks_done >= chunks || job.status != "queued" && job.status != "processing" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the separation did not reach chunk {chunks}");
}

/// The signal-to-noise ratio of `actual` against `expected`, in dB.
fn snr_db(expected: &[f32], actual: &[f32]) -> f64 {
    assert_eq!(expected.len(), actual.len(), "lengths differ");
    let signal: f64 = expected.iter().map(|&x| f64::from(x).powi(2)).sum();
    let noise: f64 = expected
        .iter()
        .zip(actual)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    10.0 * (signal / noise.max(f64::MIN_POSITIVE)).log10()
}

fn decode(bytes: &[u8]) -> sfa_audio::Audio {
    sfa_audio::decode(
        std::io::Cursor::new(bytes.to_vec()),
        &sfa_audio::Limits::default(),
    )
    .expect("decodes")
    .audio
}

/// Checks every stem against a quarter of the mix, past the first second (the stand-in model's edges).
fn assert_quarter_stems(mix: &[u8], stems: &[(String, Vec<u8>)]) {
    let mix = decode(mix);
    let skip = 2 * mix.sample_rate() as usize;
    let quarter: Vec<f32> = mix.samples()[skip..].iter().map(|x| x / 4.0).collect();
    for (name, bytes) in stems {
        let stem = decode(bytes);
        assert_eq!(stem.frames(), mix.frames(), "{name}: length");
        assert_eq!(stem.sample_rate(), mix.sample_rate(), "{name}: rate");
        let snr = snr_db(&quarter, &stem.samples()[skip..]);
        assert!(snr > 40.0, "{name}: {snr:.1} dB from a quarter of the mix");
    }
}

#[sqlx::test(migrations = false)]
async fn an_upload_ends_with_its_stems_and_analysis(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        let pool = &app.state.pool;
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        let wav = click_track_wav(20.0, 120.0);
        let track = upload(&mut client, "Vingt secondes — Été.wav", &wav).await;

        let (status, error) = job_outcome(pool, Job::Separation, track).await;
        assert_eq!(status, "completed", "{error:?}");
        let job = separation(pool, track).await;
        assert_eq!(job.progress, 100);
        assert_eq!(Some(job.chunks_done), job.chunks_total);
        assert!(job.chunks_done > 1, "{job:?}");
        assert_eq!(
            job.resumed_at_chunk,
            Some(0),
            "an uninterrupted run starts at zero"
        );
        let (status, error) = job_outcome(pool, Job::Analysis, track).await;
        assert_eq!(status, "completed", "{error:?}");

        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "select stem_type, file_path, file_size from stems where track_id = $1 order by stem_type",
        )
        .bind(track)
        .fetch_all(pool)
        .await
        .expect("the stems");
        let names: Vec<&str> = rows.iter().map(|(name, _, _)| name.as_str()).collect();
        assert_eq!(names, ["bass", "drums", "other", "vocals"]);
        let mut stems = Vec::new();
        for (name, path, size) in &rows {
            let on_disk =
                std::fs::metadata(app.data_dir.path().join("files").join(path)).expect("the stem file");
            assert_eq!(on_disk.len() as i64, *size, "{name}: size");
            let reply = client.get(&format!("/tracks/{track}/stems/{name}")).await;
            assert_eq!(reply.status, StatusCode::OK, "{name}");
            assert_eq!(
                reply.header("content-disposition"),
                Some(format!("attachment; filename=\"{name}.wav\"").as_str())
            );
            stems.push((name.clone(), reply.bytes.to_vec()));
        }
        assert_quarter_stems(&wav, &stems);

        let listed = client.call("tracks", &[]).await;
        let cards = serde_json::from_str::<serde_json::Value>(&listed.body).expect("JSON")["tracks"].clone();
        assert_eq!(cards[0]["separation_status"], "completed");
        assert_eq!(
            cards[0]["stems"],
            serde_json::json!(["vocals", "drums", "bass", "other"])
        );
        assert_eq!(cards[0]["analysis_status"], "completed");

        assert_exports(&mut client, track, &stems).await;
    })
    .await;
}

/// The stems ZIP, read by an independent reader (Python's `zipfile`, which checks every CRC); the
/// analysis JSON; and the track page's data.
async fn assert_exports(client: &mut Client<'_>, track: Uuid, stems: &[(String, Vec<u8>)]) {
    let zip = client.get(&format!("/tracks/{track}/stems.zip")).await;
    assert_eq!(zip.status, StatusCode::OK);
    assert_eq!(zip.header("content-type"), Some("application/zip"));
    assert_eq!(
        zip.header("content-length"),
        Some(zip.bytes.len().to_string().as_str())
    );
    assert_eq!(
        zip.header("content-disposition"),
        Some(
            "attachment; filename=\"stems.zip\"; \
             filename*=UTF-8''Vingt%20secondes%20%E2%80%94%20%C3%89t%C3%A9%20-%20stems.zip"
        )
    );
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("stems.zip");
    std::fs::write(&path, &zip.bytes).expect("written");
    let listing = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             assert z.testzip() is None\n\
             print(json.dumps([[i.filename, i.file_size] for i in z.infolist()]))",
        ])
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        listing.status.success(),
        "{}",
        String::from_utf8_lossy(&listing.stderr)
    );
    let entries: Vec<(String, usize)> = serde_json::from_slice(&listing.stdout).expect("the listing");
    let size = |name: &str| {
        stems
            .iter()
            .find(|(stem, _)| stem == name)
            .map(|(_, bytes)| bytes.len())
    };
    let expected: Vec<(String, usize)> = ["vocals", "drums", "bass", "other"]
        .iter()
        .map(|stem| {
            (
                format!("Vingt secondes — Été - {stem}.wav"),
                size(stem).expect("the stem"),
            )
        })
        .collect();
    assert_eq!(entries, expected, "in mixer order, named after the track, whole");

    let analysis = client.get(&format!("/tracks/{track}/analysis.json")).await;
    assert_eq!(analysis.status, StatusCode::OK);
    let analysis: serde_json::Value = serde_json::from_str(&analysis.body).expect("JSON");
    assert_eq!(analysis["version"], 2);
    assert!(
        analysis["tempo"]["bpm"]
            .as_f64()
            .is_some_and(|bpm| (bpm - 120.0).abs() < 3.0),
        "{}",
        analysis["tempo"]
    );

    // The minus-one mix: the other three stems, summed.
    let mix = client
        .get(&format!("/tracks/{track}/mix.wav?without=vocals"))
        .await;
    assert_eq!(mix.status, StatusCode::OK, "{}", mix.body);
    assert_eq!(
        mix.header("content-disposition"),
        Some(
            "attachment; filename=\"mix.wav\"; \
             filename*=UTF-8''Vingt%20secondes%20%E2%80%94%20%C3%89t%C3%A9%20-%20without%20vocals.wav"
        )
    );
    let mixed = decode(&mix.bytes);
    let others: Vec<_> = stems
        .iter()
        .filter(|(stem, _)| stem != "vocals")
        .map(|(_, bytes)| decode(bytes))
        .collect();
    let expected: Vec<f32> = (0..mixed.samples().len())
        .map(|i| others.iter().map(|stem| stem.samples()[i]).sum())
        .collect();
    assert_eq!(others[0].samples().len(), mixed.samples().len());
    let snr = snr_db(&expected, mixed.samples());
    assert!(
        snr > 90.0,
        "the mix is the sum of the other stems, to 24-bit precision: {snr:.1} dB"
    );
    for (query, message) in [
        (
            "without=vocals&without=drums&without=bass&without=other",
            "Leave at least one stem in the mix.",
        ),
        ("without=kazoo", "This track has no stem called “kazoo”."),
    ] {
        let refused = client.get(&format!("/tracks/{track}/mix.wav?{query}")).await;
        assert_eq!(
            (refused.status, refused.body.as_str()),
            (StatusCode::BAD_REQUEST, message)
        );
    }

    let page = client.call("track", &[("id", &track.to_string())]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let page: serde_json::Value = serde_json::from_str(&page.body).expect("JSON");
    assert_eq!(page["card"]["title"], "Vingt secondes — Été");
    let levels = page["analysis"]["waveform"].as_array().expect("the waveform");
    assert_eq!(levels.len(), 1, "only the level the page draws");
    assert_eq!(levels[0]["peaks"].as_array().map(Vec::len), Some(1024));
}

#[sqlx::test(migrations = false)]
async fn cancel_stops_a_separation_and_retry_resumes_it(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        let pool = &app.state.pool;
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        // Long enough that the stand-in model is still busy when the cancel lands.
        let wav = click_track_wav(150.0, 120.0);
        let track = upload(&mut client, "Long Song.wav", &wav).await;
        let started = separated_chunks(pool, track, 2).await;
        assert_eq!(started.status, "processing", "{started:?}");

        let reply = client
            .call("cancel-track-jobs", &[("id", &track.to_string())])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let stopped = separation(pool, track).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let later = separation(pool, track).await;
        assert_eq!(stopped.status, "cancelled");
        assert_eq!(
            later.chunks_done, stopped.chunks_done,
            "work went on after the cancel"
        );
        assert!(
            stopped
                .chunks_total
                .is_some_and(|total| stopped.chunks_done < total),
            "{stopped:?}"
        );
        let stems: i64 = sqlx::query_scalar("select count(*) from stems where track_id = $1")
            .bind(track)
            .fetch_one(pool)
            .await
            .expect("counts");
        assert_eq!(stems, 0, "a cancelled separation has no stems");

        let reply = client
            .call("retry-track-jobs", &[("id", &track.to_string())])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let (status, error) = job_outcome(pool, Job::Separation, track).await;
        assert_eq!(status, "completed", "{error:?}");
        let done = separation(pool, track).await;
        let resumed = done.resumed_at_chunk.expect("where the run started");
        assert!(
            resumed > 0 && resumed >= stopped.chunks_done - 1,
            "resumed at chunk {resumed} after {} were done",
            stopped.chunks_done
        );

        let again = client
            .call("retry-track-jobs", &[("id", &track.to_string())])
            .await;
        assert_eq!(again.status, StatusCode::BAD_REQUEST, "nothing left to retry");
        assert!(again.body.contains("Nothing to retry"), "{}", again.body);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn a_missing_model_fails_the_separation_in_words_and_retry_succeeds_once_installed(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let models = tempfile::tempdir().expect("an empty model folder");
    let models_path = models.path().to_owned();
    TestApp::run_with(
        options,
        connect,
        |config| config.model_dir = Some(models_path.clone()),
        async |app| {
            let pool = &app.state.pool;
            let mut client = app.signed_in("dj@example.org", PASSWORD).await;
            let track = upload(&mut client, "Song.wav", &click_track_wav(10.0, 120.0)).await;
            let (status, error) = job_outcome(pool, Job::Separation, track).await;
            assert_eq!(status, "failed");
            let error = error.expect("a message");
            assert!(error.contains("separation model is missing"), "{error}");
            assert!(
                !error.contains(&*models_path.to_string_lossy()),
                "no server paths: {error}"
            );
            let (status, _) = job_outcome(pool, Job::Analysis, track).await;
            assert_eq!(status, "completed", "analysis does not need the model");

            let installed = models_path.join(TINY_MODEL);
            std::fs::create_dir(&installed).expect("a model folder");
            for file in ["manifest.json", "model.onnx"] {
                std::fs::copy(tiny_model_dir().join(TINY_MODEL).join(file), installed.join(file))
                    .expect("installs the model");
            }
            let reply = client
                .call("retry-track-jobs", &[("id", &track.to_string())])
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            let (status, error) = job_outcome(pool, Job::Separation, track).await;
            assert_eq!(status, "completed", "{error:?}");
            let analyses: i64 =
                sqlx::query_scalar("select count(*) from analysis_results where track_id = $1")
                    .bind(track)
                    .fetch_one(pool)
                    .await
                    .expect("counts");
            assert_eq!(analyses, 1, "the finished analysis was kept, not redone");
        },
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn deleting_a_track_removes_its_rows_and_files(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        let pool = &app.state.pool;
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        let track = upload(&mut client, "Song.wav", &click_track_wav(10.0, 120.0)).await;
        let (status, error) = job_outcome(pool, Job::Separation, track).await;
        assert_eq!(status, "completed", "{error:?}");
        job_outcome(pool, Job::Analysis, track).await;
        let files = app.data_dir.path().join("files");
        let count_files = || {
            ["audio", "stems"]
                .iter()
                .map(|area| walk(&files.join(area)))
                .sum::<usize>()
        };
        assert_eq!(count_files(), 5, "the upload and four stems");

        let reply = client.call("delete-track", &[("id", &track.to_string())]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let rows: i64 = sqlx::query_scalar(
            "select (select count(*) from tracks) + (select count(*) from stems)
                  + (select count(*) from processing_jobs) + (select count(*) from analysis_jobs)
                  + (select count(*) from analysis_results)",
        )
        .fetch_one(pool)
        .await
        .expect("counts");
        assert_eq!(rows, 0);
        assert_eq!(count_files(), 0, "files left behind");
        let gone = client.get(&format!("/tracks/{track}/audio")).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
    })
    .await;
}

/// Files under `dir`, however deep.
fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|entry| {
                let path = entry.path();
                if path.is_dir() { walk(&path) } else { 1 }
            })
            .sum()
    })
}

#[sqlx::test(migrations = false)]
async fn a_separation_killed_midway_resumes_in_a_new_worker(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = std::env::var("SFA_SERVER_BIN")
        .expect("SFA_SERVER_BIN names the built server binary (scripts/test builds it and sets it)");
    let url = database_url(&connect);
    // The heartbeat is the queued job's own, set when it is queued: a short one, so the dead worker's job is
    // taken up again within seconds.
    let heartbeat = |config: &mut server::config::Config| config.job_heartbeat_secs = 1;
    TestApp::run_without_workers(options, connect, heartbeat, async |app| {
        let pool = &app.state.pool;
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        let wav = click_track_wav(150.0, 120.0);
        let track = upload(&mut client, "Long Song.wav", &wav).await;
        let worker = || {
            tokio::process::Command::new(&server)
                .arg("worker")
                .env("DATABASE_URL", &url)
                .env("SFA_DATA_DIR", app.data_dir.path())
                .env("SFA_MODEL_DIR", tiny_model_dir())
                .env("SFA_JOB_HEARTBEAT_SECS", "1")
                .env("SFA_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("the worker starts")
        };

        let mut first = worker();
        let running = separated_chunks(pool, track, 3).await;
        assert_eq!(running.status, "processing", "{running:?}");
        first.kill().await.expect("SIGKILL");
        let at_kill = separation(pool, track).await;
        assert_eq!(
            at_kill.status, "processing",
            "the dead worker's row still says so"
        );
        assert!(
            at_kill
                .chunks_total
                .is_some_and(|total| at_kill.chunks_done < total),
            "killed too late: {at_kill:?}"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            separation(pool, track).await.chunks_done,
            at_kill.chunks_done,
            "nothing runs it"
        );

        let mut second = worker();
        let (status, error) = job_outcome(pool, Job::Separation, track).await;
        second.kill().await.expect("SIGKILL");
        assert_eq!(status, "completed", "{error:?}");
        let done = separation(pool, track).await;
        let resumed = done.resumed_at_chunk.expect("where the run started");
        assert!(
            resumed >= at_kill.chunks_done,
            "resumed at chunk {resumed}, though {} were recorded done before the kill",
            at_kill.chunks_done
        );
        let stems: Vec<(String, String)> =
            sqlx::query_as("select stem_type, file_path from stems where track_id = $1")
                .bind(track)
                .fetch_all(pool)
                .await
                .expect("the stems");
        assert_eq!(stems.len(), 4);
        let files = app.data_dir.path().join("files");
        let stems: Vec<(String, Vec<u8>)> = stems
            .into_iter()
            .map(|(name, path)| {
                let bytes = std::fs::read(files.join(path)).expect("the stem file");
                (name, bytes)
            })
            .collect();
        assert_quarter_stems(&wav, &stems);
    })
    .await;
}
