use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokenpair::api::{paths, Revoked, SessionInfo, TokenResponse};

use crate::helpers::{assert_error, browser, spawn_app, TestApp, PASSWORD};

/// One user logged in from two "devices".
async fn two_devices(app: &TestApp) -> (String, (Client, TokenResponse), (Client, TokenResponse)) {
    let (email, first) = app.registered_user().await;
    let phone = browser();
    let second: TokenResponse = app.login_with(&phone, &email, PASSWORD).await.json().await.expect("tokens");
    (email, (app.client.clone(), first), (phone, second))
}

async fn sessions(app: &TestApp, access: &str) -> Vec<SessionInfo> {
    let response = app.client.get(app.url(paths::SESSIONS)).bearer_auth(access).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("sessions")
}

async fn events(app: &TestApp, access: &str) -> Vec<Value> {
    let response = app.client.get(app.url(paths::EVENTS)).bearer_auth(access).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("events")
}

fn sid(token: &str) -> String {
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            token.split('.').nth(1).expect("p"),
        )
        .expect("b64"),
    )
    .expect("json");
    claims["sid"].as_str().expect("sid").to_owned()
}

#[tokio::test]
async fn the_sessions_list_shows_both_devices_and_which_one_is_asking() {
    let app = spawn_app().await;
    let (_, (_, laptop), (_, phone)) = two_devices(&app).await;

    let list = sessions(&app, &laptop.access_token).await;

    assert_eq!(list.len(), 2);
    let current: Vec<_> = list.iter().filter(|s| s.current).map(|s| s.id.clone()).collect();
    assert_eq!(current, [sid(&laptop.access_token)]);
    assert!(list.iter().any(|s| s.id == sid(&phone.access_token)));
    assert!(list.iter().all(|s| s.ip.as_deref() == Some("127.0.0.1") && s.created_at > 0));
}

