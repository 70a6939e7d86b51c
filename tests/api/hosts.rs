//! The `Host` allow-list (421 for any host `APP_ORIGIN` does not name) and the lab's
//! loopback-only endpoints.

use reqwest::StatusCode;
use serde_json::Value;
use tokenpair::api::{paths, CSRF_HEADER, CSRF_HEADER_VALUE};
use tokenpair::config::Config;

use crate::helpers::{assert_error, spawn_app, spawn_app_with, TestApp};

const JWKS: &str = "/.well-known/jwks.json";

async fn get_with_host(app: &TestApp, path: &str, host: &str) -> reqwest::Response {
    app.plain.get(app.url(path)).header("host", host).send().await.expect("sent")
}

#[tokio::test]
async fn a_host_the_origins_do_not_name_gets_421_on_pages_and_api_alike() {
    let app = spawn_app().await;
    for path in ["/", "/api/me", "/api/openapi.json", "/.well-known/jwks.json"] {
        let rebound = get_with_host(&app, path, "attacker.example:3000").await;
        assert_error(rebound, StatusCode::MISDIRECTED_REQUEST, "misdirected_request").await;
    }
    let port = app.base.rsplit(':').next().expect("a port");
    for host in [format!("127.0.0.1:{port}"), format!("LOCALHOST:{port}"), "localhost".to_owned()] {
        assert_eq!(get_with_host(&app, JWKS, &host).await.status(), StatusCode::OK, "{host}");
    }
}

/// A load balancer's health check often names the instance's own address (an AWS target group
/// cannot set a `Host` at all), and the probes say nothing a rebinding page could use.
#[tokio::test]
async fn the_health_probes_answer_whatever_the_host() {
    let app = spawn_app_with(&[("APP_ORIGIN", "https://auth.example.com")]).await;
    for path in [paths::HEALTHZ, paths::READYZ] {
        assert_eq!(get_with_host(&app, path, "10.0.3.17:3000").await.status(), StatusCode::OK, "{path}");
    }
    let elsewhere = get_with_host(&app, "/api/healthz-lookalike", "10.0.3.17:3000").await;
    assert_eq!(elsewhere.status(), StatusCode::MISDIRECTED_REQUEST);
}

#[tokio::test]
async fn a_deployments_origin_names_its_hosts() {
    let app = spawn_app_with(&[("APP_ORIGIN", "https://auth.example.com")]).await;
    assert_eq!(get_with_host(&app, JWKS, "auth.example.com").await.status(), StatusCode::OK);
    assert_eq!(get_with_host(&app, JWKS, "auth.example.com:443").await.status(), StatusCode::OK);
    let direct = app.plain.get(app.url(JWKS)).send().await.expect("sent");
    assert_eq!(direct.status(), StatusCode::MISDIRECTED_REQUEST, "127.0.0.1 is not among them");
}

async fn copy_cookie_status(app: &TestApp, extra: &[(&str, &str)]) -> StatusCode {
    let mut request =
        app.client.post(app.url("/api/auth/lab/copy-cookie")).header(CSRF_HEADER, CSRF_HEADER_VALUE);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await.expect("sent").status()
}

#[tokio::test]
async fn the_lab_answers_only_a_direct_loopback_browser() {
    let app = spawn_app_with(&[("TOKENPAIR_LAB", "1"), ("TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.registered_user().await;
    assert_eq!(copy_cookie_status(&app, &[]).await, StatusCode::OK, "the developer's own browser");

    assert_eq!(copy_cookie_status(&app, &[("x-forwarded-for", "203.0.113.9")]).await, StatusCode::NOT_FOUND);
    assert_eq!(copy_cookie_status(&app, &[("forwarded", "for=203.0.113.9")]).await, StatusCode::NOT_FOUND);
    assert_eq!(copy_cookie_status(&app, &[("host", "localhost")]).await, StatusCode::NOT_FOUND, "no port");
    assert_eq!(
        copy_cookie_status(&app, &[("host", "localhost:1")]).await,
        StatusCode::NOT_FOUND,
        "another port"
    );
    let status: Value =
        app.client.get(app.url("/api/lab")).send().await.expect("sent").json().await.expect("json");
    assert_eq!(status["enabled"], true);
}

#[tokio::test]
async fn the_lab_refuses_a_listener_that_is_not_loopback() {
    let config = Config::from_lookup(|name| match name {
        "TOKENPAIR_LAB" => Some("1".into()),
        "DATABASE_URL" => Some("sqlite::memory:".into()),
        _ => None,
    })
    .expect("the settings alone look loopback");
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.expect("bind");
    let app = axum::Router::new();

    let refused = tokenpair::server::serve(listener, app, &config, std::future::pending()).await;

    let err = refused.expect_err("serving the lab on every interface is refused");
    assert!(err.to_string().contains("loopback"), "{err}");
}
