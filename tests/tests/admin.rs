//! Settings, batch actions and the admin pages' functions, through the real router and queues.

use axum::http::StatusCode;
use integration_tests::{Client, Job, TINY_MODEL, TestApp, click_track_wav, job_outcome};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

const PASSWORD: &str = "velvet thunder orchard";

fn json(reply: &integration_tests::Reply) -> serde_json::Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|err| panic!("JSON ({err}): {}", reply.body))
}

async fn upload(client: &mut Client<'_>, name: &str) -> Uuid {
    let reply = client.upload(&[(name, &click_track_wav(2.0, 120.0))]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    json(&reply)[0]["track_id"]
        .as_str()
        .expect("a track")
        .parse()
        .expect("a UUID")
}

async fn batch(client: &mut Client<'_>, ids: &[Uuid], action: &str) -> integration_tests::Reply {
    let mut fields: Vec<(String, String)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("ids[{i}]"), id.to_string()))
        .collect();
    fields.push(("action".into(), action.into()));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    client.call("batch-tracks", &fields).await
}

async fn jobs_of(pool: &sqlx::PgPool, track: Uuid) -> (i64, i64) {
    sqlx::query_as(
        "select (select count(*) from processing_jobs where track_id = $1),
                (select count(*) from analysis_jobs where track_id = $1)",
    )
    .bind(track)
    .fetch_one(pool)
    .await
    .expect("job counts")
}

