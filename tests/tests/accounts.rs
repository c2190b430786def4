//! Accounts end to end through the real router and PostgreSQL: registration, log in and out, mailed
//! tokens, password and address changes, rate limits.

use axum::http::StatusCode;
use integration_tests::TestApp;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

const PASSWORD: &str = "velvet thunder orchard";
const NEW_PASSWORD: &str = "copper lantern meadow";

#[sqlx::test(migrations = false)]
async fn registering_logs_in_and_the_first_account_is_the_admin(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        let mut first = app.signed_in("first@example.org", PASSWORD).await;
        assert_eq!(first.whoami().await.as_deref(), Some("first@example.org"));
        let mut second = app.signed_in("second@example.org", PASSWORD).await;
        assert_eq!(second.whoami().await.as_deref(), Some("second@example.org"));

        let roles: Vec<(String, String)> =
            sqlx::query_as("select email, role from users order by inserted_at")
                .fetch_all(&app.state.pool)
                .await
                .expect("users");
        assert_eq!(
            roles,
            [
                ("first@example.org".into(), "admin".into()),
                ("second@example.org".into(), "user".into())
            ]
        );
        let stored: String = sqlx::query_scalar("select hashed_password from users limit 1")
            .fetch_one(&app.state.pool)
            .await
            .expect("a hash");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains(PASSWORD));
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn an_address_has_one_account_whatever_its_case(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        app.signed_in("DJ@Example.org", PASSWORD).await;
        let reply = app
            .client()
            .call("register", &[("email", "dj@EXAMPLE.org"), ("password", PASSWORD)])
            .await;
        assert_eq!(reply.status, StatusCode::CONFLICT);
        assert!(reply.body.contains("already exists"), "{}", reply.body);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn weak_passwords_and_bad_addresses_are_refused_with_reasons(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        let mut client = app.client();
        for (email, password, reason) in [
            ("dj@example.org", "too short", "at least 12 characters"),
            ("dj@example.org", "password1234", "too easy to guess"),
            ("dj@example.org", &"x".repeat(300), "at most 256 characters"),
            ("not an address", PASSWORD, "email address like"),
        ] {
            let reply = client
                .call("register", &[("email", email), ("password", password)])
                .await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{password}");
            assert!(reply.body.contains(reason), "{reason:?} not in {}", reply.body);
        }
        let users: i64 = sqlx::query_scalar("select count(*) from users")
            .fetch_one(&app.state.pool)
            .await
            .expect("a count");
        assert_eq!(users, 0);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn logging_in_needs_the_right_password_and_gives_a_new_session_id(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        app.signed_in("a@example.org", PASSWORD).await;
        let mut other = app.signed_in("b@example.org", PASSWORD).await;

        let mut client = app.client();
        for (email, password) in [
            ("a@example.org", "wrong password here"),
            ("nobody@example.org", PASSWORD),
        ] {
            let reply = client
                .call("login", &[("email", email), ("password", password)])
                .await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
            assert!(reply.body.contains("do not match an account"), "{}", reply.body);
            assert_eq!(client.whoami().await, None);
        }

        // A cookie someone else's session had (a shared computer, a planted cookie) is not carried into ours.
        let planted = other.cookie.clone();
        client.cookie = planted.clone();
        let reply = client
            .call(
                "login",
                &[
                    ("email", "A@example.org"),
                    ("password", PASSWORD),
                    ("next", "/account"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.header("location"), Some("/account"));
        assert!(client.cookie.is_some());
        assert_ne!(client.cookie, planted, "the session id changes at log in");
        assert_eq!(client.whoami().await.as_deref(), Some("a@example.org"));
        assert_eq!(
            other.whoami().await,
            None,
            "the session that cookie named is ended, not handed over"
        );

        let reply = client
            .call(
                "login",
                &[
                    ("email", "a@example.org"),
                    ("password", PASSWORD),
                    ("next", "//evil.example"),
                ],
            )
            .await;
        assert_eq!(reply.header("location"), Some("/"), "never redirected off-site");
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn logging_out_ends_the_session_even_for_a_copied_cookie(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        let mut client = app.signed_in("a@example.org", PASSWORD).await;
        let copied = client.cookie.clone();
        let reply = client.call("logout", &[]).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(client.whoami().await, None);
        client.cookie = copied;
        assert_eq!(client.whoami().await, None, "the old cookie opens nothing");
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn logging_out_everywhere_ends_every_session(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        let mut laptop = app.signed_in("a@example.org", PASSWORD).await;
        let mut phone = app.client();
        phone
            .call("login", &[("email", "a@example.org"), ("password", PASSWORD)])
            .await;
        assert_eq!(phone.whoami().await.as_deref(), Some("a@example.org"));

        let reply = laptop.call("logout-everywhere", &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(phone.whoami().await, None);
        assert_eq!(laptop.whoami().await, None);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn a_password_reset_works_once_within_the_hour_and_logs_out_everywhere(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
    let mut session = app.signed_in("a@example.org", PASSWORD).await;
    let mut client = app.client();

    // The answer is the same whether the address has an account or not, and only one gets mail.
    let unknown = client
        .call("forgot-password", &[("email", "nobody@example.org")])
        .await;
    let known = client
        .call("forgot-password", &[("email", "A@example.org")])
        .await;
    assert_eq!(
        (unknown.status, unknown.body.as_str()),
        (known.status, known.body.as_str())
    );
    assert!(
        app.outbox
            .sent()
            .iter()
            .all(|mail| mail.to != "nobody@example.org")
    );
    let link = app.outbox.link("a@example.org", "/reset-password");
    let token = app.outbox.token("a@example.org", "/reset-password");
    assert!(link.starts_with("/reset-password?token="), "{link}");

    let reply = client
        .call("reset-password", &[("token", &token), ("password", "short")])
        .await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "a weak password keeps the token"
    );
    let reply = client
        .call("reset-password", &[("token", &token), ("password", NEW_PASSWORD)])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(session.whoami().await, None, "the reset ends the other sessions");

    let reply = client
        .call(
            "reset-password",
            &[("token", &token), ("password", "another fine password")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "a used token is dead");
    assert!(reply.body.contains("invalid, used or expired"), "{}", reply.body);

    let old = client
        .call("login", &[("email", "a@example.org"), ("password", PASSWORD)])
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = client
        .call("login", &[("email", "a@example.org"), ("password", NEW_PASSWORD)])
        .await;
    assert_eq!(new.status, StatusCode::OK);

    // A link older than an hour does nothing.
    client
        .call("forgot-password", &[("email", "a@example.org")])
        .await;
    let token = app.outbox.token("a@example.org", "/reset-password");
    sqlx::query("update users_tokens set inserted_at = now() - interval '61 minutes' where context = 'reset_password'")
        .execute(&app.state.pool)
        .await
        .expect("ages the token");
    let reply = client
        .call(
            "reset-password",
            &[("token", &token), ("password", "yet another password")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    for garbage in ["", "not-base64!", "AAAA"] {
        let reply = client
            .call(
                "reset-password",
                &[("token", garbage), ("password", "yet another password")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{garbage:?}");
    }
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn the_confirmation_link_confirms_the_address_once(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        let mut client = app.signed_in("a@example.org", PASSWORD).await;
        let confirmed = |pool: sqlx::PgPool| async move {
            sqlx::query_scalar::<_, bool>("select confirmed_at is not null from users")
                .fetch_one(&pool)
                .await
                .expect("a user")
        };
        assert!(!confirmed(app.state.pool.clone()).await);
        let token = app.outbox.token("a@example.org", "/confirm-email");
        let reply = app.client().call("confirm-email", &[("token", &token)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(confirmed(app.state.pool.clone()).await);
        let reply = client.call("confirm-email", &[("token", &token)]).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn changing_the_password_needs_the_current_one_and_keeps_only_this_session(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        let mut here = app.signed_in("a@example.org", PASSWORD).await;
        let mut elsewhere = app.client();
        elsewhere
            .call("login", &[("email", "a@example.org"), ("password", PASSWORD)])
            .await;

        let reply = here
            .call(
                "change-password",
                &[
                    ("current_password", "not my password"),
                    ("new_password", NEW_PASSWORD),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        let reply = here
            .call(
                "change-password",
                &[("current_password", PASSWORD), ("new_password", NEW_PASSWORD)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(here.whoami().await.as_deref(), Some("a@example.org"));
        assert_eq!(elsewhere.whoami().await, None);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn changing_the_address_waits_for_the_new_address_to_confirm(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        let mut client = app.signed_in("old@example.org", PASSWORD).await;
        app.signed_in("taken@example.org", PASSWORD).await;

        let reply = client
            .call(
                "change-email",
                &[("current_password", PASSWORD), ("new_email", "Taken@example.org")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::CONFLICT);
        let reply = client
            .call(
                "change-email",
                &[("current_password", PASSWORD), ("new_email", "new@example.org")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            client.whoami().await.as_deref(),
            Some("old@example.org"),
            "unchanged until confirmed"
        );

        let token = app.outbox.token("new@example.org", "/confirm-email");
        let reply = client.call("confirm-email", &[("token", &token)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(client.whoami().await.as_deref(), Some("new@example.org"));

        // The first confirmation link, for the old address, can no longer switch the account back.
        let old_token = app.outbox.token("old@example.org", "/confirm-email");
        let reply = client.call("confirm-email", &[("token", &old_token)]).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        let mut fresh = app.client();
        let reply = fresh
            .call("login", &[("email", "new@example.org"), ("password", PASSWORD)])
            .await;
        assert_eq!(reply.status, StatusCode::OK);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn repeated_log_in_attempts_are_limited_per_account_and_per_address(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        app.signed_in("a@example.org", PASSWORD).await;

        // Per account: from many addresses, the eleventh try in the window is refused, even a right one.
        for attempt in 1..=10 {
            let reply = app
                .client_from(&format!("10.0.0.{attempt}"))
                .call(
                    "login",
                    &[("email", "a@example.org"), ("password", "guess number one")],
                )
                .await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        }
        let reply = app
            .client_from("10.0.1.1")
            .call("login", &[("email", "A@example.org"), ("password", PASSWORD)])
            .await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{}", reply.body);
        assert!(reply.body.contains("Too many attempts"), "{}", reply.body);
        let wait: u64 = reply
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .expect("seconds");
        assert!((1..=15 * 60).contains(&wait), "{wait}");

        // Per address: one client guessing many accounts.
        let mut client = app.client_from("192.0.2.7");
        let mut statuses = Vec::new();
        for n in 0..31 {
            let email = format!("guess{n}@example.org");
            statuses.push(
                client
                    .call("login", &[("email", &email), ("password", PASSWORD)])
                    .await
                    .status,
            );
        }
        assert!(
            statuses[..30]
                .iter()
                .all(|status| *status == StatusCode::UNAUTHORIZED)
        );
        assert_eq!(statuses[30], StatusCode::TOO_MANY_REQUESTS);
        let elsewhere = app
            .client_from("192.0.2.8")
            .call(
                "login",
                &[("email", "guess0@example.org"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(
            elsewhere.status,
            StatusCode::UNAUTHORIZED,
            "other addresses are not affected"
        );
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn a_call_missing_its_arguments_is_the_clients_error(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    TestApp::run(options, connect, async |app| {
        let reply = app.client().call("login", &[("email", "a@example.org")]).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn an_operator_sets_roles_by_email(options: PgPoolOptions, connect: PgConnectOptions) {
    TestApp::run(options, connect, async |app| {
        app.signed_in("first@example.org", PASSWORD).await;
        app.signed_in("dj@example.org", PASSWORD).await;
        let user = server::auth::user::set_role(
            &app.state.pool,
            "DJ@example.org",
            server::auth::Role::PlatformAdmin,
        )
        .await
        .expect("sets the role");
        assert_eq!(user.role, server::auth::Role::PlatformAdmin);
        let missing =
            server::auth::user::set_role(&app.state.pool, "nobody@example.org", server::auth::Role::Admin)
                .await;
        assert!(matches!(missing, Err(server::Error::NotFound)), "{missing:?}");
    })
    .await;
}
