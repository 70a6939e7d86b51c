use reqwest::StatusCode;
use serde_json::Value;
use tokenpair::api::TokenResponse;

use crate::helpers::{assert_error, browser, refresh_set_cookie, spawn_app, unique_email, PASSWORD};

#[tokio::test]
async fn logging_in_returns_a_token_for_the_user_and_the_refresh_cookie() {
    let app = spawn_app().await;
    let (email, registered) = app.registered_user().await;
    let client = browser();

    let response = app.login_with(&client, &email.to_uppercase(), PASSWORD).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(refresh_set_cookie(&response).is_some());
    let body: TokenResponse = response.json().await.expect("token response");
    assert_eq!(body.user, registered.user);
    assert_eq!(body.token_type, "Bearer");
    let me: Value = app.me(&body.access_token).await.json().await.expect("JSON");
    assert_eq!(me["email"], email.as_str());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = spawn_app().await;
    let (email, _) = app.registered_user().await;

    let wrong_password = app.login_with(&browser(), &email, "not the password").await;
    let unknown_email = app.login_with(&browser(), &unique_email(), PASSWORD).await;

    assert!(refresh_set_cookie(&wrong_password).is_none());
    let first = assert_error(wrong_password, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let second = assert_error(unknown_email, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(first, second, "nothing tells the two apart");
}

#[tokio::test]
async fn a_malformed_email_at_login_is_just_invalid_credentials() {
    let app = spawn_app().await;
    let response = app.login_with(&browser(), "nobody", PASSWORD).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}
