//! Every row of the rotation decision table (README, `src/auth/rotation.rs`), over HTTP.

use reqwest::StatusCode;
use tokenpair::api::TokenResponse;

use crate::helpers::{
    assert_error, refresh_set_cookie, refresh_token_of, spawn_app, spawn_app_with, tally_rotations,
    unique_email,
};

#[tokio::test]
async fn the_parent_inside_the_grace_window_gets_the_same_current_child_and_nobody_is_logged_out() {
    let app = spawn_app().await;
    let registered = app.register_elsewhere(&unique_email()).await;
    let parent = refresh_token_of(&registered).expect("cookie");
    let rotated = app.refresh_presenting(&parent).await;
    let child = refresh_token_of(&rotated).expect("child");

    // A second tab, or a retry after a lost response, presents the parent again.
    let again = app.refresh_presenting(&parent).await;

    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        refresh_token_of(&again).as_deref(),
        Some(child.as_str()),
        "the same child, not a new rotation"
    );
    let access: TokenResponse = again.json().await.expect("tokens");
    assert_eq!(app.me(&access.access_token).await.status(), StatusCode::OK);
    // The child is still the current token: it rotates normally.
    let next = app.refresh_presenting(&child).await;
    assert_eq!(next.status(), StatusCode::OK);
    assert_ne!(refresh_token_of(&next).as_deref(), Some(child.as_str()));
}

#[tokio::test]
async fn a_token_replayed_after_the_grace_window_revokes_the_session_and_the_newest_token_is_refused() {
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE", "1")]).await;
    let registered = app.register_elsewhere(&unique_email()).await;
    let stolen = refresh_token_of(&registered).expect("cookie");
    let newest = refresh_token_of(&app.refresh_presenting(&stolen).await).expect("child");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    let replay = app.refresh_presenting(&stolen).await;

    assert!(refresh_set_cookie(&replay).is_some_and(|c| c.contains("Max-Age=0")), "cookie cleared");
    assert_error(replay, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    let legitimate = app.refresh_presenting(&newest).await;
    assert_error(legitimate, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

#[tokio::test]
async fn a_grandparent_is_reuse_even_inside_the_grace_window() {
    let app = spawn_app().await;
    let registered = app.register_elsewhere(&unique_email()).await;
    let first = refresh_token_of(&registered).expect("cookie");
    let second = refresh_token_of(&app.refresh_presenting(&first).await).expect("second");
    let third = refresh_token_of(&app.refresh_presenting(&second).await).expect("third");

    assert_error(app.refresh_presenting(&first).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token")
        .await;
    assert_error(app.refresh_presenting(&third).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token")
        .await;
}

#[tokio::test]
async fn a_benign_race_never_clears_the_cookie() {
    let app = spawn_app().await;
    let registered = app.register_elsewhere(&unique_email()).await;
    let token = refresh_token_of(&registered).expect("cookie");

    let answers = futures::future::join_all((0..10).map(|_| app.refresh_presenting(&token))).await;

    for answer in &answers {
        assert_eq!(answer.status(), StatusCode::OK);
        assert!(!refresh_set_cookie(answer).unwrap_or_default().contains("Max-Age=0"));
    }
}

/// 100 sessions, each refreshed by 10 concurrent requests presenting the same token, 5 rounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refreshes_of_one_token_issue_exactly_one_child_and_revoke_nobody() {
    const SESSIONS: usize = 100;
    const CONCURRENT: usize = 10;
    const ROUNDS: usize = 5;
    let app = spawn_app().await;
    let mut current = Vec::new();
    for _ in 0..SESSIONS {
        current.push(refresh_token_of(&app.register_elsewhere(&unique_email()).await).expect("cookie"));
    }
    let (mut double_issued, mut errors) = (0, 0);
    for _ in 0..ROUNDS {
        let app = &app;
        let requests =
            current.iter().flat_map(|token| (0..CONCURRENT).map(move |_| app.refresh_presenting(token)));
        let tally = tally_rotations(&futures::future::join_all(requests).await, CONCURRENT);
        double_issued += tally.double_issued;
        errors += tally.errors;
        current = tally.children;
    }
    assert_eq!((double_issued, errors), (0, 0), "double-issued children, failed refreshes");
    for token in &current {
        assert_eq!(app.refresh_presenting(token).await.status(), StatusCode::OK, "no session was revoked");
    }
}

#[tokio::test]
async fn the_session_chain_shows_each_token_its_parent_and_every_decision() {
    let app = spawn_app().await;
    let registered = app.register_elsewhere(&unique_email()).await;
    let first = refresh_token_of(&registered).expect("cookie");
    let second = app.refresh_presenting(&first).await;
    let second_token = refresh_token_of(&second).expect("second");
    app.refresh_presenting(&first).await; // inside the grace window: the same child again
    let third: TokenResponse = app.refresh_presenting(&second_token).await.json().await.expect("tokens");

    let chain: serde_json::Value = app
        .client
        .get(app.url(tokenpair::api::paths::CHAIN))
        .bearer_auth(&third.access_token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("chain");

    let links = chain["tokens"].as_array().expect("tokens");
    assert_eq!(links.len(), 3);
    assert!(links[0]["parent_prefix"].is_null());
    assert_eq!(links[1]["parent_prefix"], links[0]["jti_prefix"]);
    assert_eq!(links[2]["parent_prefix"], links[1]["jti_prefix"]);
    assert!(links[2]["rotated_at"].is_null() && links[0]["rotated_at"].is_i64());
    let decisions: Vec<&str> =
        chain["decisions"].as_array().expect("decisions").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(decisions, ["refresh", "refresh_repeated", "refresh", "login"]);
}
