use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_error, refresh_set_cookie, spawn_app, unique_email, PASSWORD};

#[tokio::test]
async fn registering_returns_201_an_access_token_and_the_refresh_cookie() {
    let app = spawn_app().await;
    let email = unique_email();

    let response = app.register(&email, PASSWORD).await;

    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(refresh_set_cookie(&response).is_some(), "refresh cookie set");
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["email"], email.as_str());
    assert!(body["user"]["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(body["access_token"].as_str().map(|t| t.split('.').count()), Some(3), "a JWT");
    assert!(body.get("refresh_token").is_none(), "the refresh token travels only in the cookie");
}

#[tokio::test]
async fn registering_a_taken_email_is_409_whatever_its_case() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email, PASSWORD).await;

    let response = app.register(&format!("  {}", email.to_uppercase()), PASSWORD).await;

    assert_error(response, StatusCode::CONFLICT, "email_taken").await;
}

#[tokio::test]
async fn each_invalid_field_is_422_naming_the_field_and_the_reason() {
    let app = spawn_app().await;
    let cases = [
        ("not-an-email", PASSWORD.to_owned(), "email", "valid email"),
        ("", PASSWORD.to_owned(), "email", "valid email"),
        ("a@b@c.com", PASSWORD.to_owned(), "email", "valid email"),
        ("ok@example.com", "short".to_owned(), "password", "at least 8"),
        ("ok@example.com", "x".repeat(129), "password", "at most 128"),
    ];
    for (email, password, field, reason) in cases {
        let response = app.register(email, &password).await;
        let body = assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(body["field"], field, "field for {email:?}/{} chars", password.len());
        assert!(body["message"].as_str().is_some_and(|m| m.contains(reason)), "reason in {body}");
    }
}

#[tokio::test]
async fn password_length_counts_characters_not_bytes() {
    let app = spawn_app().await;
    // 8 characters, 16 bytes: long enough. 128 characters, 384 bytes: not too long.
    assert_eq!(app.register(&unique_email(), &"é".repeat(8)).await.status(), StatusCode::CREATED);
    assert_eq!(app.register(&unique_email(), &"€".repeat(128)).await.status(), StatusCode::CREATED);
}
