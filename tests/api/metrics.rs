//! The design article's claim, as numbers: `/api/me` is authenticated from the JWT alone and
//! touches no database; a refresh goes to the database.

use reqwest::StatusCode;

use crate::helpers::{spawn_app, TestApp};

/// The value of one counter line of the Prometheus exposition, or 0 if absent.
async fn counter(app: &TestApp, name: &str, endpoint: &str) -> u64 {
    let text = app.client.get(app.url("/metrics")).send().await.expect("sent").text().await.expect("text");
    let prefix = format!("tokenpair_{name}_total{{endpoint=\"{endpoint}\"}} ");
    text.lines().find_map(|line| line.strip_prefix(&prefix)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn a_call_to_api_me_raises_the_headless_count_and_not_the_database_count() {
    let app = spawn_app().await;
    let (_, tokens) = app.registered_user().await;
    let (headless, queries) = (
        counter(&app, "headless_auth", "GET /api/me").await,
        counter(&app, "db_queries", "GET /api/me").await,
    );

    for _ in 0..3 {
        assert_eq!(app.me(&tokens.access_token).await.status(), StatusCode::OK);
    }

    assert_eq!(counter(&app, "headless_auth", "GET /api/me").await, headless + 3);
    assert_eq!(counter(&app, "db_queries", "GET /api/me").await, queries);
    assert_eq!(counter(&app, "requests", "GET /api/me").await, 3);
}

#[tokio::test]
async fn a_refresh_raises_the_database_count() {
    let app = spawn_app().await;
    app.registered_user().await;
    let before = counter(&app, "db_queries", "POST /api/auth/refresh").await;

    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK);

    let after = counter(&app, "db_queries", "POST /api/auth/refresh").await;
    assert!(after >= before + 4, "the thorough check and the rotation: {before} -> {after}");
    assert!(counter(&app, "db_queries", "POST /api/auth/register").await > 0, "login-type calls too");
}
