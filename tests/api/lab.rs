use reqwest::StatusCode;
use serde_json::Value;
use tokenpair::api::{CSRF_HEADER, CSRF_HEADER_VALUE};

use crate::helpers::{refresh_token_of, spawn_app, spawn_app_with, unique_email, TestApp, PASSWORD};

#[tokio::test]
async fn without_lab_mode_the_lab_endpoints_do_not_exist() {
    let app = spawn_app().await;
    app.registered_user().await;
    let status: Value =
        app.client.get(app.url("/api/lab")).send().await.expect("sent").json().await.expect("json");
    assert_eq!(status["enabled"], false);
    for path in ["/api/auth/lab/copy-cookie", "/api/auth/lab/replay", "/api/lab/forge"] {
        let response = app.client.post(app.url(path)).header(CSRF_HEADER, CSRF_HEADER_VALUE).send().await;
        assert_eq!(response.expect("sent").status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        app.client.get(app.url("/lab/attacker")).send().await.expect("sent").status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn in_lab_mode_the_page_can_copy_its_cookie_and_a_replay_is_caught() {
    let app = spawn_app_with(&[("TOKENPAIR_LAB", "1"), ("REFRESH_REUSE_GRACE", "0")]).await;
    let registered = app.register(&unique_email(), PASSWORD).await;
    let cookie = refresh_token_of(&registered).expect("cookie");

    let copied = lab_post(&app, "/api/auth/lab/copy-cookie", &Value::Null).await;
    assert_eq!(copied["refresh_token"], cookie.as_str());

    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK);
    let replay = lab_post(&app, "/api/auth/lab/replay", &copied).await;
    assert_eq!(replay["status"], 401);
    assert_eq!(
        app.refresh_with(&app.client).await.status(),
        StatusCode::UNAUTHORIZED,
        "the session is revoked"
    );
}

/// A lab call as the lab page makes it, from the user's browser.
async fn lab_post(app: &TestApp, path: &str, body: &Value) -> Value {
    let request = app.client.post(app.url(path)).header(CSRF_HEADER, CSRF_HEADER_VALUE);
    let request = if body.is_null() { request } else { request.json(body) };
    request.send().await.expect("sent").json().await.expect("json")
}

#[tokio::test]
async fn the_lab_replay_reports_what_the_refresh_decided_not_one_verdict_for_every_refusal() {
    let app = spawn_app_with(&[("TOKENPAIR_LAB", "1"), ("REFRESH_REUSE_GRACE", "0")]).await;
    app.register(&unique_email(), PASSWORD).await;
    let copied = lab_post(&app, "/api/auth/lab/copy-cookie", &Value::Null).await;

    let garbage =
        lab_post(&app, "/api/auth/lab/replay", &serde_json::json!({ "refresh_token": "x.y.z" })).await;
    assert_eq!((garbage["status"].as_u64(), garbage["outcome"].as_str()), (Some(401), Some("invalid_token")));

    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK);
    let reuse = lab_post(&app, "/api/auth/lab/replay", &copied).await;
    assert_eq!(reuse["outcome"], "reuse_detected", "{reuse}");
    let again = lab_post(&app, "/api/auth/lab/replay", &copied).await;
    assert_eq!(again["outcome"], "session_revoked", "the session is already revoked: {again}");
}