#[tokio::test]
async fn revoking_a_session_logs_that_device_out_at_its_next_refresh_only() {
    let app = spawn_app().await;
    let (_, (laptop_client, laptop), (phone_client, phone)) = two_devices(&app).await;
    let url = app.url(&format!("{}/{}", paths::SESSIONS, sid(&phone.access_token)));

    let revoked = app.client.delete(&url).bearer_auth(&laptop.access_token).send().await.expect("sent");

    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_error(app.refresh_with(&phone_client).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token")
        .await;
    assert_eq!(app.refresh_with(&laptop_client).await.status(), StatusCode::OK);
    let again = app.client.delete(&url).bearer_auth(&laptop.access_token).send().await.expect("sent");
    assert_error(again, StatusCode::NOT_FOUND, "session_not_found").await;
}

#[tokio::test]
async fn nobody_can_revoke_another_users_session() {
    let app = spawn_app().await;
    let (_, victim) = app.registered_user().await;
    let attacker: TokenResponse =
        app.register_elsewhere(&crate::helpers::unique_email()).await.json().await.expect("tokens");
    let url = app.url(&format!("{}/{}", paths::SESSIONS, sid(&victim.access_token)));

    let response = app.client.delete(&url).bearer_auth(&attacker.access_token).send().await.expect("sent");

    assert_error(response, StatusCode::NOT_FOUND, "session_not_found").await;
    assert_eq!(sessions(&app, &victim.access_token).await.len(), 1);
}

#[tokio::test]
async fn logging_out_other_sessions_keeps_this_one_and_logout_all_ends_every_one() {
    let app = spawn_app().await;
    let (_, (laptop_client, laptop), (phone_client, _)) = two_devices(&app).await;

    let others =
        app.client.post(app.url(paths::LOGOUT_OTHERS)).bearer_auth(&laptop.access_token).send().await;
    let others: Revoked = others.expect("sent").json().await.expect("count");

    assert_eq!(others.revoked, 1);
    assert_eq!(app.refresh_with(&phone_client).await.status(), StatusCode::UNAUTHORIZED);
    let renewed: TokenResponse =
        app.refresh_with(&laptop_client).await.json().await.expect("still logged in");
    let all = app.client.post(app.url(paths::LOGOUT_ALL)).bearer_auth(&renewed.access_token).send().await;
    assert_eq!(all.expect("sent").json::<Revoked>().await.expect("count").revoked, 1);
    assert_eq!(app.refresh_with(&laptop_client).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_revokes_every_other_session() {
    let app = spawn_app().await;
    let (email, (laptop_client, laptop), (phone_client, _)) = two_devices(&app).await;
    let change =
        |current: &str| json!({ "current_password": current, "new_password": "a brand new passphrase" });

    let wrong = app
        .client
        .post(app.url(paths::PASSWORD))
        .bearer_auth(&laptop.access_token)
        .json(&change("nope"))
        .send();
    assert_error(wrong.await.expect("sent"), StatusCode::FORBIDDEN, "invalid_current_password").await;
    let short = json!({ "current_password": PASSWORD, "new_password": "short" });
    let short =
        app.client.post(app.url(paths::PASSWORD)).bearer_auth(&laptop.access_token).json(&short).send();
    let body =
        assert_error(short.await.expect("sent"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["field"], "new_password");
    let weak = json!({ "current_password": PASSWORD, "new_password": "qwertyuiop" });
    let weak = app.client.post(app.url(paths::PASSWORD)).bearer_auth(&laptop.access_token).json(&weak).send();
    let body =
        assert_error(weak.await.expect("sent"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["message"].as_str().is_some_and(|m| m.contains("too easy to guess")), "{body}");

    let changed =
        app.client.post(app.url(paths::PASSWORD)).bearer_auth(&laptop.access_token).json(&change(PASSWORD));
    assert_eq!(changed.send().await.expect("sent").json::<Revoked>().await.expect("count").revoked, 1);

    assert_eq!(
        app.refresh_with(&phone_client).await.status(),
        StatusCode::UNAUTHORIZED,
        "the other session ended"
    );
    assert_eq!(app.refresh_with(&laptop_client).await.status(), StatusCode::OK, "this one goes on");
    assert_eq!(app.login_with(&browser(), &email, PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login_with(&browser(), &email, "a brand new passphrase").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_disabled_user_cannot_refresh() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    tokenpair::db::users::set_disabled(&app.state.db, &tokens.user.id, Some(1)).await.expect("disabled");

    assert_error(app.refresh_with(&app.client).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token")
        .await;
}

#[tokio::test]
async fn security_events_record_what_happened_to_the_account() {
    let app = spawn_app().await;
    let (email, (_, laptop), (_, phone)) = two_devices(&app).await;
    app.login_with(&browser(), &email, "wrong password").await;
    // A failed login is recorded just after its answer (so it cannot slow the answer down).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !events(&app, &laptop.access_token).await.iter().any(|e| e["kind"] == "login_failed") {
        assert!(std::time::Instant::now() < deadline, "the failed login was recorded");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let url = app.url(&format!("{}/{}", paths::SESSIONS, sid(&phone.access_token)));
    app.client.delete(&url).bearer_auth(&laptop.access_token).send().await.expect("sent");

    let events = events(&app, &laptop.access_token).await;

    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["session_revoked", "login_failed", "login", "login", "registered"]);
    assert!(events.iter().all(|e| e["ip"] == "127.0.0.1"));
}

#[tokio::test]
async fn a_refresh_carrying_another_sessions_access_token_is_refused_and_recorded() {
    let app = spawn_app().await;
    let (_, (laptop_client, laptop), (_, phone)) = two_devices(&app).await;

    let mismatched =
        app.refresh_request(&laptop_client).bearer_auth(&phone.access_token).send().await.expect("sent");

    assert!(crate::helpers::refresh_set_cookie(&mismatched).is_none(), "the cookie is left alone");
    assert_error(mismatched, StatusCode::UNAUTHORIZED, "token_pair_mismatch").await;
    let paired =
        app.refresh_request(&laptop_client).bearer_auth(&laptop.access_token).send().await.expect("sent");
    assert_eq!(paired.status(), StatusCode::OK, "its own access token pairs fine");
    let events = events(&app, &laptop.access_token).await;
    assert!(events.iter().any(|e| e["kind"] == "pairing_mismatch"));
}

#[tokio::test]
async fn an_expired_access_token_still_pairs_with_its_refresh_token() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    let sid = sid(&tokens.access_token);
    let an_hour_ago = tokenpair::auth::unix_now() - 3600;
    let expired = app.state.tokens.sign_access(&tokens.user, &sid, None, an_hour_ago).expect("signed");

    let response = app.refresh_request(&app.client).bearer_auth(&expired.token).send().await.expect("sent");

    assert_eq!(response.status(), StatusCode::OK);
}
