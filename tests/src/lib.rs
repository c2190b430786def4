//! What the integration tests share: an app on a fresh database and a scratch data directory, reached
//! through the real router without a network socket, and a browser-like client that keeps its session
//! cookie.

pub mod lalalai;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    body::{Body, to_bytes},
    extract::ConnectInfo,
    http::{Request, StatusCode, header, header::HeaderMap},
};
use clap::Parser;
use server::{
    AppState,
    config::Config,
    jobs::Workers,
    mail::{Mail, Mailer},
};
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tower::ServiceExt;

/// The origin the test app believes it is served at.
pub const ORIGIN: &str = "http://127.0.0.1:3000";

pub struct TestApp {
    pub state: AppState,
    pub router: axum::Router,
    /// Every mail the app sent, in order.
    pub outbox: Outbox,
    /// Kept so the data directory lives as long as the app.
    pub data_dir: tempfile::TempDir,
}

/// A test's database is dropped when the test ends, which waits for every connection to come back: the
/// queue loops must stop first.
impl Drop for TestApp {
    fn drop(&mut self) {
        self.state.jobs.begin_shutdown();
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as text, for pages and JSON.
    pub body: String,
    /// The body as it came, for files.
    pub bytes: axum::body::Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

impl TestApp {
    /// Runs `test` against the whole application on the `#[sqlx::test]` database that `connect` names,
    /// then stops the queues and closes the pool, so the database can be dropped.
    ///
    /// The app gets a pool of its own, larger than the five connections `sqlx::test` allows: each queue
    /// worker holds two connections for as long as it runs.
    pub async fn run(options: PgPoolOptions, connect: PgConnectOptions, test: impl AsyncFnOnce(&TestApp)) {
        Self::run_with(options, connect, |_| {}, test).await;
    }

    /// As [`TestApp::run`], with the configuration changed by `adjust` first.
    pub async fn run_with(
        options: PgPoolOptions,
        connect: PgConnectOptions,
        adjust: impl FnOnce(&mut Config),
        test: impl AsyncFnOnce(&TestApp),
    ) {
        Self::run_inner(options, connect, adjust, Workers::Run, test).await;
    }

    /// As [`TestApp::run_with`], serving only: the test runs the jobs' workers itself (as processes).
    pub async fn run_without_workers(
        options: PgPoolOptions,
        connect: PgConnectOptions,
        adjust: impl FnOnce(&mut Config),
        test: impl AsyncFnOnce(&TestApp),
    ) {
        Self::run_inner(options, connect, adjust, Workers::None, test).await;
    }

    async fn run_inner(
        options: PgPoolOptions,
        connect: PgConnectOptions,
        adjust: impl FnOnce(&mut Config),
        workers: Workers,
        test: impl AsyncFnOnce(&TestApp),
    ) {
        // Not `options`: sqlx's test pools draw on one shared budget of 20 connections, and the job workers
        // of each test app hold a dozen for as long as they run, so two tests side by side would starve. A
        // pool of its own per test, as large as the server's default, connects to the same test database.
        let _ = options;
        let pool = PgPoolOptions::new()
            .max_connections(20)
            .connect_with(connect)
            .await
            .expect("connects to the test database");
        let app = Self::start_with(pool.clone(), adjust, workers).await;
        test(&app).await;
        app.state.jobs.shutdown().await;
        drop(app);
        pool.close().await;
    }

    /// The whole application on `pool`, migrated, with its queues, and the configuration changed by
    /// `adjust` first.
    async fn start_with(pool: PgPool, adjust: impl FnOnce(&mut Config), workers: Workers) -> Self {
        // Warnings and errors go to the test's captured output, shown when it fails.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("warn")
            .try_init();
        let data_dir = tempfile::tempdir().expect("a scratch data directory");
        let mut config = config(data_dir.path());
        adjust(&mut config);
        let mut state = AppState::with_pool(config, pool, workers)
            .await
            .expect("the app starts");
        let outbox = Outbox::default();
        state.mailer = Arc::new(outbox.clone());
        let router = app::site::router(state.clone());
        Self {
            state,
            router,
            outbox,
            data_dir,
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).expect("a valid request"))
            .await
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), 64 << 20)
            .await
            .expect("a readable body");
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    /// A browser without a session, connecting from 127.0.0.1.
    pub fn client(&self) -> Client<'_> {
        self.client_from("127.0.0.1")
    }

    /// A browser without a session, connecting from `ip`.
    pub fn client_from(&self, ip: &str) -> Client<'_> {
        Client {
            app: self,
            peer: SocketAddr::new(ip.parse().expect("an IP address"), 50_000),
            cookie: None,
        }
    }

    /// A new account, registered and logged in on a fresh client.
    pub async fn signed_in(&self, email: &str, password: &str) -> Client<'_> {
        let mut client = self.client();
        let reply = client
            .call("register", &[("email", email), ("password", password)])
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "registering {email}: {}",
            reply.body
        );
        client
    }
}

