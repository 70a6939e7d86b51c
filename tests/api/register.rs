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
    // 7 characters, 14 bytes: too short. 128 characters, 384 bytes: not too long.
    let short = app.register(&unique_email(), "éàüöçñß").await;
    let body = assert_error(short, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["message"].as_str().is_some_and(|m| m.contains("at least 8")), "{body}");
    let ideographs: String = (0..128).filter_map(|i| char::from_u32(0x4E00 + i * 7)).collect();
    assert_eq!(ideographs.len(), 384);
    assert_eq!(app.register(&unique_email(), &ideographs).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn guessable_passwords_are_422_saying_why() {
    let app = spawn_app().await;
    let email = unique_email();
    let local_part = email.split('@').next().expect("a local part").to_owned();
    for weak in ["password123", "qwertyuiop", local_part.as_str()] {
        let body = assert_error(
            app.register(&email, weak).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(body["field"], "password");
        assert!(body["message"].as_str().is_some_and(|m| m.contains("too easy to guess")), "{body}");
    }
    assert_eq!(
        app.register(&email, PASSWORD).await.status(),
        StatusCode::CREATED,
        "nothing was created before"
    );
}
