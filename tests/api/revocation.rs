//! Revocation that bites: an access token whose session has ended is refused by every endpoint
//! that reads or writes the database for its bearer, although it still passes a headless check.

use reqwest::{Client, Method, StatusCode};
use serde_json::json;
use tokenpair::api::{paths, Revoked, TokenResponse};

use crate::helpers::{assert_error, browser, refresh_token_of, spawn_app, TestApp, PASSWORD};

/// Every endpoint that acts on the database for the bearer, as (method, path, JSON body).
fn database_endpoints(own_session: &str) -> Vec<(Method, String, Option<serde_json::Value>)> {
    let change = json!({ "current_password": PASSWORD, "new_password": "a brand new passphrase" });
    vec![
        (Method::GET, paths::SESSIONS.to_owned(), None),
        (Method::GET, paths::EVENTS.to_owned(), None),
        (Method::GET, paths::CHAIN.to_owned(), None),
        (Method::POST, paths::LOGOUT_OTHERS.to_owned(), None),
        (Method::POST, paths::LOGOUT_ALL.to_owned(), None),
        (Method::DELETE, format!("{}/{own_session}", paths::SESSIONS), None),
        (Method::POST, paths::PASSWORD.to_owned(), Some(change)),
    ]
}

async fn call(
    app: &TestApp,
    access: &str,
    (method, path, body): &(Method, String, Option<serde_json::Value>),
) -> reqwest::Response {
    let request = app.plain.request(method.clone(), app.url(path)).bearer_auth(access);
    let request = match body {
        Some(body) => request.json(body),
        None => request,
    };
    request.send().await.expect("sent")
}

/// Asserts that every database endpoint refuses `access` as a revoked session's.
async fn assert_refused_everywhere(app: &TestApp, access: &str) {
    for endpoint in database_endpoints(&session_of(access)) {
        let response = call(app, access, &endpoint).await;
        let challenge =
            response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(
            challenge.as_deref(),
            Some(r#"Bearer error="invalid_token""#),
            "{} {}",
            endpoint.0,
            endpoint.1
        );
        assert_error(response, StatusCode::UNAUTHORIZED, "session_revoked").await;
    }
}

fn session_of(access: &str) -> String {
    let payload = access.split('.').nth(1).expect("a payload");
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).expect("base64");
    let claims: serde_json::Value = serde_json::from_slice(&bytes).expect("claims");
    claims["sid"].as_str().expect("sid").to_owned()
}

#[tokio::test]
async fn after_logout_the_access_token_reads_and_changes_nothing() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    assert_eq!(app.logout_with(&app.client).await.status(), StatusCode::NO_CONTENT);

    assert_refused_everywhere(&app, &tokens.access_token).await;
}

#[tokio::test]
async fn a_disabled_users_access_token_reads_and_changes_nothing() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    tokenpair::db::users::set_disabled(&app.state.db, &tokens.user.id, Some(1)).await.expect("disabled");

    assert_refused_everywhere(&app, &tokens.access_token).await;
}

#[tokio::test]
async fn after_a_password_change_a_thiefs_token_cannot_log_the_owner_out() {
    let app = spawn_app().await;
    let (email, owner) = app.registered_user().await;
    let thief_browser = browser();
    let thief: TokenResponse =
        app.login_with(&thief_browser, &email, PASSWORD).await.json().await.expect("tokens");
    let change = json!({ "current_password": PASSWORD, "new_password": "a brand new passphrase" });
    let changed = app.plain.post(app.url(paths::PASSWORD)).bearer_auth(&owner.access_token).json(&change);
    assert_eq!(changed.send().await.expect("sent").status(), StatusCode::OK);

    assert_refused_everywhere(&app, &thief.access_token).await;
    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK, "the owner is still logged in");
}

#[tokio::test]
async fn a_live_session_with_nothing_to_act_on_gets_an_empty_answer_not_401() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    let client: &Client = &app.plain;

    let others = client.post(app.url(paths::LOGOUT_OTHERS)).bearer_auth(&tokens.access_token).send().await;
    assert_eq!(others.expect("sent").json::<Revoked>().await.expect("count").revoked, 0);
    let unknown = format!("{}/{}", paths::SESSIONS, uuid::Uuid::new_v4());
    let missing = client.delete(app.url(&unknown)).bearer_auth(&tokens.access_token).send().await;
    assert_error(missing.expect("sent"), StatusCode::NOT_FOUND, "session_not_found").await;
}

#[tokio::test]
async fn a_new_login_in_the_same_browser_ends_the_session_its_cookie_named() {
    let app = spawn_app().await;
    let email = crate::helpers::unique_email();
    let body = json!({ "email": email, "password": PASSWORD });
    let registered = app.post_json(&app.client, paths::REGISTER, &body).await;
    let first = refresh_token_of(&registered).expect("a refresh cookie");
    let first_access: TokenResponse = registered.json().await.expect("tokens");

    let wrong = app.login_with(&app.client, &email, "not the password at all").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let list = app.plain.get(app.url(paths::SESSIONS)).bearer_auth(&first_access.access_token).send().await;
    assert_eq!(list.expect("sent").status(), StatusCode::OK, "a failed login ends nothing");

    let again: TokenResponse =
        app.login_with(&app.client, &email, PASSWORD).await.json().await.expect("tokens");
    assert_error(app.refresh_presenting(&first).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token")
        .await;
    let list = app.plain.get(app.url(paths::SESSIONS)).bearer_auth(&again.access_token).send().await;
    let list: Vec<serde_json::Value> = list.expect("sent").json().await.expect("sessions");
    assert_eq!(list.len(), 1, "one browser, one session: {list:?}");

    // Registering another account in this browser ends this one's session too.
    let second = refresh_token_of(&app.login_with(&app.client, &email, PASSWORD).await).expect("cookie");
    assert_eq!(app.register_with(&app.client, &crate::helpers::unique_email()).await, StatusCode::CREATED);
    assert_eq!(app.refresh_presenting(&second).await.status(), StatusCode::UNAUTHORIZED);
    let events = app.plain.get(app.url(paths::EVENTS)).bearer_auth(&again.access_token).send().await;
    assert_eq!(
        events.expect("sent").status(),
        StatusCode::UNAUTHORIZED,
        "that token's session ended at the login"
    );
}
