//! Uploads through the real router, analysed by the real worker on the real queue.

use axum::http::StatusCode;
use integration_tests::{Job, TestApp, click_track_wav, job_outcome};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

const PASSWORD: &str = "velvet thunder orchard";

fn track_id(reply: &integration_tests::Reply, index: usize) -> Uuid {
    let outcomes: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    outcomes[index]["track_id"]
        .as_str()
        .expect("a track id")
        .parse()
        .expect("a UUID")
}

#[sqlx::test(migrations = false)]
async fn an_uploaded_song_becomes_a_track_and_is_analysed(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        let wav = click_track_wav(12.0, 120.0);
        let reply = client.upload(&[("My Click Track.wav", &wav)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let id = track_id(&reply, 0);

        let (title, source, duration): (String, String, i32) =
            sqlx::query_as("select title, source, duration from tracks where id = $1")
                .bind(id)
                .fetch_one(&app.state.pool)
                .await
                .expect("the track");
        assert_eq!(
            (title.as_str(), source.as_str(), duration),
            ("My Click Track", "upload", 12)
        );

        let (status, error) = job_outcome(&app.state.pool, Job::Analysis, id).await;
        assert_eq!(status, "completed", "{error:?}");
        let (tempo, key, features): (f64, String, serde_json::Value) =
            sqlx::query_as("select tempo, key, features from analysis_results where track_id = $1")
                .bind(id)
                .fetch_one(&app.state.pool)
                .await
                .expect("the results");
        assert!((tempo / 120.0 - 1.0).abs() < 0.02, "tempo {tempo}");
        assert_eq!(key, "A minor");
        assert_eq!(features["version"], 2);
        assert!(features["beats"].as_array().is_some_and(|beats| beats.len() > 15));

        let listed = client.call("tracks", &[]).await;
        assert_eq!(listed.status, StatusCode::OK);
        assert!(
            listed.body.contains("My Click Track") && listed.body.contains("A minor"),
            "{}",
            listed.body
        );

        let audio = client.get(&format!("/tracks/{id}/audio")).await;
        assert_eq!(audio.status, StatusCode::OK);
        assert_eq!(audio.header("content-type"), Some("audio/wav"));
        assert_eq!(
            audio.header("content-length"),
            Some(wav.len().to_string().as_str())
        );
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn files_that_are_not_audio_are_refused_by_what_they_are_and_leave_nothing(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        let mut truncated = click_track_wav(2.0, 120.0);
        truncated.truncate(30);
        let reply = client
            .upload(&[
                ("notes.mp3", b"these are my notes, not a song".as_slice()),
                ("cut.wav", &truncated),
                ("empty.flac", b""),
            ])
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        let outcomes: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
        assert!(
            outcomes[0]["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("notes.mp3: this is plain text, not audio;")),
            "{outcomes}"
        );
        assert!(
            outcomes[1]["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("cut.wav:")),
            "{outcomes}"
        );
        assert!(
            outcomes[2]["error"].as_str().is_some_and(|e| e.contains("empty")),
            "{outcomes}"
        );
        let tracks: i64 = sqlx::query_scalar("select count(*) from tracks")
            .fetch_one(&app.state.pool)
            .await
            .expect("a count");
        assert_eq!(tracks, 0);
        let audio_dir = app.data_dir.path().join("files/audio");
        let left = std::fs::read_dir(&audio_dir).map(|dir| dir.count()).unwrap_or(0);
        assert_eq!(left, 0, "refused files are deleted");
    })
    .await;
}

/// Without the script the form posts every file at once and the browser asks for HTML: what went in goes
/// to the library, and a refusal gets a page that says which file and why (the library could not).
#[sqlx::test(migrations = false)]
async fn a_plain_form_post_lists_what_it_refused(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        let wav = click_track_wav(1.0, 120.0);
        let reply = client.upload_without_script(&[("song.wav", &wav)]).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "all went in: back to the library");
        assert_eq!(reply.header("location"), Some("/"));

        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".repeat(8);
        let reply = client
            .upload_without_script(&[("<b>cover</b>.png", &png), ("again.wav", &wav)])
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"));
        assert!(reply.body.contains("<h1>Not every file went in</h1>"), "{}", reply.body);
        assert!(
            reply.body.contains(
                "<strong>&lt;b&gt;cover&lt;/b&gt;.png</strong>: &lt;b&gt;cover&lt;/b&gt;.png: this is a PNG image, not audio;"
            ),
            "{}",
            reply.body
        );
        assert!(reply.body.contains("<strong>again.wav</strong>: added to your library."), "{}", reply.body);
        let tracks: i64 = sqlx::query_scalar("select count(*) from tracks")
            .fetch_one(&app.state.pool)
            .await
            .expect("a count");
        assert_eq!(tracks, 2, "both audio files went in, the picture did not");
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn an_upload_over_the_limit_stops_at_the_limit(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run_with(
        options,
        connect,
        |config| config.max_upload_bytes = 50_000,
        async |app| {
            let mut client = app.signed_in("dj@example.org", PASSWORD).await;
            let wav = click_track_wav(2.0, 120.0);
            let reply = client.upload(&[("big.wav", &wav)]).await;
            assert_ne!(reply.status, StatusCode::OK, "{}", reply.body);
            assert!(
                reply.body.contains("larger than the limit") || reply.status == StatusCode::PAYLOAD_TOO_LARGE,
                "{}",
                reply.body
            );
            let tracks: i64 = sqlx::query_scalar("select count(*) from tracks")
                .fetch_one(&app.state.pool)
                .await
                .expect("a count");
            assert_eq!(tracks, 0);
        },
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn uploading_needs_a_session(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        let reply = app
            .client()
            .upload(&[("song.wav", &click_track_wav(1.0, 120.0))])
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

/// One row of the library test: a track made directly in the tables, with its latest jobs' states.
struct Made {
    title: &'static str,
    artist: Option<&'static str>,
    album: Option<&'static str>,
    /// (separation, analysis) statuses; `None` for no job.
    jobs: (Option<&'static str>, Option<&'static str>),
    /// (BPM, Camelot) of a finished analysis.
    reading: Option<(f64, &'static str)>,
    has_audio: bool,
}

/// The one account a test signed up.
async fn only_user(pool: &sqlx::PgPool) -> Uuid {
    sqlx::query_scalar("select id from users")
        .fetch_one(pool)
        .await
        .expect("the user")
}

async fn make(pool: &sqlx::PgPool, owner: Uuid, age_minutes: i32, track: &Made) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into tracks (id, user_id, title, artist, album, source, audio_path, inserted_at)
         values ($1, $2, $3, $4, $5, 'upload', $6, now() - make_interval(mins => $7))",
    )
    .bind(id)
    .bind(owner)
    .bind(track.title)
    .bind(track.artist)
    .bind(track.album)
    .bind(track.has_audio.then(|| format!("uploads/{id}.wav")))
    .bind(age_minutes)
    .execute(pool)
    .await
    .expect("a track");
    if let Some(status) = track.jobs.0 {
        sqlx::query(
            "insert into processing_jobs (id, track_id, user_id, model, status) values ($1, $2, $3, 'htdemucs', $4)",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(owner)
        .bind(status)
        .execute(pool)
        .await
        .expect("a separation");
    }
    if let Some(status) = track.jobs.1 {
        let job = Uuid::new_v4();
        sqlx::query("insert into analysis_jobs (id, track_id, user_id, status) values ($1, $2, $3, $4)")
            .bind(job)
            .bind(id)
            .bind(owner)
            .bind(status)
            .execute(pool)
            .await
            .expect("an analysis");
        if let Some((bpm, camelot)) = track.reading {
            sqlx::query(
                "insert into analysis_results (id, track_id, analysis_job_id, tempo, key, features)
                 values ($1, $2, $3, $4, 'C major', jsonb_build_object('key', jsonb_build_object('camelot', $5::text)))",
            )
            .bind(Uuid::new_v4())
            .bind(id)
            .bind(job)
            .bind(bpm)
            .bind(camelot)
            .execute(pool)
            .await
            .expect("a result");
        }
    }
    id
}

#[sqlx::test(migrations = false)]
async fn the_library_searches_filters_sorts_and_counts_on_the_server(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    // Without workers, the rows stay as made.
    TestApp::run_without_workers(
        options,
        connect,
        |_| {},
        async |app| {
            let pool = &app.state.pool;
            let mut client = app.signed_in("dj@example.org", PASSWORD).await;
            let owner = only_user(pool).await;
            let done = Some("completed");
            let library = [
                Made {
                    title: "Blue Monday",
                    artist: Some("New Order"),
                    album: Some("Power, Corruption & Lies"),
                    jobs: (done, done),
                    reading: Some((130.0, "10A")),
                    has_audio: true,
                },
                Made {
                    title: "Ceremony",
                    artist: Some("New Order"),
                    album: None,
                    jobs: (Some("processing"), Some("queued")),
                    reading: None,
                    has_audio: true,
                },
                Made {
                    title: "Strings of Life",
                    artist: Some("Rhythim Is Rhythim"),
                    album: Some("Night Drive"),
                    jobs: (done, Some("failed")),
                    reading: None,
                    has_audio: true,
                },
                Made {
                    title: "étude",
                    artist: None,
                    album: Some("Night Drive"),
                    jobs: (done, done),
                    reading: Some((90.5, "2B")),
                    has_audio: true,
                },
                Made {
                    title: "Waiting Song",
                    artist: Some("Zed"),
                    album: None,
                    jobs: (None, None),
                    reading: None,
                    has_audio: false,
                },
            ];
            // Each a minute older than the one before it, so the default order (newest first) is this one.
            for (age, track) in library.iter().enumerate() {
                make(pool, owner, age as i32, track).await;
            }
            let mut ask = async |fields: &[(&str, &str)]| {
                let reply = client.call("tracks", fields).await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                let rows: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
                let titles: Vec<String> = rows["tracks"]
                    .as_array()
                    .expect("rows")
                    .iter()
                    .map(|row| row["title"].as_str().expect("a title").to_owned())
                    .collect();
                (
                    titles,
                    rows["matched"].as_u64().expect("matched"),
                    rows["total"].as_u64().expect("total"),
                )
            };
            let (titles, matched, total) = ask(&[]).await;
            assert_eq!(
                titles,
                [
                    "Blue Monday",
                    "Ceremony",
                    "Strings of Life",
                    "étude",
                    "Waiting Song"
                ]
            );
            assert_eq!((matched, total), (5, 5));

            // Every word must appear in the title, artist or album, in any case.
            assert_eq!(
                ask(&[("search", "new ORDER")]).await.0,
                ["Blue Monday", "Ceremony"]
            );
            assert_eq!(ask(&[("search", "order blue")]).await.0, ["Blue Monday"]);
            assert_eq!(ask(&[("search", "night")]).await.1, 2, "albums count");
            assert_eq!(ask(&[("search", "ÉTUDE")]).await.0, ["étude"]);
            assert_eq!(ask(&[("search", "100%")]).await.1, 0, "no pattern characters");
            let (titles, matched, total) = ask(&[("search", "kraftwerk")]).await;
            assert_eq!((titles.len(), matched, total), (0, 0, 5));

            for (stage, expected) in [
                ("working", vec!["Ceremony"]),
                ("ready", vec!["Blue Monday", "étude"]),
                ("stopped", vec!["Strings of Life"]),
                ("no-audio", vec!["Waiting Song"]),
                (
                    "nonsense",
                    vec![
                        "Blue Monday",
                        "Ceremony",
                        "Strings of Life",
                        "étude",
                        "Waiting Song",
                    ],
                ),
            ] {
                assert_eq!(ask(&[("stage", stage)]).await.0, expected, "{stage}");
            }

            for (sort, expected) in [
                (
                    "oldest",
                    [
                        "Waiting Song",
                        "étude",
                        "Strings of Life",
                        "Ceremony",
                        "Blue Monday",
                    ],
                ),
                (
                    "title",
                    [
                        "Blue Monday",
                        "Ceremony",
                        "étude",
                        "Strings of Life",
                        "Waiting Song",
                    ],
                ),
                // No artist last; equals newest first.
                (
                    "artist",
                    [
                        "Blue Monday",
                        "Ceremony",
                        "Strings of Life",
                        "Waiting Song",
                        "étude",
                    ],
                ),
                (
                    "tempo",
                    [
                        "étude",
                        "Blue Monday",
                        "Ceremony",
                        "Strings of Life",
                        "Waiting Song",
                    ],
                ),
                // Round the Camelot wheel: 2B before 10A, however the letters sort.
                (
                    "key",
                    [
                        "étude",
                        "Blue Monday",
                        "Ceremony",
                        "Strings of Life",
                        "Waiting Song",
                    ],
                ),
            ] {
                assert_eq!(ask(&[("sort", sort)]).await.0, expected, "{sort}");
            }

            // A page of two, with the count of all that match.
            let (titles, matched, _) = ask(&[("sort", "title"), ("limit", "2")]).await;
            assert_eq!(
                (titles, matched),
                (vec!["Blue Monday".to_owned(), "Ceremony".to_owned()], 5)
            );
            let (titles, _, _) = ask(&[("limit", "0")]).await;
            assert_eq!(titles.len(), 1, "at least one row");
        },
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn tracks_that_mix_are_found_by_key_and_tempo_closest_first(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run_without_workers(
        options,
        connect,
        |_| {},
        async |app| {
            let pool = &app.state.pool;
            let mut client = app.signed_in("dj@example.org", PASSWORD).await;
            let owner = only_user(pool).await;
            let analysed = |title: &'static str, bpm: f64, camelot: &'static str| Made {
                title,
                artist: Some("Someone"),
                album: None,
                jobs: (None, Some("completed")),
                reading: Some((bpm, camelot)),
                has_audio: true,
            };
            let subject = make(pool, owner, 0, &analysed("Subject", 124.0, "8A")).await;
            for (age, track) in [
                analysed("Same key", 126.0, "8A"),
                analysed("Relative", 124.0, "8B"),
                analysed("Half time", 63.0, "9A"),
                analysed("Clashing key", 124.0, "3B"),
                analysed("Too slow", 100.0, "8A"),
            ]
            .iter()
            .enumerate()
            {
                make(pool, owner, age as i32 + 1, track).await;
            }
            let reply = client
                .call("mix-candidates", &[("id", &subject.to_string())])
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            let found: Vec<serde_json::Value> = serde_json::from_str(&reply.body).expect("JSON");
            let titles: Vec<&str> = found
                .iter()
                .map(|c| c["title"].as_str().expect("a title"))
                .collect();
            assert_eq!(titles, ["Same key", "Relative", "Half time"]);
            assert_eq!(
                found[2]["how"], "double time",
                "a 63 BPM track meets 124 at double time"
            );

            let unanalysed = make(
                pool,
                owner,
                9,
                &Made {
                    title: "Fresh",
                    artist: None,
                    album: None,
                    jobs: (None, None),
                    reading: None,
                    has_audio: true,
                },
            )
            .await;
            let reply = client
                .call("mix-candidates", &[("id", &unanalysed.to_string())])
                .await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
            assert!(reply.body.contains("tempo and key first"), "{}", reply.body);
        },
    )
    .await;
}
