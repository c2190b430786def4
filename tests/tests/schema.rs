//! The constraints of the schema (design/schema.md) hold in the real database.

use sqlx::PgPool;
use uuid::Uuid;

async fn migrated(pool: &PgPool) {
    server::db::migrate(pool).await.expect("migrations apply");
}

async fn user(pool: &PgPool, email: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("insert into users (id, email, hashed_password) values ($1, $2, 'x')")
        .bind(id)
        .bind(email)
        .execute(pool)
        .await
        .expect("a user");
    id
}

async fn track(pool: &PgPool, user_id: Uuid, spotify_id: Option<&str>) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into tracks (id, user_id, title, source, spotify_id) values ($1, $2, 'Song', 'spotify', $3)",
    )
    .bind(id)
    .bind(user_id)
    .bind(spotify_id)
    .execute(pool)
    .await?;
    Ok(id)
}

fn violated(result: Result<impl std::fmt::Debug, sqlx::Error>) -> String {
    match result {
        Err(sqlx::Error::Database(err)) => err.constraint().unwrap_or("(unnamed)").to_owned(),
        other => panic!("expected a constraint violation, got {other:?}"),
    }
}

#[sqlx::test(migrations = false)]
async fn migrations_can_run_twice(pool: PgPool) {
    migrated(&pool).await;
    migrated(&pool).await;
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(applied, server::db::MIGRATOR.iter().count() as i64);
}

#[sqlx::test(migrations = false)]
async fn emails_are_unique_whatever_their_case(pool: PgPool) {
    migrated(&pool).await;
    user(&pool, "dj@example.com").await;
    let duplicate =
        sqlx::query("insert into users (id, email, hashed_password) values ($1, 'DJ@Example.COM', 'x')")
            .bind(Uuid::new_v4())
            .execute(&pool)
            .await;
    assert_eq!(violated(duplicate), "users_email_key");
    let role =
        sqlx::query("insert into users (id, email, hashed_password, role) values ($1, 'a@b.c', 'x', 'root')")
            .bind(Uuid::new_v4())
            .execute(&pool)
            .await;
    assert_eq!(violated(role), "users_role_check");
}

#[sqlx::test(migrations = false)]
async fn a_spotify_track_is_unique_per_user_not_globally(pool: PgPool) {
    migrated(&pool).await;
    let first = user(&pool, "one@example.com").await;
    let second = user(&pool, "two@example.com").await;
    track(&pool, first, Some("4uLU6hMCjMI75M1A2tKUQC"))
        .await
        .expect("first import");
    assert_eq!(
        violated(track(&pool, first, Some("4uLU6hMCjMI75M1A2tKUQC")).await),
        "tracks_user_id_spotify_id_key"
    );
    track(&pool, second, Some("4uLU6hMCjMI75M1A2tKUQC"))
        .await
        .expect("another user imports the same song");
    track(&pool, first, None)
        .await
        .expect("uploads have no Spotify id");
    track(&pool, first, None).await.expect("and several may coexist");
}

#[sqlx::test(migrations = false)]
async fn job_rows_keep_progress_and_status_in_range(pool: PgPool) {
    migrated(&pool).await;
    let owner = user(&pool, "p@example.com").await;
    let track_id = track(&pool, owner, None).await.expect("a track");
    for table in ["download_jobs", "analysis_jobs"] {
        let sql = format!(
            "insert into {table} (id, track_id, user_id, progress, status) values ($1, $2, $3, $4, $5)"
        );
        let insert = |progress: i32, status: &'static str| {
            sqlx::query(&sql)
                .bind(Uuid::new_v4())
                .bind(track_id)
                .bind(owner)
                .bind(progress)
                .bind(status)
                .execute(&pool)
        };
        insert(100, "completed").await.expect("in range");
        assert_eq!(
            violated(insert(101, "queued").await),
            format!("{table}_progress_check")
        );
        assert_eq!(
            violated(insert(-1, "queued").await),
            format!("{table}_progress_check")
        );
        assert_eq!(
            violated(insert(0, "running").await),
            format!("{table}_status_check")
        );
    }
}

#[sqlx::test(migrations = false)]
async fn stems_are_one_per_kind_per_job_and_go_with_their_track(pool: PgPool) {
    migrated(&pool).await;
    let owner = user(&pool, "s@example.com").await;
    let track_id = track(&pool, owner, None).await.expect("a track");
    let job = Uuid::new_v4();
    sqlx::query("insert into processing_jobs (id, track_id, user_id, model) values ($1, $2, $3, 'htdemucs')")
        .bind(job)
        .bind(track_id)
        .bind(owner)
        .execute(&pool)
        .await
        .expect("a job");
    let stem = |kind: &'static str| {
        sqlx::query(
            "insert into stems (id, processing_job_id, track_id, stem_type, file_path) values ($1, $2, $3, $4, 'k')",
        )
        .bind(Uuid::new_v4())
        .bind(job)
        .bind(track_id)
        .bind(kind)
        .execute(&pool)
    };
    stem("vocals").await.expect("a stem");
    stem("synth_lead").await.expect("the cloud engine's kinds");
    assert_eq!(
        violated(stem("vocals").await),
        "stems_processing_job_id_stem_type_key"
    );
    assert_eq!(violated(stem("../x").await), "stems_stem_type_check");

    sqlx::query("delete from tracks where id = $1")
        .bind(track_id)
        .execute(&pool)
        .await
        .expect("deleted");
    let left: i64 = sqlx::query_scalar("select count(*) from stems")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(left, 0);
}

#[sqlx::test(migrations = false)]
async fn updated_at_moves_on_update(pool: PgPool) {
    migrated(&pool).await;
    let id = user(&pool, "t@example.com").await;
    let (inserted, updated): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("update users set role = 'admin' where id = $1 returning inserted_at, updated_at")
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("updated");
    assert!(updated > inserted, "{updated} should be after {inserted}");
}
