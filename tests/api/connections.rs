//! What a connection may cost before it says something useful: headers within
//! `HEADER_TIMEOUT`, a request within `REQUEST_TIMEOUT`, and at most `MAX_CONNECTIONS` served
//! (the rest shed, `/healthz` still answering).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{assert_error, browser, spawn_app_with, TestApp, PASSWORD};

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection; what it sent, and how long that took.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server still holds the connection after {limit:?}");
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app = spawn_app_with(&[("HEADER_TIMEOUT", "1s")]).await;
    let mut slow = TcpStream::connect(addr(&app)).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.expect("write");

    let (_, after) = read_until_closed(&mut slow, Duration::from_secs(5)).await;

    assert!(after >= Duration::from_millis(900), "not before the timeout: {after:?}");
    let mut silent = TcpStream::connect(addr(&app)).await.expect("connect");
    read_until_closed(&mut silent, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_request_whose_body_never_arrives_gets_408() {
    let app = spawn_app_with(&[("REQUEST_TIMEOUT", "1s")]).await;
    let mut stream = TcpStream::connect(addr(&app)).await.expect("connect");
    let head = "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\n\r\n{\"email\":";
    stream.write_all(head.as_bytes()).await.expect("write");

    let mut answer = vec![0; 512];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer)).await;

    let answer =
        String::from_utf8_lossy(&answer[..read.expect("answered in time").expect("read")]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}

#[tokio::test]
async fn two_thousand_half_open_connections_do_not_stop_a_login() {
    let app = spawn_app_with(&[]).await;
    let (email, _) = app.registered_user().await;
    let mut held = Vec::new();
    for _ in 0..2000 {
        let mut stream = TcpStream::connect(addr(&app)).await.expect("connect");
        stream.write_all(b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.expect("write");
        held.push(stream);
    }

    let login = app.login_with(&browser(), &email, PASSWORD).await;

    assert_eq!(login.status(), StatusCode::OK);
    assert_eq!(held.len(), 2000, "all still open while the login went through");
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_are_shed_but_healthz_answers() {
    let app = spawn_app_with(&[("MAX_CONNECTIONS", "20")]).await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(TcpStream::connect(addr(&app)).await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(200)).await; // let the server accept them all

    let health = app.plain.get(app.url("/healthz")).send().await.expect("sent");
    let login = app.login_with(&reqwest::Client::new(), "someone@example.com", PASSWORD).await;

    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.headers()["connection"], "close");
    assert!(login.headers().contains_key("retry-after"));
    assert_error(login, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = app.login_with(&reqwest::Client::new(), "someone@example.com", PASSWORD).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "served normally again");
}
