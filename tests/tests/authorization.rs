//! The authorization suite: one rule everywhere. Without a session nothing but the log-in pages and
//! their server functions answers; with one, another user's ids answer 404 and change nothing.
//!
//! Every server function must be listed below in exactly one group, so a new one cannot be added
//! without saying who may call it; one that takes ids adds its calls to `calls_with_ids`.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use integration_tests::{Client, Job, Reply, TestApp, click_track_wav, job_outcome};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Anyone may call these: they get or end a session, or say whether there is one.
const PUBLIC: [&str; 7] = [
    "/api/me",
    "/api/register",
    "/api/login",
    "/api/logout",
    "/api/forgot-password",
    "/api/reset-password",
    "/api/confirm-email",
];

/// These act on the caller's own account or rows only: they take no ids.
const OWN_ACCOUNT: [&str; 13] = [
    "/api/logout-everywhere",
    "/api/resend-confirmation",
    "/api/change-password",
    "/api/change-email",
    "/api/tracks",
    "/api/import-link",
    "/api/settings",
    "/api/save-settings",
    "/api/providers",
    "/api/add-provider",
    "/api/save-lalalai-key",
    "/api/test-lalalai-key",
    "/api/remove-lalalai-key",
];

/// What the first user owns, for the second to try to reach.
struct Owned {
    track: uuid::Uuid,
    /// A's account: the first on the instance, so an administrator.
    account: uuid::Uuid,
    provider: uuid::Uuid,
}

impl Owned {
    /// A's rows and files, made through the app as A would, with its pipeline finished so that nothing
    /// changes on its own while B tries.
    async fn made_by(app: &TestApp, a: &mut Client<'_>) -> Self {
        let reply = a.upload(&[("a's song.wav", &click_track_wav(2.0, 120.0))]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let outcomes: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
        let track = outcomes[0]["track_id"]
            .as_str()
            .expect("a track")
            .parse()
            .expect("a UUID");
        for job in [Job::Separation, Job::Analysis] {
            let (status, error) = job_outcome(&app.state.pool, job, track).await;
            assert_eq!(status, "completed", "{job:?}: {error:?}");
        }
        let account = sqlx::query_scalar("select user_id from tracks where id = $1")
            .bind(track)
            .fetch_one(&app.state.pool)
            .await
            .expect("A's account");
        let added = a
            .call(
                "add-provider",
                &[
                    ("kind", "ollama"),
                    ("name", "A's Ollama"),
                    ("api_key", ""),
                    ("base_url", ""),
                    ("model", ""),
                ],
            )
            .await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
        let provider = sqlx::query_scalar("select id from llm_providers where user_id = $1")
            .bind(account)
            .fetch_one(&app.state.pool)
            .await
            .expect("A's provider");
        Self {
            track,
            account,
            provider,
        }
    }
}

/// Pages and files that take ids, as B fetches them with A's ids. Each feature with such a route adds it.
fn routes_with_ids(a: &Owned) -> Vec<String> {
    vec![
        format!("/tracks/{}/audio", a.track),
        format!("/tracks/{}/art", a.track),
        format!("/tracks/{}/stems/vocals", a.track),
        format!("/tracks/{}/stems.zip", a.track),
        format!("/tracks/{}/analysis.json", a.track),
        format!("/tracks/{}/mix.wav?without=vocals", a.track),
    ]
}

/// Each call user B makes with user A's ids: (server function path, fields). A feature that adds a
/// server function or route taking ids adds its calls here, and A's rows to [`Owned`].
fn calls_with_ids(a: &Owned) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let track = || vec![("id", a.track.to_string())];
    let account =
        |field: &'static str, value: &str| vec![("id", a.account.to_string()), (field, value.to_owned())];
    vec![
        ("/api/track", track()),
        ("/api/cancel-track-jobs", track()),
        ("/api/retry-track-jobs", track()),
        ("/api/delete-track", track()),
        ("/api/mix-candidates", track()),
        (
            "/api/ask-about-track",
            vec![
                ("id", a.track.to_string()),
                ("question", "How do I mix it?".to_owned()),
            ],
        ),
        (
            "/api/batch-tracks",
            vec![("ids[0]", a.track.to_string()), ("action", "Delete".to_owned())],
        ),
        // The admin pages' functions: B is no administrator, so for B they do not exist.
        ("/api/admin", vec![("status", String::new())]),
        ("/api/admin-set-role", account("role", "user")),
        ("/api/admin-set-disabled", account("disabled", "true")),
        (
            "/api/admin-job",
            vec![("track", a.track.to_string()), ("retry", "false".to_owned())],
        ),
        ("/api/admin-library", vec![("id", a.account.to_string())]),
        ("/api/edit-provider", provider_edit(a)),
        ("/api/delete-provider", vec![("id", a.provider.to_string())]),
        ("/api/test-provider", vec![("id", a.provider.to_string())]),
        (
            "/api/move-provider",
            vec![("id", a.provider.to_string()), ("up", "true".to_owned())],
        ),
    ]
}

/// B's attempt to take over A's provider: a new name, and B's own key.
fn provider_edit(a: &Owned) -> Vec<(&'static str, String)> {
    vec![
        ("id", a.provider.to_string()),
        ("kind", "openai".to_owned()),
        ("name", "Taken".to_owned()),
        ("api_key", "sk-b-key-0000".to_owned()),
        ("base_url", String::new()),
        ("model", String::new()),
        ("enabled", "on".to_owned()),
    ]
}

