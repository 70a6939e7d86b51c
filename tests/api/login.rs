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

#[tokio::test]
async fn a_failed_login_for_an_unknown_address_is_recorded_for_no_account_and_without_the_address() {
    let app = spawn_app().await;
    let email = unique_email();
    app.login_with(&browser(), &email, PASSWORD).await;

    // Recorded just after the answer, as a wrong password is: the same write follows both.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let (user_id, detail, ip) = loop {
        let row: Option<(Option<String>, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT user_id, detail, ip FROM security_events WHERE kind = 'login_failed'")
                .fetch_optional(&app.state.db)
                .await
                .expect("events read");
        if let Some(row) = row {
            break row;
        }
        assert!(std::time::Instant::now() < deadline, "the failed login was recorded");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(user_id, None, "no account");
    assert_eq!(detail.as_deref(), Some("no account has this address"));
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    let stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM security_events WHERE detail LIKE '%' || $1 || '%' OR user_agent LIKE '%' || $1 || '%'",
    )
    .bind(&email)
    .fetch_one(&app.state.db)
    .await
    .expect("counted");
    assert_eq!(stored, 0, "the address typed is not kept (it may be a password typed in the wrong field)");
}
