//! Several stateless instances sharing one database (PostgreSQL in production; the same tests
//! run on a shared SQLite file in the SQLite pass): any instance verifies any other's tokens,
//! refreshes anywhere, and catches a replayed refresh token wherever it is presented.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokenpair::api::{paths, TokenResponse};
use tokenpair::auth::keys;

use crate::helpers::{
    activate_key_now, assert_error, browser, owned, refresh_token_of, spawn_app, spawn_app_on,
    spawn_app_with, tally_rotations, unique_email, TestApp, TestDatabase, PASSWORD,
};

async fn sessions_seen_by(app: &TestApp, access: &str) -> Value {
    let response = app.plain.get(app.url(paths::SESSIONS)).bearer_auth(access).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("sessions")
}

async fn jwks_kids(app: &TestApp) -> HashSet<String> {
    let jwks: Value =
        app.plain.get(app.url(paths::JWKS)).send().await.expect("sent").json().await.expect("jwks");
    let keys = jwks["keys"].as_array().expect("keys");
    keys.iter().filter_map(|key| key["kid"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn log_in_on_one_instance_refresh_on_another_and_a_replay_is_caught_on_the_first() {
    let a = spawn_app_with(&[("REFRESH_REUSE_GRACE", "0")]).await;
    let b = a.another_instance().await;
    let email = unique_email();
    let registered = a.register(&email, PASSWORD).await;
    let first = refresh_token_of(&registered).expect("cookie");
    let on_a: TokenResponse = registered.json().await.expect("tokens");
    let phone: TokenResponse = b.login_with(&b.client, &email, PASSWORD).await.json().await.expect("tokens");

    let refreshed = b.refresh_presenting(&first).await;
    assert_eq!(refreshed.status(), StatusCode::OK, "a session from A refreshes on B");
    let second = refresh_token_of(&refreshed).expect("rotated cookie");
    let on_b: TokenResponse = refreshed.json().await.expect("tokens");
    assert_eq!(a.me(&on_b.access_token).await.status(), StatusCode::OK, "B's token verifies on A");
    assert_eq!(b.me(&on_a.access_token).await.status(), StatusCode::OK, "A's token verifies on B");
    assert_eq!(
        sessions_seen_by(&a, &phone.access_token).await,
        sessions_seen_by(&b, &phone.access_token).await,
        "both instances list the same sessions"
    );

    assert_error(a.refresh_presenting(&first).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    assert_error(b.refresh_presenting(&second).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token")
        .await;
    let listed = sessions_seen_by(&b, &phone.access_token).await;
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "the replayed session is revoked everywhere: {listed}"
    );
}

#[tokio::test]
async fn concurrent_refreshes_spread_over_two_instances_rotate_each_session_exactly_once() {
    const SESSIONS: usize = 100;
    const CONCURRENT: usize = 10;
    let a = spawn_app().await;
    let b = a.another_instance().await;
    let mut tokens = Vec::new();
    for _ in 0..SESSIONS {
        tokens.push(refresh_token_of(&a.register_elsewhere(&unique_email()).await).expect("cookie"));
    }

    let instances = [&a, &b];
    let requests = tokens.iter().flat_map(|token| {
        (0..CONCURRENT).map(move |i| instances[i % instances.len()].refresh_presenting(token))
    });
    let tally = tally_rotations(&futures::future::join_all(requests).await, CONCURRENT);

    assert_eq!((tally.double_issued, tally.errors), (0, 0), "double-issued children, failed refreshes");
    for (i, token) in tally.children.iter().enumerate() {
        let status = instances[i % 2].refresh_presenting(token).await.status();
        assert_eq!(status, StatusCode::OK, "no session was revoked");
    }
}

#[tokio::test]
async fn instances_starting_together_on_an_empty_database_create_exactly_one_key() {
    let database = Arc::new(TestDatabase::new().await);
    let starting = (0..4).map(|_| spawn_app_on(Arc::clone(&database), owned(&[])));
    let instances = futures::future::join_all(starting).await;

    let first = jwks_kids(&instances[0]).await;
    assert_eq!(first.len(), 1, "one key: {first:?}");
    for instance in &instances[1..] {
        assert_eq!(jwks_kids(instance).await, first, "every instance signs and verifies with it");
    }
}

#[tokio::test]
async fn a_key_rotated_through_one_instance_is_known_to_the_others_before_it_signs() {
    let a = spawn_app().await;
    let b = a.another_instance().await;
    let (email, _) = a.registered_user().await;

    let (new_kid, activates_at) =
        keys::rotate(&a.state.db, a.state.tokens.keys.cipher(), Duration::from_secs(604_800))
            .await
            .expect("rotated");
    // Each instance reloads the ring every RELOAD_INTERVAL, well inside ACTIVATION_DELAY (a
    // compile-time check in src/auth/keys.rs); here B's next reload happens at once.
    b.state.tokens.keys.reload(&b.state.db).await.expect("B reloads");
    assert!(jwks_kids(&b).await.contains(&new_kid), "B publishes the new key before it signs");
    a.state.tokens.keys.reload(&a.state.db).await.expect("A reloads");
    let before: TokenResponse =
        a.login_with(&browser(), &email, PASSWORD).await.json().await.expect("tokens");
    let kid = jsonwebtoken::decode_header(&before.access_token).expect("header").kid;
    assert_ne!(kid.as_deref(), Some(new_kid.as_str()), "nothing signs with it until {activates_at}");

    // The delay has passed (moved here, not waited for): A signs with the new key, B verifies.
    activate_key_now(&a, &new_kid).await;
    a.state.tokens.keys.reload(&a.state.db).await.expect("A reloads");
    let after: TokenResponse = a.login_with(&browser(), &email, PASSWORD).await.json().await.expect("tokens");
    assert_eq!(jsonwebtoken::decode_header(&after.access_token).expect("header").kid, Some(new_kid));
    assert_eq!(b.me(&after.access_token).await.status(), StatusCode::OK);
    assert_eq!(b.me(&before.access_token).await.status(), StatusCode::OK, "the old key still verifies");
}
