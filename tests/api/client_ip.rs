//! The client's address: the TCP peer unless it is a trusted proxy, then the rightmost
//! forwarded address that is not one (`src/http/client_ip.rs`).

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokenpair::api::paths;

use crate::helpers::{assert_error, browser, spawn_app_with, unique_email, TestApp, PASSWORD};

async fn login_from(app: &TestApp, forwarded_for: &str) -> StatusCode {
    let body = json!({ "email": unique_email(), "password": "not the password" });
    let request = app.plain.post(app.url(paths::LOGIN)).header("x-forwarded-for", forwarded_for);
    request.json(&body).send().await.expect("sent").status()
}

#[tokio::test]
async fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
    let app = spawn_app_with(&[("LOGIN_RATE_LIMIT", "3/1m")]).await;
    for n in 0..3 {
        assert_eq!(login_from(&app, &format!("203.0.113.{n}")).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_from(&app, "203.0.113.99").await,
        StatusCode::TOO_MANY_REQUESTS,
        "one bucket: the peer's"
    );
}

#[tokio::test]
async fn forty_clients_behind_one_trusted_proxy_get_forty_buckets() {
    let app = spawn_app_with(&[("LOGIN_RATE_LIMIT", "1/1m"), ("TRUSTED_PROXIES", "127.0.0.1")]).await;
    for n in 0..40 {
        let chain = format!("198.51.100.7, 203.0.113.{n}");
        assert_eq!(login_from(&app, &chain).await, StatusCode::UNAUTHORIZED, "client {n}, its first login");
    }
    let again = format!("198.51.100.8, 203.0.113.{}", 0);
    assert_eq!(
        login_from(&app, &again).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the leftmost entry is a claim"
    );
}

#[tokio::test]
async fn an_ipv6_client_is_one_bucket_per_64() {
    let app = spawn_app_with(&[("LOGIN_RATE_LIMIT", "1/1m"), ("TRUSTED_PROXIES", "127.0.0.0/8")]).await;
    assert_eq!(login_from(&app, "2001:db8:1:2::1").await, StatusCode::UNAUTHORIZED);
    assert_eq!(login_from(&app, "2001:db8:1:2:ffff::9").await, StatusCode::TOO_MANY_REQUESTS, "same /64");
    assert_eq!(login_from(&app, "2001:db8:1:3::1").await, StatusCode::UNAUTHORIZED, "another /64");
}

#[tokio::test]
async fn sessions_and_events_record_the_forwarded_client() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let email = unique_email();
    let client = browser();
    let registered = client
        .post(app.url(paths::REGISTER))
        .header("x-forwarded-for", "203.0.113.50")
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("sent");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let token =
        registered.json::<Value>().await.expect("body")["access_token"].as_str().expect("token").to_owned();

    let get = |path| client.get(app.url(path)).bearer_auth(&token).send();
    let sessions: Value = get(paths::SESSIONS).await.expect("sent").json().await.expect("body");
    let events: Value = get(paths::EVENTS).await.expect("sent").json().await.expect("body");

    assert_eq!(sessions[0]["ip"], "203.0.113.50", "{sessions}");
    assert_eq!(events[0]["ip"], "203.0.113.50", "{events}");
}

#[tokio::test]
async fn a_refresh_is_limited_per_forwarded_client_too() {
    let app = spawn_app_with(&[("REFRESH_RATE_LIMIT", "1/1m"), ("TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.registered_user().await;
    let refresh = |client_ip: &'static str| {
        app.refresh_request(&app.client).header("x-forwarded-for", client_ip).send()
    };
    assert_eq!(refresh("203.0.113.1").await.expect("sent").status(), StatusCode::OK);
    assert_error(refresh("203.0.113.1").await.expect("sent"), StatusCode::TOO_MANY_REQUESTS, "rate_limited")
        .await;
    assert_eq!(refresh("203.0.113.2").await.expect("sent").status(), StatusCode::OK, "another client");
}