/// Sends what a browser on our pages sends: the session cookie, our `Origin`, and `Accept` as the
/// server-function client does; keeps the cookie the server sets.
pub struct Client<'a> {
    app: &'a TestApp,
    peer: SocketAddr,
    pub cookie: Option<String>,
}

impl Client<'_> {
    pub async fn get(&mut self, uri: &str) -> Reply {
        let request = self.request(Request::get(uri)).body(Body::empty());
        self.exchange(request.expect("a valid request")).await
    }

    /// Calls the server function at `/api/<endpoint>` with form fields, as an `ActionForm` does.
    pub async fn call(&mut self, endpoint: &str, fields: &[(&str, &str)]) -> Reply {
        let body = serde_urlencoded::to_string(fields).expect("encodable fields");
        let request = self
            .request(Request::post(format!("/api/{endpoint}")))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body));
        self.exchange(request.expect("a valid request")).await
    }

    /// Uploads files as the library's form does (multipart, field `file`), asking for JSON.
    pub async fn upload(&mut self, files: &[(&str, &[u8])]) -> Reply {
        self.upload_form(None, files, "application/json").await
    }

    /// Uploads files as the plain form does when the page has no script: the browser asks for HTML.
    pub async fn upload_without_script(&mut self, files: &[(&str, &[u8])]) -> Reply {
        self.upload_form(None, files, "text/html,application/xhtml+xml")
            .await
    }

    /// Attaches a file to a track that has no audio yet, as the track's attach form does.
    pub async fn attach(&mut self, track: &str, name: &str, bytes: &[u8]) -> Reply {
        self.upload_form(Some(track), &[(name, bytes)], "application/json")
            .await
    }

    async fn upload_form(&mut self, track: Option<&str>, files: &[(&str, &[u8])], accept: &str) -> Reply {
        const BOUNDARY: &str = "sfa-test-boundary-7d1f";
        let mut body = Vec::new();
        if let Some(track) = track {
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"track\"\r\n\r\n{track}\r\n")
                    .as_bytes(),
            );
        }
        for (name, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let request = self
            .request(Request::post("/upload"))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header(header::ACCEPT, accept)
            .body(Body::from(body));
        self.exchange(request.expect("a valid request")).await
    }

    /// The signed-in user's email, as the pages learn it.
    pub async fn whoami(&mut self) -> Option<String> {
        let reply = self.call("me", &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let me: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
        me["email"].as_str().map(str::to_owned)
    }

    fn request(&self, builder: axum::http::request::Builder) -> axum::http::request::Builder {
        let builder = builder
            .header(header::ORIGIN, ORIGIN)
            .header(header::HOST, "127.0.0.1:3000")
            .extension(ConnectInfo(self.peer));
        match &self.cookie {
            Some(cookie) => builder.header(header::COOKIE, cookie),
            None => builder,
        }
    }

    async fn exchange(&mut self, request: Request<Body>) -> Reply {
        let reply = self.app.send(request).await;
        for set in reply.headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().expect("ASCII cookie");
            let pair = set.split(';').next().unwrap_or_default();
            if pair.starts_with("sfa_session=") {
                let cleared = pair == "sfa_session=" || set.contains("Max-Age=0");
                self.cookie = (!cleared).then(|| pair.to_owned());
            }
        }
        reply
    }
}

/// A 16-bit stereo WAV file: `seconds` of clicks at `bpm` over an A minor chord, made here so the
/// tests know the answer.
pub fn click_track_wav(seconds: f64, bpm: f64) -> Vec<u8> {
    let rate = 44_100u32;
    let frames = (seconds * f64::from(rate)) as usize;
    let beat = 60.0 / bpm;
    let mut samples = Vec::with_capacity(frames * 2);
    for n in 0..frames {
        let t = n as f64 / f64::from(rate);
        let since_beat = t % beat;
        let click = if since_beat < 0.02 {
            (1.0 - since_beat / 0.02) * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()
        } else {
            0.0
        };
        let chord: f64 = [220.0, 261.63, 329.63]
            .iter()
            .map(|f| (2.0 * std::f64::consts::PI * f * t).sin())
            .sum::<f64>()
            / 3.0;
        let value = ((0.6 * click + 0.25 * chord) * 32767.0) as i16;
        samples.push(value);
        samples.push(value);
    }
    let data_len = (samples.len() * 2) as u32;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 4).to_le_bytes());
    wav.extend_from_slice(&4u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for sample in samples {
        wav.extend_from_slice(&sample.to_le_bytes());
    }
    wav
}

