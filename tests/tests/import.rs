//! Importing by link, through our real HTTP client against local stand-ins: a file host that answers as
//! real ones do (files with and without a length, redirects, web pages, errors), and a Spotify that
//! speaks the Web API's documented shapes (client-credentials token, tracks, paged albums and
//! playlists, 429 with Retry-After, 401 for a stale token). The download, separation and analysis jobs
//! run on the real queues.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use integration_tests::{Client, Job, TestApp, click_track_wav, job_outcome, serve};
use serde_json::{Value, json};
use server::config::Config;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use uuid::Uuid;

const PASSWORD: &str = "velvet thunder orchard";

/// A file host. `hits` counts every request it answered.
#[derive(Clone)]
struct FileHost {
    wav: Bytes,
    hits: Arc<AtomicUsize>,
    flaky: Arc<AtomicUsize>,
}

fn file_host(wav: Vec<u8>) -> (Router, FileHost) {
    let host = FileHost {
        wav: Bytes::from(wav),
        hits: Arc::default(),
        flaky: Arc::default(),
    };
    let router = Router::new()
        .route(
            "/music/{name}",
            get(|State(h): State<FileHost>| async move { wav_response(&h.wav) }),
        )
        .route(
            "/stream/song.wav",
            get(|State(h): State<FileHost>| async move {
                // No Content-Length: the body arrives in pieces of unknown total.
                let pieces: Vec<Result<Bytes, std::io::Error>> = h
                    .wav
                    .chunks(64 * 1024)
                    .map(|c| Ok(Bytes::copy_from_slice(c)))
                    .collect();
                (
                    [(header::CONTENT_TYPE, "audio/wav")],
                    Body::from_stream(futures_util::stream::iter(pieces)),
                )
            }),
        )
        .route(
            "/download",
            get(|State(h): State<FileHost>| async move {
                let mut response = wav_response(&h.wav);
                response.headers_mut().insert(
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"Named By Header.wav\""
                        .parse()
                        .expect("a header"),
                );
                response
            }),
        )
        .route(
            "/page",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    "<!doctype html><p>Hi",
                )
            }),
        )
        .route(
            "/noise.mp3",
            get(|| async { ([(header::CONTENT_TYPE, "audio/mpeg")], vec![0x5a_u8; 20_000]) }),
        )
        .route("/missing.wav", get(|| async { StatusCode::NOT_FOUND }))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route(
            "/hop",
            get(|| async { Redirect::temporary("/music/after%20a%20hop.wav") }),
        )
        .route(
            "/flaky.wav",
            get(|State(h): State<FileHost>| async move {
                if h.flaky.fetch_add(1, Ordering::SeqCst) == 0 {
                    StatusCode::SERVICE_UNAVAILABLE.into_response()
                } else {
                    wav_response(&h.wav)
                }
            }),
        )
        .layer(axum::middleware::from_fn_with_state(host.clone(), count_hits))
        .with_state(host.clone());
    (router, host)
}

async fn count_hits(
    State(host): State<FileHost>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    host.hits.fetch_add(1, Ordering::SeqCst);
    next.run(request).await
}

fn wav_response(wav: &Bytes) -> Response {
    ([(header::CONTENT_TYPE, "audio/wav")], wav.clone()).into_response()
}

async fn import(client: &mut Client<'_>, link: &str) -> (StatusCode, Value) {
    let reply = client.call("import-link", &[("link", link)]).await;
    let body = serde_json::from_str(&reply.body).unwrap_or(Value::String(reply.body.clone()));
    (reply.status, body)
}

async fn only_track(pool: &PgPool) -> Uuid {
    sqlx::query_scalar("select id from tracks")
        .fetch_one(pool)
        .await
        .expect("one track")
}

/// title, source, artist, album, duration, album_art_url, spotify_id
type SongRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i32>,
    Option<String>,
    String,
);

#[derive(Debug, sqlx::FromRow)]
struct DownloadRow {
    status: String,
    progress: i32,
    error: Option<String>,
    attempts: i32,
    bytes_done: i64,
    bytes_total: Option<i64>,
    file_size: Option<i64>,
}

