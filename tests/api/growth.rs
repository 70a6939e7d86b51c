//! A database that stays small: bounded token chains and routine events per session, User-Agents
//! cut to 256 characters, bounded lists, and the retention job (`src/db/retention.rs`).

use reqwest::StatusCode;
use serde_json::Value;
use tokenpair::api::{paths, TokenResponse};
use tokenpair::db::retention::{self, Retention};

use crate::helpers::{refresh_token_of, spawn_app, TestApp};

/// The bytes the database's tables and indexes take (SQLite: after a WAL checkpoint).
async fn database_bytes(app: &TestApp) -> i64 {
    let pool = &app.state.db;
    if app.database.is_postgres() {
        sqlx::query_scalar("SELECT CAST(pg_database_size(current_database()) AS BIGINT)")
            .fetch_one(pool)
            .await
    } else {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await.expect("checkpoint");
        sqlx::query_scalar("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
            .fetch_one(pool)
            .await
    }
    .expect("database size")
}

async fn vacuum_if_postgres(app: &TestApp) {
    if app.database.is_postgres() {
        // What autovacuum does by itself a minute later: mark the space of deleted rows reusable.
        sqlx::query("VACUUM").execute(&app.state.db).await.expect("vacuum");
    }
}

#[tokio::test]
async fn a_thousand_refreshes_of_one_session_grow_the_database_by_less_than_64_kb() {
    let app = spawn_app().await;
    app.registered_user().await;
    for _ in 0..50 {
        assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK);
    }
    vacuum_if_postgres(&app).await;
    let before = database_bytes(&app).await;

    for round in 0..10 {
        for _ in 0..100 {
            assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK, "round {round}");
        }
        vacuum_if_postgres(&app).await;
    }

    let grown = database_bytes(&app).await - before;
    println!("1000 refreshes grew the database by {grown} bytes");
    assert!(grown < 64 * 1024, "grew by {grown} bytes");
}

#[tokio::test]
async fn a_huge_user_agent_is_cut_and_the_events_list_stays_small() {
    let app = spawn_app().await;
    let huge = "Mozilla/5.0 ".repeat(25_000); // 300 KB
    let (_, _) = app.registered_user().await;
    let mut token = String::new();
    for _ in 0..20 {
        let refreshed =
            app.refresh_request(&app.client).header("user-agent", &huge).send().await.expect("sent");
        token = refreshed.json::<TokenResponse>().await.expect("renewed").access_token;
    }

    let events = app.client.get(app.url(paths::EVENTS)).bearer_auth(&token).send().await.expect("sent");
    let events = events.bytes().await.expect("body");
    let parsed: Value = serde_json::from_slice(&events).expect("json");

    assert!(events.len() < 64 * 1024, "GET /api/auth/events answered {} bytes", events.len());
    let user_agent = parsed[0]["user_agent"].as_str().expect("a user agent");
    assert_eq!(user_agent.chars().count(), 256);
}

#[tokio::test]
async fn the_chain_keeps_twenty_tokens_in_order_and_a_pruned_one_is_still_reuse() {
    let app = spawn_app().await;
    let registered = app.register(&crate::helpers::unique_email(), crate::helpers::PASSWORD).await;
    let first = refresh_token_of(&registered).expect("the first refresh token");
    let mut token = String::new();
    for _ in 0..30 {
        token =
            app.refresh_with(&app.client).await.json::<TokenResponse>().await.expect("renewed").access_token;
    }

    let chain: Value = app
        .client
        .get(app.url("/api/auth/sessions/current/chain"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let links = chain["tokens"].as_array().expect("tokens");

    assert!((20..=22).contains(&links.len()), "{} tokens kept", links.len());
    for pair in links.windows(2) {
        assert_eq!(pair[1]["parent_prefix"], pair[0]["jti_prefix"], "linked in order");
    }
    let routine = chain["decisions"].as_array().expect("decisions").len();
    assert!(routine <= 21, "{routine} decisions");
    let replayed = app.refresh_presenting(&first).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::UNAUTHORIZED, "reuse revoked it");
}

#[tokio::test]
async fn retention_deletes_ended_sessions_and_old_events_and_keeps_the_rest() {
    let app = spawn_app().await;
    let (_, me) = app.registered_user().await;
    let old_client = crate::helpers::browser();
    let (email, _) = (crate::helpers::unique_email(), ());
    assert_eq!(app.register_with(&old_client, &email).await, StatusCode::CREATED);
    assert_eq!(app.logout_with(&old_client).await.status(), StatusCode::NO_CONTENT);
    let a_year = 365 * 86_400;
    let pool = &app.state.db;
    sqlx::query("UPDATE sessions SET revoked_at = revoked_at - $1 WHERE revoked_at IS NOT NULL")
        .bind(a_year)
        .execute(pool)
        .await
        .expect("age the ended session");
    sqlx::query("UPDATE security_events SET created_at = created_at - $1 WHERE kind = 'logout'")
        .bind(a_year)
        .execute(pool)
        .await
        .expect("age an event");
    sqlx::query("UPDATE revocations SET at = at - $1").bind(a_year).execute(pool).await.expect("age");
    let retention = Retention {
        sessions: std::time::Duration::from_secs(30 * 86_400),
        events: std::time::Duration::from_secs(90 * 86_400),
        revocations: std::time::Duration::from_secs(905),
    };

    let deleted = retention::run(pool, retention, tokenpair::auth::unix_now()).await.expect("ran");
    let again = retention::run(pool, retention, tokenpair::auth::unix_now()).await.expect("ran again");

    assert_eq!((deleted.sessions, deleted.events, deleted.revocations), (1, 1, 1));
    assert_eq!((again.sessions, again.events, again.revocations), (0, 0, 0), "idempotent");
    let tokens: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM refresh_tokens").fetch_one(pool).await.expect("count");
    assert_eq!(tokens, 1, "the ended session's token went with it; the live one stays");
    let sessions =
        app.client.get(app.url(paths::SESSIONS)).bearer_auth(&me.access_token).send().await.expect("sent");
    assert_eq!(sessions.json::<Value>().await.expect("json").as_array().map(Vec::len), Some(1));
}