/// A track's jobs, by the table their rows are in.
#[derive(Debug, Clone, Copy)]
pub enum Job {
    Download,
    Separation,
    Analysis,
}

impl Job {
    fn table(self) -> &'static str {
        match self {
            Self::Download => "download_jobs",
            Self::Separation => "processing_jobs",
            Self::Analysis => "analysis_jobs",
        }
    }
}

/// Waits (up to two minutes) for the track's latest job of this kind to end, and returns its status and
/// error.
pub async fn job_outcome(pool: &PgPool, job: Job, track_id: uuid::Uuid) -> (String, Option<String>) {
    let query = format!(
        "select status, error from {} where track_id = $1 order by inserted_at desc limit 1",
        job.table()
    );
    for _ in 0..1200 {
        let row: Option<(String, Option<String>)> = sqlx::query_as(&query)
            .bind(track_id)
            .fetch_optional(pool)
            .await
            .expect("reads the job");
        if let Some((status, error)) = row
            && matches!(status.as_str(), "completed" | "failed" | "cancelled")
        {
            return (status, error);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the {job:?} job of {track_id} did not end within two minutes");
}

/// Serves `router` on a free port of 127.0.0.1 for as long as the test runs: a stand-in for a service on
/// the internet (a file host, Spotify), reached by our real HTTP client.
pub async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// The mailer the tests use: it keeps what would have been sent.
#[derive(Clone, Default)]
pub struct Outbox(Arc<Mutex<Vec<Mail>>>);

impl Outbox {
    pub fn sent(&self) -> Vec<Mail> {
        self.0.lock().expect("an unpoisoned outbox").clone()
    }

    /// The last link sent to `to` that contains `path`, made relative to the site.
    pub fn link(&self, to: &str, path: &str) -> String {
        let mail = self
            .sent()
            .into_iter()
            .rev()
            .find(|mail| mail.to == to && mail.body.contains(path))
            .unwrap_or_else(|| panic!("no mail to {to} with {path}"));
        let start = mail.body.find(ORIGIN).expect("an absolute link") + ORIGIN.len();
        mail.body[start..]
            .split_whitespace()
            .next()
            .expect("a link")
            .to_owned()
    }

    /// The token in the last link sent to `to` for `path`.
    pub fn token(&self, to: &str, path: &str) -> String {
        let link = self.link(to, path);
        link.split_once("token=").expect("a token").1.to_owned()
    }
}

impl Mailer for Outbox {
    fn send(&self, mail: Mail) -> std::pin::Pin<Box<dyn Future<Output = server::Result<()>> + Send + '_>> {
        self.0.lock().expect("an unpoisoned outbox").push(mail);
        Box::pin(async { Ok(()) })
    }
}

/// A configuration for tests: defaults, with `data_dir` for files. The pool comes from the test, so the
/// database URL here is never dialled.
/// The separation model the tests use: a few hundred bytes with HTDemucs' inputs and outputs, whose
/// stems are each a quarter of the mix (see audio/tests/data/separation).
pub const TINY_MODEL: &str = "tiny-htdemucs";

pub fn tiny_model_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../audio/tests/data/separation")
}

pub fn config(data_dir: &std::path::Path) -> Config {
    let data_dir = data_dir.to_str().expect("a UTF-8 temporary path");
    let models = tiny_model_dir();
    Config::try_parse_from([
        "sfa",
        "--database-url",
        "postgres://unused",
        "--data-dir",
        data_dir,
        "--model-dir",
        models.to_str().expect("a UTF-8 path"),
        "--separation-model",
        TINY_MODEL,
    ])
    .expect("a valid test configuration")
}

/// The test database's URL for another process: `DATABASE_URL` with the database swapped.
pub fn database_url(connect: &PgConnectOptions) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL names the test cluster");
    let name = connect.get_database().expect("the test database's name");
    let (head, query) = base
        .split_once('?')
        .map_or((base.as_str(), None), |(head, query)| (head, Some(query)));
    let authority = head.find("://").expect("a URL") + 3;
    let path = head[authority..]
        .find('/')
        .map_or(head.len(), |at| authority + at);
    let query = query.map(|query| format!("?{query}")).unwrap_or_default();
    format!("{}/{name}{query}", &head[..path])
}