async fn download_row(pool: &PgPool, track: Uuid) -> DownloadRow {
    sqlx::query_as(
        "select status, progress, error, attempts, bytes_done, bytes_total, file_size from download_jobs
         where track_id = $1",
    )
    .bind(track)
    .fetch_one(pool)
    .await
    .expect("the download job")
}

fn allow_private(config: &mut Config) {
    config.allow_private_urls = true;
}

fn stored_audio(app: &TestApp) -> usize {
    std::fs::read_dir(app.data_dir.path().join("files/audio")).map_or(0, Iterator::count)
}

#[sqlx::test(migrations = false)]
async fn an_audio_link_downloads_with_progress_then_separates_and_analyses(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let wav = click_track_wav(12.0, 120.0);
    let (router, _) = file_host(wav.clone());
    let host = serve(router).await;
    TestApp::run_with(options, connect, allow_private, async |app| {
        let pool = &app.state.pool;
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        let (status, summary) = import(&mut client, &format!("http://{host}/music/My%20Song.wav")).await;
        assert_eq!(status, StatusCode::OK, "{summary}");
        assert_eq!(summary["added"], 1);
        assert_eq!(summary["name"], "My Song");
        let track = only_track(pool).await;

        let (status, error) = job_outcome(pool, Job::Download, track).await;
        assert_eq!(status, "completed", "{error:?}");
        let row = download_row(pool, track).await;
        assert_eq!(row.status, "completed");
        assert_eq!(row.progress, 100);
        assert_eq!(row.bytes_done, wav.len() as i64);
        assert_eq!(
            row.bytes_total,
            Some(wav.len() as i64),
            "Content-Length was known"
        );
        assert_eq!(row.file_size, Some(wav.len() as i64));
        for job in [Job::Separation, Job::Analysis] {
            let (status, error) = job_outcome(pool, job, track).await;
            assert_eq!(status, "completed", "{job:?}: {error:?}");
        }
        let audio = client.get(&format!("/tracks/{track}/audio")).await;
        assert_eq!(audio.status, StatusCode::OK);
        assert_eq!(
            audio.bytes.as_ref(),
            wav.as_slice(),
            "the stored audio is the file"
        );
        let (title, duration, source): (String, i32, String) =
            sqlx::query_as("select title, duration, source from tracks where id = $1")
                .bind(track)
                .fetch_one(pool)
                .await
                .expect("the track");
        assert_eq!(
            (title.as_str(), duration, source.as_str()),
            ("My Song", 12, "url")
        );
        let cards: Value = serde_json::from_str::<Value>(&client.call("tracks", &[]).await.body)
            .expect("JSON")["tracks"]
            .clone();
        assert_eq!(cards[0]["download_status"], "completed");
        assert_eq!(cards[0]["has_audio"], true);
        assert_eq!(cards[0]["stems"].as_array().map(Vec::len), Some(4));
        assert!(
            cards[0]["tempo"]
                .as_f64()
                .is_some_and(|bpm| (bpm - 120.0).abs() < 3.0),
            "{}",
            cards[0]
        );
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn downloads_without_a_length_behind_redirects_or_named_by_the_server_all_arrive(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let wav = click_track_wav(3.0, 100.0);
    let (router, _) = file_host(wav.clone());
    let host = serve(router).await;
    TestApp::run_with(options, connect, allow_private, async |app| {
        let pool = &app.state.pool;
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        for (path, title) in [
            ("/stream/song.wav", "song"),
            ("/hop", "after a hop"),
            ("/download", "Named By Header"),
        ] {
            let (status, summary) = import(&mut client, &format!("http://{host}{path}")).await;
            assert_eq!(status, StatusCode::OK, "{path}: {summary}");
            let track: Uuid = sqlx::query_scalar("select id from tracks order by inserted_at desc limit 1")
                .fetch_one(pool)
                .await
                .expect("the new track");
            let (status, error) = job_outcome(pool, Job::Download, track).await;
            assert_eq!(status, "completed", "{path}: {error:?}");
            let row = download_row(pool, track).await;
            assert_eq!(row.bytes_done, wav.len() as i64, "{path}");
            if path == "/stream/song.wav" {
                assert_eq!(row.bytes_total, None, "the server said no length");
            }
            let stored: String = sqlx::query_scalar("select title from tracks where id = $1")
                .bind(track)
                .fetch_one(pool)
                .await
                .expect("the title");
            assert_eq!(stored, title, "{path}");
        }
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn bad_links_fail_in_words_and_leave_nothing_stored(options: PgPoolOptions, connect: PgConnectOptions) {
    let (router, host_state) = file_host(click_track_wav(2.0, 120.0));
    let host = serve(router).await;
    TestApp::run_with(
        options,
        connect,
        |config| {
            allow_private(config);
            config.max_upload_bytes = 40_000;
        },
        async |app| {
            let pool = &app.state.pool;
            let mut client = app.signed_in("dj@example.org", PASSWORD).await;
            for (path, expected) in [
                ("/missing.wav", "answered 404 Not Found"),
                ("/page", "web page, not an audio file"),
                ("/noise.mp3", "noise.mp3:"),
                ("/loop", "redirects more than 5 times"),
                ("/music/long.wav", "larger than this server's limit"),
            ] {
                let (status, summary) = import(&mut client, &format!("http://{host}{path}")).await;
                assert_eq!(status, StatusCode::OK, "{path}: {summary}");
                let track: Uuid =
                    sqlx::query_scalar("select id from tracks order by inserted_at desc limit 1")
                        .fetch_one(pool)
                        .await
                        .expect("the new track");
                let (status, error) = job_outcome(pool, Job::Download, track).await;
                assert_eq!(status, "failed", "{path}");
                let error = error.unwrap_or_default();
                assert!(error.contains(expected), "{path}: {error}");
                assert_eq!(download_row(pool, track).await.attempts, 1, "{path}: not retried");
                let cards: Value = serde_json::from_str::<Value>(&client.call("tracks", &[]).await.body)
                    .expect("JSON")["tracks"]
                    .clone();
                assert_eq!(
                    cards[0]["download_error"],
                    error.as_str(),
                    "{path}: the library says why"
                );
                assert_eq!(cards[0]["has_audio"], false);
            }
            assert_eq!(stored_audio(app), 0, "no partial or refused file stays");
            let pipeline: i64 = sqlx::query_scalar(
                "select (select count(*) from processing_jobs) + (select count(*) from analysis_jobs)",
            )
            .fetch_one(pool)
            .await
            .expect("counts");
            assert_eq!(pipeline, 0, "nothing to separate or analyse");
            assert!(host_state.hits.load(Ordering::SeqCst) >= 5);

            for garbage in [
                "",
                "   ",
                "not a link",
                "ftp://example.org/song.mp3",
                "javascript:alert(1)",
            ] {
                let (status, body) = import(&mut client, garbage).await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{garbage:?}: {body}");
            }
        },
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn a_server_error_is_retried_and_the_download_completes(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let (router, host_state) = file_host(click_track_wav(2.0, 120.0));
    let host = serve(router).await;
    TestApp::run_with(options, connect, allow_private, async |app| {
        let pool = &app.state.pool;
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        import(&mut client, &format!("http://{host}/flaky.wav")).await;
        let track = only_track(pool).await;
        let (status, error) = job_outcome(pool, Job::Download, track).await;
        assert_eq!(status, "completed", "{error:?}");
        let row = download_row(pool, track).await;
        assert_eq!((row.status.as_str(), row.attempts), ("completed", 2), "{row:?}");
        assert_eq!(row.error, None);
        assert_eq!(host_state.flaky.load(Ordering::SeqCst), 2);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn links_into_the_servers_own_network_are_refused_by_default(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let (router, host_state) = file_host(click_track_wav(2.0, 120.0));
    let host = serve(router).await;
    TestApp::run(options, connect, async |app| {
        let pool = &app.state.pool;
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        for link in [
            format!("http://{host}/music/song.wav"),
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "http://[::1]/song.wav".to_owned(),
        ] {
            let (status, body) = import(&mut client, &link).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{link}");
            assert!(
                body.to_string().contains("private or local network"),
                "{link}: {body}"
            );
        }
        // A name that resolves to loopback passes the first look; the resolver then refuses it.
        let (status, _) = import(
            &mut client,
            &format!("http://localhost:{}/music/song.wav", host.port()),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let track = only_track(pool).await;
        let (status, error) = job_outcome(pool, Job::Download, track).await;
        assert_eq!(status, "failed");
        assert!(error.unwrap_or_default().contains("private or local network"));
        assert_eq!(
            host_state.hits.load(Ordering::SeqCst),
            0,
            "nothing reached the host"
        );
    })
    .await;
}

/// A stand-in for Spotify's accounts service and Web API.
#[derive(Clone, Default)]
struct FakeSpotify {
    base: Arc<Mutex<String>>,
    tokens: Arc<Mutex<Vec<String>>>,
    /// Tokens the API treats as expired, answering 401 once.
    expired: Arc<Mutex<Vec<String>>>,
    rate_limited: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

/// `id:secret` in base 64, what our client must send.
const BASIC: &str = "Basic aWQ6c2VjcmV0";
const ALBUM: &str = "1DFixLWuPkv3KT3TnV35m3";
const PLAYLIST: &str = "37i9dQZF1DXcBWIGoYBM5M";
const TRACK: &str = "4uLU6hMCjMI75M1A2tKUQC";

fn song(id: &str, name: &str, with_album: bool) -> Value {
    let mut track = json!({
        "id": id, "name": name, "type": "track", "duration_ms": 3_000,
        "artists": [{"name": "The Band"}, {"name": "A Guest"}],
        "external_ids": {"isrc": format!("US{id}")[..12].to_owned()},
        "external_urls": {"spotify": format!("https://open.spotify.com/track/{id}")},
    });
    if with_album {
        track["album"] =
            json!({"name": "Single", "images": [{"url": "https://i.scdn.co/image/big", "width": 640}]});
    }
    track
}

fn song_id(n: usize) -> String {
    format!("{n:0>22}")
}

async fn spotify_router() -> (SocketAddr, FakeSpotify) {
    let fake = FakeSpotify::default();
    let router = Router::new()
        .route(
            "/api/token",
            post(
                |State(f): State<FakeSpotify>, headers: HeaderMap, body: String| async move {
                    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
                    if auth != Some(BASIC) || body != "grant_type=client_credentials" {
                        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client"})))
                            .into_response();
                    }
                    let mut tokens = f.tokens.lock().expect("tokens");
                    let token = format!("token-{}", tokens.len() + 1);
                    tokens.push(token.clone());
                    Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}))
                        .into_response()
                },
            ),
        )
        .route("/v1/tracks/{id}", get(api_track))
        .route("/v1/albums/{id}", get(api_album))
        .route("/v1/albums/{id}/tracks", get(api_album_tracks))
        .route("/v1/playlists/{id}", get(api_playlist))
        .route("/v1/playlists/{id}/tracks", get(api_playlist_tracks))
        .with_state(fake.clone());
    let addr = serve(router).await;
    *fake.base.lock().expect("base") = format!("http://{addr}/v1");
    (addr, fake)
}

impl FakeSpotify {
    /// The API's check of the bearer token: `Err` is the answer to send instead.
    fn authorise(&self, headers: &HeaderMap, what: String) -> Result<(), Box<Response>> {
        self.requests.lock().expect("requests").push(what);
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_owned();
        let mut expired = self.expired.lock().expect("expired");
        if let Some(at) = expired.iter().position(|t| *t == token) {
            expired.remove(at);
            return Err(Box::new(unauthorised("The access token expired")));
        }
        if !self.tokens.lock().expect("tokens").contains(&token) {
            return Err(Box::new(unauthorised("Invalid access token")));
        }
        Ok(())
    }

    fn base(&self) -> String {
        self.base.lock().expect("base").clone()
    }
}

fn unauthorised(message: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {"status": 401, "message": message}})),
    )
        .into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": {"status": 404, "message": "Resource not found"}})),
    )
        .into_response()
}

async fn api_track(State(f): State<FakeSpotify>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(answer) = f.authorise(&headers, format!("track {id}")) {
        return *answer;
    }
    if id != TRACK {
        return not_found();
    }
    Json(song(TRACK, "Song One", true)).into_response()
}

async fn api_album(State(f): State<FakeSpotify>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(answer) = f.authorise(&headers, format!("album {id}")) {
        return *answer;
    }
    if id != ALBUM {
        return not_found();
    }
    let items: Vec<Value> = (1..=2)
        .map(|n| song(&song_id(n), &format!("Album Song {n}"), false))
        .collect();
    Json(json!({
        "id": ALBUM, "name": "The Album", "images": [{"url": "https://i.scdn.co/image/album", "width": 640}],
        "tracks": {"items": items, "total": 3, "next": format!("{}/albums/{ALBUM}/tracks?offset=2&limit=2", f.base())},
    }))
    .into_response()
}

async fn api_album_tracks(
    State(f): State<FakeSpotify>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(page): Query<HashMap<String, String>>,
) -> Response {
    if let Err(answer) = f.authorise(&headers, format!("album tracks {id} {:?}", page.get("offset"))) {
        return *answer;
    }
    if f.rate_limited.fetch_add(1, Ordering::SeqCst) == 0 {
        return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response();
    }
    Json(json!({"items": [song(&song_id(3), "Album Song 3", false)], "total": 3, "next": null}))
        .into_response()
}

async fn api_playlist(State(f): State<FakeSpotify>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(answer) = f.authorise(&headers, format!("playlist {id}")) {
        return *answer;
    }
    if id != PLAYLIST {
        return not_found();
    }
    Json(json!({
        "id": PLAYLIST, "name": "Friday Mix",
        "tracks": {
            "items": [
                {"is_local": false, "track": song(&song_id(1), "Album Song 1", true)},
                {"is_local": false, "track": null},
                {"is_local": true, "track": {"id": null, "name": "my-bootleg.mp3", "type": "track", "duration_ms": 1000}},
                {"is_local": false, "track": {"id": "5Xq1Zz0000000000000000", "name": "A Podcast Episode", "type": "episode", "duration_ms": 60000}},
            ],
            "total": 6,
            "next": format!("{}/playlists/{PLAYLIST}/tracks?offset=4&limit=4", f.base()),
        },
    }))
    .into_response()
}

async fn api_playlist_tracks(
    State(f): State<FakeSpotify>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(answer) = f.authorise(&headers, format!("playlist tracks {id}")) {
        return *answer;
    }
    Json(json!({
        "items": [
            {"is_local": false, "track": song(&song_id(9), "Playlist Song", true)},
            {"is_local": false, "track": song(&song_id(9), "Playlist Song", true)},
        ],
        "total": 6, "next": null,
    }))
    .into_response()
}

fn spotify_config(addr: SocketAddr) -> impl FnOnce(&mut Config) {
    move |config: &mut Config| {
        config.spotify_client_id = Some("id".into());
        config.spotify_client_secret = Some("secret".into());
        config.spotify_api_url = format!("http://{addr}/v1");
        config.spotify_accounts_url = format!("http://{addr}");
    }
}

#[sqlx::test(migrations = false)]
async fn spotify_albums_and_playlists_become_tracks_once_per_user(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let (addr, fake) = spotify_router().await;
    TestApp::run_with(options, connect, spotify_config(addr), async |app| {
        let pool = &app.state.pool;
        let mut a = app.signed_in("a@example.org", PASSWORD).await;
        let (status, summary) = import(
            &mut a,
            &format!("https://open.spotify.com/intl-de/album/{ALBUM}?si=x"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{summary}");
        assert_eq!(summary["name"], "The Album");
        assert_eq!(summary["added"], 3, "both pages, the second after a 429");
        assert_eq!(summary["needs_files"], true, "no resolver here");
        assert_eq!(
            fake.rate_limited.load(Ordering::SeqCst),
            2,
            "the 429 was waited out, once"
        );
        let rows: Vec<SongRow> = sqlx::query_as(
            "select title, source, artist, album, duration, album_art_url, spotify_id from tracks
                 order by title",
        )
        .fetch_all(pool)
        .await
        .expect("tracks");
        assert_eq!(rows.len(), 3);
        let (title, source, artist, album, duration, art, id) = &rows[0];
        assert_eq!(title, "Album Song 1");
        assert_eq!(source, "spotify");
        assert_eq!(artist.as_deref(), Some("The Band, A Guest"));
        assert_eq!(
            album.as_deref(),
            Some("The Album"),
            "an album's songs take its name"
        );
        assert_eq!(*duration, Some(3));
        assert_eq!(art.as_deref(), Some("https://i.scdn.co/image/album"));
        assert_eq!(id, &song_id(1));
        let downloads: i64 = sqlx::query_scalar("select count(*) from download_jobs")
            .fetch_one(pool)
            .await
            .expect("count");
        assert_eq!(
            downloads, 0,
            "nothing can fetch the audio: the tracks wait for files"
        );

        // The playlist: one song A has, a deleted song, a local file, an episode, a new song twice.
        let (status, summary) = import(&mut a, &format!("spotify:playlist:{PLAYLIST}")).await;
        assert_eq!(status, StatusCode::OK, "{summary}");
        assert_eq!(
            (
                summary["added"].as_u64(),
                summary["already"].as_u64(),
                summary["unplayable"].as_u64()
            ),
            (Some(1), Some(2), Some(3)),
            "{summary}"
        );
        // Again: everything is there already.
        let (_, summary) = import(&mut a, &format!("open.spotify.com/album/{ALBUM}")).await;
        assert_eq!(
            (summary["added"].as_u64(), summary["already"].as_u64()),
            (Some(0), Some(3))
        );

        // Another user importing the same album gets tracks of their own.
        let mut b = app.signed_in("b@example.org", PASSWORD).await;
        let (_, summary) = import(&mut b, &format!("https://open.spotify.com/album/{ALBUM}")).await;
        assert_eq!(summary["added"], 3);
        let per_user: Vec<i64> =
            sqlx::query_scalar("select count(*) from tracks group by user_id order by count(*)")
                .fetch_all(pool)
                .await
                .expect("counts");
        assert_eq!(per_user, [3, 4]);
        assert_eq!(fake.tokens.lock().expect("tokens").len(), 1, "one token, cached");

        // A stale token is renewed once and the request goes through.
        let current = fake.tokens.lock().expect("tokens")[0].clone();
        fake.expired.lock().expect("expired").push(current);
        let (status, summary) = import(&mut a, &format!("https://open.spotify.com/track/{TRACK}")).await;
        assert_eq!(status, StatusCode::OK, "{summary}");
        assert_eq!(summary["added"], 1);
        assert_eq!(fake.tokens.lock().expect("tokens").len(), 2);

        let (status, body) = import(&mut a, "https://open.spotify.com/track/0000000000000000000000").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.to_string().contains("Spotify has no track with that id"),
            "{body}"
        );
        let (status, body) = import(&mut a, &format!("https://open.spotify.com/artist/{TRACK}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.to_string().contains("an artist"), "{body}");
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn spotify_without_credentials_or_with_wrong_ones_says_so(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let (addr, _) = spotify_router().await;
    let link = format!("https://open.spotify.com/track/{TRACK}");
    TestApp::run(options.clone(), connect.clone(), async |app| {
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        let (status, body) = import(&mut client, &link).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.to_string().contains("Spotify import is not configured"),
            "{body}"
        );
    })
    .await;
    let wrong = move |config: &mut Config| {
        spotify_config(addr)(config);
        config.spotify_client_secret = Some("not-the-secret".into());
    };
    TestApp::run_with(options, connect, wrong, async |app| {
        let mut client = app.signed_in("dj2@example.org", PASSWORD).await;
        let (status, body) = import(&mut client, &link).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.to_string()
                .contains("rejected this server's Spotify credentials"),
            "{body}"
        );
        let tracks: i64 = sqlx::query_scalar("select count(*) from tracks")
            .fetch_one(&app.state.pool)
            .await
            .expect("count");
        assert_eq!(tracks, 0);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn the_audio_resolver_fetches_a_spotify_songs_audio(options: PgPoolOptions, connect: PgConnectOptions) {
    let (addr, _) = spotify_router().await;
    let scratch = tempfile::tempdir().expect("a folder");
    let source = scratch.path().join("found.wav");
    std::fs::write(&source, click_track_wav(4.0, 120.0)).expect("writes");
    // What a yt-dlp would do: print progress, then write the file, here only for the right query.
    let script = r#"[ "$2" = "Song One" ] && [ "$3" = "The Band, A Guest" ] || exit 3; echo "[download]  10.0% of 1MiB"; echo "[download]  100% of 1MiB"; cp "$0" "$1""#;
    let template = format!(
        "sh -c '{script}' {} {{output}} {{title}} {{artist}}",
        source.display()
    );
    let with_resolver = move |config: &mut Config| {
        spotify_config(addr)(config);
        config.audio_resolver = Some(template);
    };
    TestApp::run_with(options, connect, with_resolver, async |app| {
        let pool = &app.state.pool;
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        let (status, summary) = import(&mut client, &format!("spotify:track:{TRACK}")).await;
        assert_eq!(status, StatusCode::OK, "{summary}");
        assert_eq!(summary["needs_files"], false);
        let track = only_track(pool).await;
        let (status, error) = job_outcome(pool, Job::Download, track).await;
        assert_eq!(status, "completed", "{error:?}");
        for job in [Job::Separation, Job::Analysis] {
            let (status, error) = job_outcome(pool, job, track).await;
            assert_eq!(status, "completed", "{job:?}: {error:?}");
        }
        let (title, duration): (String, i32) =
            sqlx::query_as("select title, duration from tracks where id = $1")
                .bind(track)
                .fetch_one(pool)
                .await
                .expect("the track");
        assert_eq!(
            (title.as_str(), duration),
            ("Song One", 4),
            "Spotify's title, the audio's length"
        );
        let leftovers = std::fs::read_dir(app.data_dir.path().join("files/.tmp"))
            .expect("lists")
            .count();
        assert_eq!(leftovers, 0, "the scratch folder is gone");
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn a_file_attached_to_a_waiting_track_starts_its_pipeline(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let (addr, _) = spotify_router().await;
    TestApp::run_with(options, connect, spotify_config(addr), async |app| {
        let pool = &app.state.pool;
        let mut a = app.signed_in("a@example.org", PASSWORD).await;
        import(&mut a, &format!("https://open.spotify.com/track/{TRACK}")).await;
        let track = only_track(pool).await;
        let cards: Value =
            serde_json::from_str::<Value>(&a.call("tracks", &[]).await.body).expect("JSON")["tracks"].clone();
        assert_eq!(cards[0]["has_audio"], false);

        let mut b = app.signed_in("b@example.org", PASSWORD).await;
        let wav = click_track_wav(3.0, 120.0);
        let reply = b.attach(&track.to_string(), "mine.wav", &wav).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "B cannot attach to A's track"
        );
        assert_eq!(stored_audio(app), 0);

        let reply = a.attach(&track.to_string(), "not audio.wav", b"hello").await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);

        let reply = a.attach(&track.to_string(), "the song.wav", &wav).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        for job in [Job::Separation, Job::Analysis] {
            let (status, error) = job_outcome(pool, job, track).await;
            assert_eq!(status, "completed", "{job:?}: {error:?}");
        }
        let title: String = sqlx::query_scalar("select title from tracks where id = $1")
            .bind(track)
            .fetch_one(pool)
            .await
            .expect("the title");
        assert_eq!(title, "Song One", "Spotify's title stays");
        let reply = a.attach(&track.to_string(), "again.wav", &wav).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a track has one audio file"
        );
        assert!(reply.body.contains("already has its audio"), "{}", reply.body);
    })
    .await;
}
