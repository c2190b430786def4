//! LLM providers through the real router: keys sealed at rest, masked on the way out, never sent back;
//! the order, the edits, and a master key rotation.

use axum::http::StatusCode;
use integration_tests::{Client, Reply, TestApp};
use server::{
    ExposeSecret, SecretString,
    llm::providers,
    secret::MasterKey,
    vault::{Owner, Vault},
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

const PASSWORD: &str = "velvet thunder orchard";
const KEY: &str = "sk-ant-api03-Secret-Test-Key-0123456789-WXYZ";
const NEW_KEY: &str = "sk-ant-api03-Another-Secret-Key-9876543210-QRST";

/// Calls a server function and checks that no key the tests use comes back in its answer.
async fn call(client: &mut Client<'_>, endpoint: &str, fields: &[(&str, &str)]) -> Reply {
    let reply = client.call(endpoint, fields).await;
    for key in [KEY, NEW_KEY] {
        assert!(
            !reply.body.contains(key),
            "{endpoint} sent a key back: {}",
            reply.body
        );
        assert!(
            !reply.body.contains(&key[8..20]),
            "{endpoint} sent part of a key back"
        );
    }
    reply
}

async fn listed(client: &mut Client<'_>) -> Vec<serde_json::Value> {
    let reply = call(client, "providers", &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    serde_json::from_str(&reply.body).expect("JSON")
}

fn names(list: &[serde_json::Value]) -> Vec<&str> {
    list.iter().map(|p| p["name"].as_str().expect("a name")).collect()
}

#[sqlx::test(migrations = false)]
async fn keys_are_sealed_at_rest_shown_masked_and_never_sent_back(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        let pool = &app.state.pool;
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        let add = |kind: &'static str,
                   name: &'static str,
                   key: &'static str,
                   url: &'static str,
                   model: &'static str| {
            [
                ("kind", kind),
                ("name", name),
                ("api_key", key),
                ("base_url", url),
                ("model", model),
            ]
        };
        for (fields, why) in [
            (add("anthropic", "No key", "", "", ""), "needs its API key"),
            (add("ollama", "Keyed", KEY, "", ""), "Ollama takes no API key"),
            (
                add("azure_openai", "Azure", KEY, "", "gpt-4o"),
                "Azure OpenAI needs your resource",
            ),
            (
                add("azure_openai", "Azure", KEY, "https://r.openai.azure.com", ""),
                "deployment",
            ),
            (
                add("openai", "Bad URL", KEY, "ftp://example.org", ""),
                "must be a web address",
            ),
            (
                add("openai", "Spaced", "sk two words", "", ""),
                "does not look like an API key",
            ),
            (add("mistral", "Unknown", KEY, "", ""), "provider types"),
            (add("openai", "  ", KEY, "", ""), "a name"),
        ] {
            let reply = call(&mut client, "add-provider", &fields).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
            assert!(reply.body.contains(why), "{why}: {}", reply.body);
        }
        for fields in [
            add("anthropic", "Claude", KEY, "", "claude-sonnet-4"),
            add("ollama", "Local", "", "http://127.0.0.1:11434", "llama3"),
        ] {
            let reply = call(&mut client, "add-provider", &fields).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
        let list = listed(&mut client).await;
        assert_eq!(names(&list), ["Claude", "Local"]);
        assert_eq!(list[0]["key_hint"], "••••WXYZ");
        assert_eq!(list[0]["health"], "unknown");
        assert_eq!(list[1]["key_hint"], serde_json::Value::Null);

        // At rest: neither the key nor any run of it, and it opens only for its own row.
        let (claude, owner, sealed): (Uuid, Uuid, Vec<u8>) =
            sqlx::query_as("select id, user_id, api_key from llm_providers where name = 'Claude'")
                .fetch_one(pool)
                .await
                .expect("the row");
        assert!(
            !sealed
                .windows(8)
                .any(|w| KEY.as_bytes().windows(8).any(|k| k == w)),
            "no plain text"
        );
        let opened = app
            .state
            .vault
            .open(&sealed, Owner::provider_key(owner, claude))
            .expect("opens for its row");
        assert_eq!(opened.expose_secret(), KEY);

        // An edit without a key keeps it; with one, replaces it and forgets the health.
        let claude_id = claude.to_string();
        let edit = |name: &'static str, key: &'static str| {
            vec![
                ("id", claude_id.clone()),
                ("kind", "anthropic".to_owned()),
                ("name", name.to_owned()),
                ("api_key", key.to_owned()),
                ("base_url", String::new()),
                ("model", "claude-sonnet-4".to_owned()),
                ("enabled", "on".to_owned()),
            ]
        };
        sqlx::query("update llm_providers set health_status = 'healthy' where id = $1")
            .bind(claude)
            .execute(pool)
            .await
            .expect("marked");
        let fields = edit("Claude Sonnet", "");
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            call(&mut client, "edit-provider", &fields).await.status,
            StatusCode::OK
        );
        let list = listed(&mut client).await;
        assert_eq!(
            (&list[0]["name"], &list[0]["key_hint"], &list[0]["health"]),
            (&"Claude Sonnet".into(), &"••••WXYZ".into(), &"healthy".into())
        );
        let fields = edit("Claude Sonnet", NEW_KEY);
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            call(&mut client, "edit-provider", &fields).await.status,
            StatusCode::OK
        );
        let list = listed(&mut client).await;
        assert_eq!(
            (&list[0]["key_hint"], &list[0]["health"]),
            (&"••••QRST".into(), &"unknown".into())
        );

        // Order: up and down, and nothing past either end.
        let local = list[1]["id"].as_str().expect("an id").to_owned();
        for (id, up, expected) in [
            (&local, "true", ["Local", "Claude Sonnet"]),
            (&local, "true", ["Local", "Claude Sonnet"]),
            (&local, "false", ["Claude Sonnet", "Local"]),
            (&local, "false", ["Claude Sonnet", "Local"]),
        ] {
            let reply = call(&mut client, "move-provider", &[("id", id), ("up", up)]).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            assert_eq!(names(&listed(&mut client).await), expected);
        }

        // A sealed key copied into another row does not open there: the page says to enter it again.
        sqlx::query(
            "update llm_providers set provider_type = 'anthropic',
                 api_key = (select api_key from llm_providers where id = $1) where id = $2",
        )
        .bind(claude)
        .bind(local.parse::<Uuid>().expect("a UUID"))
        .execute(pool)
        .await
        .expect("copied");
        let list = listed(&mut client).await;
        assert_eq!(list[1]["key_hint"], "unreadable: enter the key again");
        assert_eq!(list[0]["key_hint"], "••••QRST", "the original still opens");

        let reply = call(&mut client, "delete-provider", &[("id", &claude_id)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(names(&listed(&mut client).await), ["Local"]);
        assert_eq!(
            call(&mut client, "delete-provider", &[("id", &claude_id)])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn a_master_key_rotation_seals_every_key_again(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        let pool = &app.state.pool;
        let mut client = app.signed_in("dj@example.org", PASSWORD).await;
        for name in ["One", "Two"] {
            let fields = [
                ("kind", "openai"),
                ("name", name),
                ("api_key", KEY),
                ("base_url", ""),
                ("model", ""),
            ];
            assert_eq!(
                call(&mut client, "add-provider", &fields).await.status,
                StatusCode::OK
            );
        }
        let user = server::auth::user::find_by_email(pool, "dj@example.org")
            .await
            .expect("reads")
            .expect("the user");
        server::lalalai::license::save(pool, &app.state.vault, user.id, "lalal-license-ABCD")
            .await
            .expect("a lalal.ai key too");
        let old_hex =
            std::fs::read_to_string(app.state.config.secret_key_file()).expect("the development key");
        let new_hex = "5a".repeat(32);
        let mut rotated = (*app.state.config).clone();
        rotated.secret_key = Some(SecretString::from(new_hex.clone()));
        rotated.retired_secret_keys = Some(SecretString::from(format!("{},", old_hex.trim())));
        let vault = Vault::new(
            &MasterKey::load(&rotated).expect("the new key"),
            &MasterKey::retired(&rotated).expect("the old key"),
        );
        assert_eq!(server::reseal_secrets(pool, &vault).await.expect("rotates"), 3);
        assert_eq!(
            server::reseal_secrets(pool, &vault).await.expect("again"),
            0,
            "nothing left to do"
        );

        rotated.retired_secret_keys = None;
        let new_only = Vault::new(&MasterKey::load(&rotated).expect("the new key"), &[]);
        for provider in providers::list(pool, &new_only, &user).await.expect("lists") {
            assert_eq!(
                provider.key_hint.as_deref(),
                Some("••••WXYZ"),
                "opens with the new key alone"
            );
        }
        assert_eq!(
            server::lalalai::license::hint(pool, &new_only, user.id)
                .await
                .expect("reads")
                .as_deref(),
            Some("••••ABCD")
        );
        for provider in providers::list(pool, &app.state.vault, &user)
            .await
            .expect("lists")
        {
            assert_eq!(
                provider.key_hint.as_deref(),
                Some("unreadable: enter the key again"),
                "the old key no longer opens them"
            );
        }
        // A key sealed under a master key nobody configured stops the rotation before it writes.
        rotated.secret_key = Some(SecretString::from("77".repeat(32)));
        let elsewhere = Vault::new(&MasterKey::load(&rotated).expect("another key"), &[]);
        assert!(server::reseal_secrets(pool, &elsewhere).await.is_err());
    })
    .await;
}
