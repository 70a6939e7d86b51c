//! Password guessing: per-account budgets that count failures only, the device cookie that
//! keeps the owner logging in (`src/auth/device.rs`), the password-change limits, and the
//! bounded hashing queue.

use std::time::Duration;

use futures::future::join_all;
use reqwest::header::SET_COOKIE;
use reqwest::{Client, StatusCode};
use serde_json::json;
use tokenpair::api::paths;

use crate::helpers::{assert_error, browser, spawn_app_with, unique_email, TestApp, PASSWORD};

const DEVICE_COOKIE: &str = "__Secure-tokenpair-device";

async fn guess_from(app: &TestApp, email: &str, client_ip: &str) -> StatusCode {
    let body = json!({ "email": email, "password": "not the password at all" });
    let request = app.plain.post(app.url(paths::LOGIN)).header("x-forwarded-for", client_ip).json(&body);
    request.send().await.expect("sent").status()
}

#[tokio::test]
async fn the_owner_logs_in_from_their_browser_after_a_thousand_foreign_guesses() {
    let app =
        spawn_app_with(&[("LOGIN_ACCOUNT_RATE_LIMIT", "10/5m"), ("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let (email, _) = app.registered_user().await; // app.client now holds the device cookie

    let mut answers = Vec::new();
    let app_ref = &app;
    for batch in 0..100 {
        let guesses = (0..10).map(|n| {
            let ip = format!("203.0.{batch}.{n}");
            let email = email.clone();
            async move { guess_from(app_ref, &email, &ip).await }
        });
        answers.extend(join_all(guesses).await);
    }

    let limited = answers.iter().filter(|status| **status == StatusCode::TOO_MANY_REQUESTS).count();
    assert!(limited >= 980, "the account's budget ran out: {limited} of 1000 limited");
    assert_eq!(app.login_with(&app.client, &email, PASSWORD).await.status(), StatusCode::OK, "the owner");
    let stranger = app.login_with(&browser(), &email, PASSWORD).await;
    assert_error(stranger, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn one_address_gets_429_after_its_failures_and_success_does_not_count() {
    let app = spawn_app_with(&[("LOGIN_ACCOUNT_RATE_LIMIT", "3/5m")]).await;
    let (email, _) = app.registered_user().await;
    for _ in 0..5 {
        assert_eq!(app.login_with(&browser(), &email, PASSWORD).await.status(), StatusCode::OK);
    }
    for _ in 0..3 {
        assert_eq!(
            app.login_with(&browser(), &email, "wrong password!").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }

    let limited = app.login_with(&browser(), &email, "wrong password!").await;

    let retry_after: u64 =
        limited.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=100).contains(&retry_after), "{retry_after}");
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let unknown = unique_email();
    for _ in 0..3 {
        app.login_with(&browser(), &unknown, "wrong password!").await;
    }
    let unknown = app.login_with(&browser(), &unknown, "wrong password!").await;
    assert_eq!(unknown.status(), StatusCode::TOO_MANY_REQUESTS, "an unknown email is limited alike");
}

#[tokio::test]
async fn a_device_has_a_budget_of_its_own_and_vouches_only_for_its_account() {
    let app = spawn_app_with(&[("LOGIN_ACCOUNT_RATE_LIMIT", "2/5m")]).await;
    let (victim, _) = app.registered_user().await;
    let attacker = browser();
    let own = unique_email();
    assert_eq!(app.register_with(&attacker, &own).await, StatusCode::CREATED, "a device cookie for `own`");

    for _ in 0..2 {
        app.login_with(&attacker, &victim, "wrong password!").await;
    }
    assert_eq!(app.login_with(&attacker, &victim, PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    for _ in 0..2 {
        app.login_with(&app.client, &victim, "a typo of mine").await;
    }
    let owner = app.login_with(&app.client, &victim, PASSWORD).await;
    assert_eq!(owner.status(), StatusCode::TOO_MANY_REQUESTS, "the owner's device spent its own budget too");
    assert_eq!(app.login_with(&attacker, &own, PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_device_cookie_is_httponly_strict_and_sent_only_to_login() {
    let app = spawn_app_with(&[]).await;
    let (email, _) = app.registered_user().await;
    let login = app.login_with(&browser(), &email, PASSWORD).await;
    let device = login
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(DEVICE_COOKIE))
        .expect("a device cookie")
        .to_owned();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/auth/login", "Max-Age=2592000"] {
        assert!(device.contains(attribute), "{attribute} in {device}");
    }
}

#[tokio::test]
async fn failure_budgets_are_shared_by_instances_on_one_database() {
    let app = spawn_app_with(&[("LOGIN_ACCOUNT_RATE_LIMIT", "4/5m")]).await;
    let other = app.another_instance().await;
    let (email, _) = app.registered_user().await;
    for instance in [&app, &other, &app, &other] {
        assert_eq!(
            instance.login_with(&browser(), &email, "wrong!!!").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(app.login_with(&browser(), &email, PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(other.login_with(&browser(), &email, PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn on_postgresql_two_instances_allow_together_what_one_allows() {
    let app = spawn_app_with(&[("LOGIN_RATE_LIMIT", "4/1m"), ("REFRESH_RATE_LIMIT", "2/1m")]).await;
    if !app.database.is_postgres() {
        return; // SQLite is one server: its per-client limits count in the process
    }
    let other = app.another_instance().await;
    let email = unique_email();
    for instance in [&app, &other, &app, &other] {
        assert_eq!(
            instance.login_with(&browser(), &email, "wrong!!!").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        other.login_with(&browser(), &email, "wrong!!!").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn change_password(app: &TestApp, client: &Client, token: &str, ip: &str) -> reqwest::Response {
    let guess = json!({ "current_password": "a guess at it", "new_password": "a brand new passphrase" });
    let request = client.post(app.url(paths::PASSWORD)).bearer_auth(token).header("x-forwarded-for", ip);
    request.json(&guess).send().await.expect("sent")
}

#[tokio::test]
async fn guesses_at_the_current_password_get_429_per_user_and_per_client() {
    let app =
        spawn_app_with(&[("PASSWORD_CHANGE_RATE_LIMIT", "3/5m"), ("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let (_, me) = app.registered_user().await;
    for n in 0..3 {
        let guess = change_password(&app, &app.client, &me.access_token, &format!("203.0.113.{n}")).await;
        assert_eq!(guess.status(), StatusCode::FORBIDDEN, "guess {n}");
    }
    let limited = change_password(&app, &app.client, &me.access_token, "203.0.113.77").await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    let (_, other) = app.registered_user().await;
    let from_a_busy_client = change_password(&app, &app.client, &other.access_token, "203.0.113.0").await;
    assert_eq!(from_a_busy_client.status(), StatusCode::FORBIDDEN, "another user, a client with budget left");
    for _ in 0..2 {
        change_password(&app, &app.client, &other.access_token, "198.51.100.1").await;
    }
    let (_, third) = app.registered_user().await;
    let last = change_password(&app, &app.client, &third.access_token, "198.51.100.1").await;
    assert_eq!(last.status(), StatusCode::FORBIDDEN, "that client's third attempt");
    let same_client = change_password(&app, &app.client, &third.access_token, "198.51.100.1").await;
    assert_eq!(same_client.status(), StatusCode::TOO_MANY_REQUESTS, "that client's budget is spent");
}

#[tokio::test]
async fn a_full_hashing_queue_answers_503() {
    let app = spawn_app_with(&[("PASSWORD_HASH_QUEUE", "2")]).await;
    let logins = (0..24).map(|_| app.login_with(&app.plain, "nobody@example.com", "whatever it is"));
    let answers = join_all(logins).await;
    let busy: Vec<_> = answers.iter().filter(|a| a.status() == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(!busy.is_empty(), "some logins found the queue full");
    assert!(busy.iter().all(|answer| answer.headers().contains_key("retry-after")));
    let expected = [StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE];
    assert!(answers.iter().all(|answer| expected.contains(&answer.status())));
}

#[tokio::test]
async fn a_hash_whose_client_has_gone_is_dropped_before_it_runs() {
    const AHEAD: usize = 48;
    let app = spawn_app_with(&[("PASSWORD_HASH_QUEUE", "64")]).await;
    let body = json!({ "email": "nobody@example.com", "password": "whatever it is" });
    let ahead = (0..AHEAD).map(|_| app.login_with(&app.plain, "nobody@example.com", "whatever it is"));
    // It joins a queue of about 40 hashes (half a second of work or more) and gives up after
    // 200 ms: long enough to have been queued, too short to have had its turn.
    let impatient = Client::builder().timeout(Duration::from_millis(200)).build().expect("client");
    let gone = async {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while app.state.passwords.waiting() < AHEAD - 8 {
            assert!(std::time::Instant::now() < deadline, "the logins ahead never queued");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        impatient.post(app.url(paths::LOGIN)).json(&body).send().await
    };

    let (ahead, gone) = tokio::join!(join_all(ahead), gone);

    assert!(gone.is_err(), "the impatient client gave up");
    assert!(ahead.iter().all(|answer| answer.status() == StatusCode::UNAUTHORIZED));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.state.passwords.abandoned(), 1, "its job was dropped unhashed");
}

#[tokio::test]
async fn a_flood_of_password_changes_leaves_room_in_the_queue_for_logins() {
    let app =
        spawn_app_with(&[("PASSWORD_HASH_QUEUE", "4"), ("PASSWORD_CHANGE_RATE_LIMIT", "100000/1m")]).await;
    let (email, me) = app.registered_user().await;
    let flooding = std::sync::atomic::AtomicBool::new(true);
    let guesser = || async {
        while flooding.load(std::sync::atomic::Ordering::Relaxed) {
            change_password(&app, &app.plain, &me.access_token, "203.0.113.9").await;
        }
    };
    let logins = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut answers = Vec::new();
        for _ in 0..5 {
            answers.push(app.login_with(&app.plain, &email, PASSWORD).await.status());
        }
        flooding.store(false, std::sync::atomic::Ordering::Relaxed);
        answers
    };

    let (answers, _) = tokio::join!(logins, join_all((0..8).map(|_| guesser())));

    assert_eq!(answers, [StatusCode::OK; 5], "every login found room while password changes flooded");
}