#[sqlx::test(migrations = false)]
async fn settings_choose_the_model_format_and_stages_of_new_tracks(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        let shown = json(&client.call("settings", &[]).await);
        assert_eq!(shown["separate_on_import"], true);
        assert_eq!(shown["stem_format"], "wav24");
        assert_eq!(shown["default_model"], TINY_MODEL);
        assert!(
            shown["models"]
                .as_array()
                .is_some_and(|models| models.iter().any(|m| m["name"] == TINY_MODEL)),
            "{shown}"
        );

        let save = |model: &'static str, format: &'static str| {
            [
                ("separation_model", model),
                ("stem_format", format),
                ("analyse_on_import", "on"),
            ]
        };
        for (fields, why) in [
            (save("htdemucs_6s", "wav24"), "not installed"),
            (save("../../etc", "wav24"), "not installed"),
            (save("", "mp3"), "Choose 16-bit"),
        ] {
            let reply = client.call("save-settings", &fields).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
            assert!(reply.body.contains(why), "{}", reply.body);
        }
        let reply = client.call("save-settings", &save(TINY_MODEL, "wav16")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let shown = json(&client.call("settings", &[]).await);
        assert_eq!(
            (
                &shown["separation_model"],
                &shown["stem_format"],
                &shown["separate_on_import"]
            ),
            (&TINY_MODEL.into(), &"wav16".into(), &false.into())
        );

        // Separation is off on import: the track is analysed only.
        let track = upload(&mut client, "only analysed.wav").await;
        let (status, error) = job_outcome(&app.state.pool, Job::Analysis, track).await;
        assert_eq!(status, "completed", "{error:?}");
        assert_eq!(jobs_of(&app.state.pool, track).await, (0, 1));

        // Separating it later uses the chosen format.
        let reply = batch(&mut client, &[track], "Separate").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(json(&reply)["done"], 1);
        let (status, error) = job_outcome(&app.state.pool, Job::Separation, track).await;
        assert_eq!(status, "completed", "{error:?}");
        let (model, format): (String, String) =
            sqlx::query_as("select model, options->>'format' from processing_jobs where track_id = $1")
                .bind(track)
                .fetch_one(&app.state.pool)
                .await
                .expect("the job");
        assert_eq!((model.as_str(), format.as_str()), (TINY_MODEL, "wav16"));
        let stem = client.get(&format!("/tracks/{track}/stems/vocals")).await;
        assert_eq!(stem.status, StatusCode::OK);
        let bits = u16::from_le_bytes([stem.bytes[34], stem.bytes[35]]);
        assert_eq!(bits, 16, "the stem is 16-bit");
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn batches_refuse_busy_tracks_one_by_one_and_foreign_ids_as_a_whole(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    // Without workers the pipeline stays queued, so "already running" is certain.
    TestApp::run_without_workers(
        options,
        connect,
        |_| {},
        async |app| {
            let mut client = app.signed_in("dj@example.org", PASSWORD).await;
            let first = upload(&mut client, "first.wav").await;
            let second = upload(&mut client, "second.wav").await;

            let reply = batch(&mut client, &[first, second], "Analyse").await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            let outcome = json(&reply);
            assert_eq!(outcome["done"], 0);
            let refused = outcome["refused"].to_string();
            assert!(
                refused.contains("“first”: This track is being analysed already."),
                "{refused}"
            );
            assert!(refused.contains("“second”"), "{refused}");
            assert_eq!(
                jobs_of(&app.state.pool, first).await,
                (1, 1),
                "nothing queued twice"
            );

            let mut other = app.signed_in("other@example.org", PASSWORD).await;
            let reply = batch(&mut other, &[first], "Delete").await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
            let reply = batch(&mut client, &[first, Uuid::new_v4()], "Delete").await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
            let left: i64 = sqlx::query_scalar("select count(*) from tracks")
                .fetch_one(&app.state.pool)
                .await
                .expect("count");
            assert_eq!(
                left, 2,
                "an unknown id stops the batch before it deletes anything"
            );

            let reply = batch(&mut client, &[first, second], "Delete").await;
            assert_eq!(json(&reply)["done"], 2, "{}", reply.body);
            assert_eq!(json(&client.call("tracks", &[]).await)["total"], 0);
        },
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn admins_switch_accounts_off_and_on_and_change_roles(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        let mut admin = app.signed_in("admin@example.org", PASSWORD).await;
        let mut user = app.signed_in("user@example.org", PASSWORD).await;
        let track = upload(&mut user, "user's song.wav").await;
        job_outcome(&app.state.pool, Job::Separation, track).await;

        let reply = user.call("admin", &[("status", "")]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "no admin page for a user");

        let overview = json(&admin.call("admin", &[("status", "")]).await);
        let accounts = overview["accounts"].as_array().expect("accounts").clone();
        let line = |email: &str| {
            accounts
                .iter()
                .find(|a| a["email"] == email)
                .unwrap_or_else(|| panic!("{email} listed"))
                .clone()
        };
        let (me, them) = (line("admin@example.org"), line("user@example.org"));
        assert_eq!((&me["role"], &me["is_me"]), (&"admin".into(), &true.into()));
        assert_eq!(them["tracks"], 1);
        assert!(
            them["storage_bytes"]
                .as_u64()
                .is_some_and(|bytes| bytes > 100_000),
            "{them}"
        );
        assert!(overview["storage_total"].as_u64() >= them["storage_bytes"].as_u64());
        let jobs = overview["jobs"].to_string();
        assert!(
            jobs.contains("user's song") && jobs.contains("user@example.org"),
            "{jobs}"
        );
        let failed = json(&admin.call("admin", &[("status", "failed")]).await);
        assert_eq!(
            failed["jobs"],
            serde_json::json!([]),
            "the filter narrows the jobs"
        );

        let id = |line: &serde_json::Value| line["id"].as_str().expect("an id").to_owned();
        let (me_id, their_id) = (id(&me), id(&them));
        for (fields, why) in [
            (
                vec![("id", me_id.as_str()), ("disabled", "true")],
                "your own account",
            ),
            (
                vec![("id", their_id.as_str()), ("role", "platform_admin")],
                "Only a platform admin",
            ),
        ] {
            let endpoint = if fields[1].0 == "role" {
                "admin-set-role"
            } else {
                "admin-set-disabled"
            };
            let reply = admin.call(endpoint, &fields).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
            assert!(reply.body.contains(why), "{}", reply.body);
        }

        let reply = admin
            .call("admin-set-disabled", &[("id", &their_id), ("disabled", "true")])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(user.whoami().await, None, "the session ended");
        let login = [("email", "user@example.org"), ("password", PASSWORD)];
        let reply = user.call("login", &login).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert!(reply.body.contains("switched off"), "{}", reply.body);
        let kept: i64 = sqlx::query_scalar("select count(*) from stems where track_id = $1")
            .bind(track)
            .fetch_one(&app.state.pool)
            .await
            .expect("count");
        assert_eq!(kept, 4, "a switched-off account keeps its stems");

        let reply = admin
            .call("admin-set-disabled", &[("id", &their_id), ("disabled", "false")])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let reply = admin
            .call("admin-set-role", &[("id", &their_id), ("role", "admin")])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(user.call("login", &login).await.status, StatusCode::OK);
        assert_eq!(
            user.call("admin", &[("status", "")]).await.status,
            StatusCode::OK,
            "the new admin sees the admin page"
        );

        // Reading someone's library is for platform admins only.
        let library = [("id", their_id.as_str())];
        assert_eq!(
            admin.call("admin-library", &library).await.status,
            StatusCode::NOT_FOUND
        );
        server::auth::user::set_role(
            &app.state.pool,
            "admin@example.org",
            server::auth::Role::PlatformAdmin,
        )
        .await
        .expect("promoted");
        let reply = admin.call("admin-library", &library).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let read = json(&reply);
        assert_eq!(read["email"], "user@example.org");
        assert_eq!(read["library"]["tracks"][0]["title"], "user's song");
    })
    .await;
}