/// Plausible values for every argument any server function takes; each takes what it needs, so the
/// call reaches the session check rather than failing to parse.
const EVERY_FIELD: [(&str, &str); 25] = [
    ("id", "00000000-0000-4000-8000-000000000000"),
    ("question", "How do I mix it?"),
    ("kind", "openai"),
    ("name", "A provider"),
    ("api_key", "sk-test"),
    ("base_url", ""),
    ("model", ""),
    ("up", "true"),
    ("ids[0]", "00000000-0000-4000-8000-000000000000"),
    ("track", "00000000-0000-4000-8000-000000000000"),
    ("action", "Delete"),
    ("status", ""),
    ("role", "user"),
    ("disabled", "true"),
    ("retry", "false"),
    ("separation_model", ""),
    ("stem_format", "wav24"),
    ("link", "https://example.org/song.mp3"),
    ("email", "a@example.org"),
    ("password", "velvet thunder orchard"),
    ("current_password", "velvet thunder orchard"),
    ("new_password", "copper lantern meadow"),
    ("new_email", "c@example.org"),
    ("token", "AAAA"),
    ("license_key", "lalal-license"),
];

fn registered() -> BTreeSet<String> {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect()
}

async fn snapshot(pool: &sqlx::PgPool) -> String {
    sqlx::query_scalar(
        "select concat_ws('|', (select count(*) from users), (select count(*) from tracks),
            (select count(*) from stems), (select count(*) from download_jobs),
            (select count(*) from processing_jobs), (select count(*) from analysis_jobs),
            (select count(*) from llm_providers), (select max(updated_at)::text from users),
            (select count(*) from user_settings),
            (select string_agg(name || provider_type || priority || coalesce(encode(api_key, 'hex'), ''), ','
                 order by id) from llm_providers),
            (select string_agg(status || progress, ',' order by id) from processing_jobs),
            (select string_agg(status || progress, ',' order by id) from analysis_jobs))",
    )
    .fetch_one(pool)
    .await
    .expect("a snapshot")
}

#[sqlx::test(migrations = false)]
async fn every_server_function_is_classified(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |_app| {
        let owned = Owned {
            track: uuid::Uuid::nil(),
            account: uuid::Uuid::nil(),
            provider: uuid::Uuid::nil(),
        };
        let with_ids: BTreeSet<String> = calls_with_ids(&owned)
            .iter()
            .map(|(path, _)| (*path).to_owned())
            .collect();
        let listed: BTreeSet<String> = PUBLIC
            .iter()
            .chain(&OWN_ACCOUNT)
            .map(|path| (*path).to_owned())
            .chain(with_ids)
            .collect();
        assert_eq!(
            registered(),
            listed,
            "classify every server function in this file"
        );
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn without_a_session_only_public_server_functions_answer(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        app.signed_in("a@example.org", "velvet thunder orchard").await;
        let before = snapshot(&app.state.pool).await;
        let mut anonymous = app.client();
        for path in registered()
            .iter()
            .filter(|path| !PUBLIC.contains(&path.as_str()))
        {
            let endpoint = path.trim_start_matches("/api/");
            let reply = anonymous.call(endpoint, &EVERY_FIELD).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}: {}", reply.body);
            assert!(reply.body.contains("Please log in"), "{path}: {}", reply.body);
        }
        assert_eq!(snapshot(&app.state.pool).await, before, "nothing changed");
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn another_users_ids_answer_404_and_change_nothing(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        let mut a = app.signed_in("a@example.org", "velvet thunder orchard").await;
        let owned = Owned::made_by(app, &mut a).await;
        for route in routes_with_ids(&owned) {
            assert_ne!(
                a.get(&route).await.status,
                StatusCode::UNAUTHORIZED,
                "{route} works for its owner"
            );
        }
        let mut b: Client<'_> = app.signed_in("b@example.org", "copper lantern meadow").await;
        let before = snapshot(&app.state.pool).await;
        for (path, fields) in calls_with_ids(&owned) {
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(name, value)| (*name, value.as_str()))
                .collect();
            let reply: Reply = b.call(path.trim_start_matches("/api/"), &fields).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}: {}", reply.body);
            assert!(reply.body.contains("Not found"), "{path}: {}", reply.body);
        }
        for route in routes_with_ids(&owned) {
            let reply = b.get(&route).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{route}");
            let nonexistent = route.replace(&owned.track.to_string(), &uuid::Uuid::new_v4().to_string());
            assert_eq!(
                b.get(&nonexistent).await.status,
                StatusCode::NOT_FOUND,
                "{nonexistent}"
            );
        }
        let attached = b
            .attach(
                &owned.track.to_string(),
                "b's song.wav",
                &click_track_wav(1.0, 120.0),
            )
            .await;
        assert_eq!(
            attached.status,
            StatusCode::NOT_FOUND,
            "B cannot give A's track a file"
        );
        let listed = b.call("tracks", &[]).await;
        let listed: serde_json::Value = serde_json::from_str(&listed.body).expect("JSON");
        assert_eq!(
            (&listed["tracks"], &listed["total"]),
            (&serde_json::json!([]), &serde_json::json!(0)),
            "B's library does not list A's tracks"
        );
        assert_eq!(snapshot(&app.state.pool).await, before, "nothing changed");
        assert_eq!(b.whoami().await.as_deref(), Some("b@example.org"));
    })
    .await;
}
