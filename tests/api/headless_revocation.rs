//! Headless revocation: `GET /api/me` answers from the token and the in-memory revocation set
//! alone, and still refuses a revoked session's token at once, on the instance that revoked it
//! before it answers, on the others within a second (PostgreSQL `NOTIFY`), and within 16 s when
//! the notifications are lost (the periodic catch-up), or at start-up.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokenpair::api::{paths, TokenResponse};
use tokenpair::auth::{revocation_feed, unix_now};

use crate::helpers::{
    assert_error, browser, owned, spawn_app, spawn_app_on, TestApp, TestDatabase, PASSWORD,
};
use crate::support::LinkProxy;

async fn log_out_everywhere(app: &TestApp, access: &str) {
    let response = app.plain.post(app.url(paths::LOGOUT_ALL)).bearer_auth(access).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn me_refuses_a_logged_out_sessions_token_at_once_even_when_it_was_cached() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    assert_eq!(app.me(&tokens.access_token).await.status(), StatusCode::OK, "verified, and remembered");

    assert_eq!(app.logout_with(&app.client).await.status(), StatusCode::NO_CONTENT);

    let refused = app.me(&tokens.access_token).await;
    let challenge =
        refused.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(challenge.as_deref(), Some(r#"Bearer error="invalid_token""#));
    assert_error(refused, StatusCode::UNAUTHORIZED, "session_revoked").await;
    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::UNAUTHORIZED, "as before");
}

#[tokio::test]
async fn after_a_password_change_every_older_token_is_refused_and_a_refresh_brings_a_good_one() {
    let app = spawn_app().await;
    let (email, owner) = app.registered_user().await;
    let thief: TokenResponse =
        app.login_with(&browser(), &email, PASSWORD).await.json().await.expect("tokens");
    // Tokens carry whole seconds: the change happens in a later second than they were issued.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let change = json!({ "current_password": PASSWORD, "new_password": "a brand new passphrase" });
    let changed = app.plain.post(app.url(paths::PASSWORD)).bearer_auth(&owner.access_token).json(&change);
    assert_eq!(changed.send().await.expect("sent").status(), StatusCode::OK);

    assert_error(app.me(&thief.access_token).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    let older = app.me(&owner.access_token).await;
    assert_error(older, StatusCode::UNAUTHORIZED, "session_revoked").await;
    let renewed = app.refresh_with(&app.client).await;
    assert_eq!(renewed.status(), StatusCode::OK, "the session that changed the password goes on");
    let renewed: TokenResponse = renewed.json().await.expect("tokens");
    assert_eq!(app.me(&renewed.access_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_disabled_user_is_refused_by_me_after_the_next_catch_up() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    assert_eq!(app.me(&tokens.access_token).await.status(), StatusCode::OK);

    // Disabled by an operator's own statement: the trigger records it, the catch-up reads it.
    let disabled = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
        .bind(unix_now())
        .bind(&tokens.user.id)
        .execute(&app.state.db)
        .await;
    assert_eq!(disabled.expect("disabled").rows_affected(), 1);
    revocation_feed::catch_up(&app.state.tokens, &app.state.db).await.expect("caught up");

    assert_error(app.me(&tokens.access_token).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
}

#[tokio::test]
async fn an_instance_started_after_a_revocation_refuses_the_token_from_its_first_request() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    log_out_everywhere(&app, &tokens.access_token).await;

    let started_later = app.another_instance().await;

    assert_error(started_later.me(&tokens.access_token).await, StatusCode::UNAUTHORIZED, "session_revoked")
        .await;
    assert_eq!(started_later.state.tokens.revoked.len(), 1);
}

#[tokio::test]
async fn another_instance_refuses_a_token_revoked_on_the_first_within_a_second() {
    let a = spawn_app().await;
    if !a.database.is_postgres() {
        eprintln!("skipped: instances tell each other through PostgreSQL (set TEST_POSTGRES_URL)");
        return;
    }
    let b = a.another_instance().await;
    let (_, tokens) = a.registered_user().await;
    assert_eq!(b.me(&tokens.access_token).await.status(), StatusCode::OK, "B verified it, and remembers");

    log_out_everywhere(&a, &tokens.access_token).await;

    let (took, refused) = b.until_me_refuses(&tokens.access_token, Duration::from_secs(1)).await;
    assert_error(refused, StatusCode::UNAUTHORIZED, "session_revoked").await;
    eprintln!("revoked on A, refused on B after {took:?}");
}

#[tokio::test]
async fn with_the_notifications_cut_the_periodic_catch_up_refuses_the_token_within_sixteen_seconds() {
    let database = Arc::new(TestDatabase::new().await);
    let Some((proxy, through_proxy)) = LinkProxy::in_front_of(&database).await else {
        eprintln!("skipped: notifications need PostgreSQL (set TEST_POSTGRES_URL)");
        return;
    };
    let a = spawn_app_on(Arc::clone(&database), Vec::new()).await;
    let b = spawn_app_on(Arc::clone(&database), owned(&[("DATABASE_LISTEN_URL", &through_proxy)])).await;
    let (_, tokens) = a.registered_user().await;
    assert_eq!(b.me(&tokens.access_token).await.status(), StatusCode::OK);
    proxy.cut();

    log_out_everywhere(&a, &tokens.access_token).await;

    let (took, refused) = b.until_me_refuses(&tokens.access_token, Duration::from_secs(16)).await;
    assert_error(refused, StatusCode::UNAUTHORIZED, "session_revoked").await;
    eprintln!("with B's listener cut off, refused on B after {took:?}");
}
