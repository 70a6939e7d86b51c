use reqwest::StatusCode;

use crate::helpers::{
    assert_error, browser, refresh_set_cookie, refresh_token_of, spawn_app, unique_email, PASSWORD,
};

#[tokio::test]
async fn logging_out_revokes_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    app.registered_user().await;

    let response = app.logout_with(&app.client).await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let removal = refresh_set_cookie(&response).expect("a removal cookie");
    assert!(removal.contains("Max-Age=0") && removal.contains("Secure"), "{removal}");
    assert_eq!(
        response.headers().get("clear-site-data").and_then(|v| v.to_str().ok()),
        Some(r#""cache", "storage""#)
    );
    assert_error(app.refresh_with(&app.client).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token")
        .await;
}

#[tokio::test]
async fn a_revoked_session_stays_revoked_even_with_a_kept_copy_of_the_token() {
    let app = spawn_app().await;
    let registered = app.register(&unique_email(), PASSWORD).await;
    let token = refresh_token_of(&registered).expect("cookie");
    app.logout_with(&app.client).await;

    let replay = app.refresh_presenting(&token).await;

    assert_error(replay, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

#[tokio::test]
async fn logging_out_without_a_session_still_succeeds() {
    let app = spawn_app().await;
    let response = app.logout_with(&browser()).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}
