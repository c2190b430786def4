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
