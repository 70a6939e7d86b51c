//! Cross-site defences on the endpoints a browser calls with the cookie or credentials.

use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::json;
use tokenpair::api::{paths, CSRF_HEADER, CSRF_HEADER_VALUE};

use crate::helpers::{assert_error, spawn_app_with, unique_email, TestApp, PASSWORD};

const ORIGIN: &str = "http://tokenpair.test";

/// The app's origin, and `127.0.0.1` (on a port no request names as its `Origin`) because
/// that is the host the test reaches the server on: any other `Host` gets 421.
async fn app() -> TestApp {
    spawn_app_with(&[("APP_ORIGIN", &format!("{ORIGIN}, http://127.0.0.1:1"))]).await
}

fn cookie_post(app: &TestApp, client: &Client, path: &str) -> RequestBuilder {
    client.post(app.url(path))
}

#[tokio::test]
async fn cookie_endpoints_refuse_requests_without_the_custom_header() {
    let app = app().await;
    app.registered_user().await;
    for path in [paths::REFRESH, paths::LOGOUT] {
        let response = cookie_post(&app, &app.client, path).send().await.expect("sent");
        assert_error(response, StatusCode::FORBIDDEN, "cross_site_request").await;
    }
    // The session is untouched: the real app's refresh still works.
    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn cookie_endpoints_refuse_a_foreign_origin_and_cross_site_fetches() {
    let app = app().await;
    app.registered_user().await;
    for path in [paths::REFRESH, paths::LOGOUT] {
        let foreign = cookie_post(&app, &app.client, path)
            .header(CSRF_HEADER, CSRF_HEADER_VALUE)
            .header("origin", "https://evil.example")
            .send()
            .await
            .expect("sent");
        assert_error(foreign, StatusCode::FORBIDDEN, "cross_site_request").await;
        let cross_site = cookie_post(&app, &app.client, path)
            .header(CSRF_HEADER, CSRF_HEADER_VALUE)
            .header("sec-fetch-site", "cross-site")
            .send()
            .await
            .expect("sent");
        assert_error(cross_site, StatusCode::FORBIDDEN, "cross_site_request").await;
    }
    let own = cookie_post(&app, &app.client, paths::REFRESH)
        .header(CSRF_HEADER, CSRF_HEADER_VALUE)
        .header("origin", ORIGIN)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("sent");
    assert_eq!(own.status(), StatusCode::OK);
}

#[tokio::test]
async fn login_and_register_refuse_cross_site_posts_but_serve_api_clients() {
    let app = app().await;
    let email = unique_email();
    let body = json!({ "email": email, "password": PASSWORD });
    for path in [paths::REGISTER, paths::LOGIN] {
        let response =
            app.client.post(app.url(path)).header("origin", "https://evil.example").json(&body).send().await;
        assert_error(response.expect("sent"), StatusCode::FORBIDDEN, "cross_site_request").await;
        let response =
            app.client.post(app.url(path)).header("sec-fetch-site", "cross-site").json(&body).send().await;
        assert_error(response.expect("sent"), StatusCode::FORBIDDEN, "cross_site_request").await;
    }
    // No Origin at all: a non-browser client, which has no ambient cookies to abuse.
    assert_eq!(app.register(&email, PASSWORD).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn cookie_endpoints_answer_get_with_405_and_nothing_sends_cors_headers() {
    let app = app().await;
    for path in [paths::REFRESH, paths::LOGOUT, paths::LOGIN] {
        let get = app
            .client
            .get(app.url(path))
            .header("origin", "https://evil.example")
            .send()
            .await
            .expect("sent");
        assert!(get.headers().get("access-control-allow-origin").is_none());
        assert_error(get, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
        let preflight = app
            .client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .expect("sent");
        assert!(preflight.headers().get("access-control-allow-origin").is_none(), "no CORS for {path}");
    }
}
