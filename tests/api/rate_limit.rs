use reqwest::StatusCode;

use crate::helpers::{assert_error, browser, spawn_app_with, PASSWORD};

#[tokio::test]
async fn logins_beyond_the_per_ip_limit_get_429_with_retry_after_and_recover() {
    // One request's worth comes back every 3 s, so the four below fit in it on a loaded machine.
    let app = spawn_app_with(&[("LOGIN_RATE_LIMIT", "3/9s")]).await;
    let (email, _) = app.registered_user().await; // one request of the three
    for _ in 0..2 {
        assert_eq!(
            app.login_with(&browser(), &email, "wrong password!").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }

    let limited = app.login_with(&browser(), &email, PASSWORD).await;

    let retry_after: u64 =
        limited.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=3).contains(&retry_after), "{retry_after}");
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    assert_eq!(app.login_with(&browser(), &email, PASSWORD).await.status(), StatusCode::OK, "recovered");
}

#[tokio::test]
async fn one_account_is_limited_across_addresses_and_others_are_not_affected() {
    // One failure's worth comes back every 3 s: long enough that the three logins below fit
    // in it on a loaded machine.
    let app = spawn_app_with(&[("LOGIN_ACCOUNT_RATE_LIMIT", "2/6s")]).await;
    let (victim, _) = app.registered_user().await;
    let (bystander, _) = app.registered_user().await;
    for _ in 0..2 {
        app.login_with(&browser(), &victim, "guess guess guess").await;
    }

    assert_error(
        app.login_with(&browser(), &victim, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    assert_eq!(app.login_with(&browser(), &bystander, PASSWORD).await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    assert_eq!(
        app.login_with(&browser(), &victim, PASSWORD).await.status(),
        StatusCode::OK,
        "not locked out for good"
    );
}

#[tokio::test]
async fn refreshes_beyond_the_per_ip_limit_get_429_and_keep_the_cookie() {
    let app = spawn_app_with(&[("REFRESH_RATE_LIMIT", "2/2s")]).await;
    app.registered_user().await;
    for _ in 0..2 {
        assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK);
    }

    let limited = app.refresh_with(&app.client).await;

    assert!(crate::helpers::refresh_set_cookie(&limited).is_none(), "a 429 does not clear the cookie");
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK, "recovered, still logged in");
}
