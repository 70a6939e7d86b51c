use reqwest::StatusCode;
use tokenpair::api::TokenResponse;
use tokenpair::auth::tokens::RefreshClaims;

use crate::helpers::{
    assert_error, browser, refresh_set_cookie, refresh_token_of, spawn_app, spawn_app_with, unique_email,
    PASSWORD,
};

#[tokio::test]
async fn refreshing_rotates_both_tokens() {
    let app = spawn_app().await;
    let email = unique_email();
    let registered = app.register(&email, PASSWORD).await;
    let first_refresh = refresh_token_of(&registered).expect("refresh cookie");
    let first: TokenResponse = registered.json().await.expect("tokens");

    let response = app.refresh_with(&app.client).await;

    assert_eq!(response.status(), StatusCode::OK);
    let second_refresh = refresh_token_of(&response).expect("a new refresh cookie");
    assert_ne!(second_refresh, first_refresh, "refresh token rotated");
    let second: TokenResponse = response.json().await.expect("tokens");
    assert_ne!(second.access_token, first.access_token, "access token renewed");
    assert_eq!(second.user.email, email);
    assert_eq!(app.me(&second.access_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_previous_refresh_token_stops_working_after_rotation() {
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE", "0")]).await;
    let registered = app.register(&unique_email(), PASSWORD).await;
    let old = refresh_token_of(&registered).expect("refresh cookie");
    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK);

    let replay = app.refresh_presenting(&old).await;

    assert_error(replay, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

#[tokio::test]
async fn refreshing_without_a_cookie_is_401_and_clears_the_cookie() {
    let app = spawn_app().await;

    let response = app.refresh_with(&browser()).await;

    let removal = refresh_set_cookie(&response).expect("a removal cookie");
    assert!(removal.contains("Max-Age=0"), "{removal}");
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

#[tokio::test]
async fn garbage_and_access_tokens_in_the_cookie_are_refused() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    for value in ["garbage", "a.b.c", tokens.access_token.as_str()] {
        assert_error(app.refresh_presenting(value).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token")
            .await;
    }
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    let an_hour_ago = tokenpair::auth::unix_now() - 3600;
    let claims =
        RefreshClaims::new(&tokens.user.id, "some-session", "some-jti", an_hour_ago - 60, an_hour_ago);
    let expired = app.state.tokens.sign_refresh(&claims).expect("signed");

    let response = app.refresh_presenting(&expired.token).await;

    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

#[tokio::test]
async fn a_session_survives_a_restart_because_keys_are_kept_in_the_database() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    // A second server on the same database: a restart.
    let restarted = app.another_instance().await;

    assert!(restarted.state.tokens.verify_access(&tokens.access_token).is_ok(), "old tokens still verify");
}
