use reqwest::StatusCode;
use tokenpair::api::paths;

use crate::helpers::{assert_error, browser, refresh_set_cookie, spawn_app};

#[tokio::test]
async fn logging_out_revokes_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    app.registered_user().await;

    let response = app.client.post(app.url(paths::LOGOUT)).send().await.expect("sent");

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let removal = refresh_set_cookie(&response).expect("a removal cookie");
    assert!(removal.contains("Max-Age=0") && removal.contains("Secure"), "{removal}");
    assert_error(app.refresh_with(&app.client).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token")
        .await;
}

#[tokio::test]
async fn a_revoked_session_stays_revoked_even_with_a_kept_copy_of_the_token() {
    let app = spawn_app().await;
    let registered = app.register(&crate::helpers::unique_email(), crate::helpers::PASSWORD).await;
    let token = crate::helpers::refresh_token_of(&registered).expect("cookie");
    app.client.post(app.url(paths::LOGOUT)).send().await.expect("sent");

    let replay = browser()
        .post(app.url(paths::REFRESH))
        .header("Cookie", format!("{}={token}", crate::helpers::COOKIE_NAME))
        .send()
        .await
        .expect("sent");

    assert_error(replay, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

#[tokio::test]
async fn logging_out_without_a_session_still_succeeds() {
    let app = spawn_app().await;
    let response = browser().post(app.url(paths::LOGOUT)).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}
