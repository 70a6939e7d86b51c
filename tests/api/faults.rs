//! Faults survived without logging anyone out: the database going away and coming back, or
//! falling silent mid-statement, a crash in the middle of a burst of refreshes, and a graceful
//! shutdown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::json;
use sqlx::Connection;
use tokenpair::api::{paths, TokenResponse, CSRF_HEADER, CSRF_HEADER_VALUE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    assert_error, owned, refresh_set_cookie, refresh_token_of, spawn_app_on, unique_email, until_queued,
    TestApp, TestDatabase, COOKIE_NAME, PASSWORD,
};
use crate::support::{LinkProxy, ServerProcess};

async fn status_of(client: &Client, url: String) -> StatusCode {
    client.get(url).send().await.expect("sent").status()
}

/// A 503 that tells the client to come back, and leaves its refresh cookie alone.
async fn assert_unavailable(response: reqwest::Response) {
    assert!(response.headers().contains_key(reqwest::header::RETRY_AFTER), "Retry-After on a 503");
    assert!(refresh_set_cookie(&response).is_none(), "the cookie is neither rotated nor cleared");
    assert_error(response, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
}

/// An app whose PostgreSQL connections go through a [`LinkProxy`]; `None` on SQLite.
async fn app_behind_a_proxy() -> Option<(TestApp, LinkProxy, Arc<TestDatabase>)> {
    let database = Arc::new(TestDatabase::new().await);
    let (proxy, through_proxy) = LinkProxy::in_front_of(&database).await?;
    let app = spawn_app_on(Arc::clone(&database), owned(&[("DATABASE_URL", &through_proxy)])).await;
    Some((app, proxy, database))
}

#[tokio::test]
async fn a_postgres_outage_answers_503_keeps_access_tokens_working_and_recovers_by_itself() {
    let Some((app, proxy, _database)) = app_behind_a_proxy().await else {
        eprintln!("skipped: the network outage needs PostgreSQL (set TEST_POSTGRES_URL)");
        return;
    };
    let (email, tokens) = app.registered_user().await;

    proxy.cut();
    assert_eq!(app.me(&tokens.access_token).await.status(), StatusCode::OK, "headless: no database needed");
    assert_unavailable(app.refresh_with(&app.client).await).await;
    assert_unavailable(app.login_with(&app.plain, &email, PASSWORD).await).await;
    assert_eq!(status_of(&app.plain, app.url(paths::READYZ)).await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(status_of(&app.plain, app.url(paths::HEALTHZ)).await, StatusCode::OK);

    proxy.restore();
    wait_until_ready(&app).await;
    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK, "the same cookie still works");
    assert_eq!(app.login_with(&app.plain, &email, PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_sqlite_database_locked_by_another_writer_answers_503_not_401() {
    let database = Arc::new(TestDatabase::new().await);
    if database.is_postgres() {
        eprintln!("skipped: SQLite's write lock is tested in the SQLite pass");
        return;
    }
    let app = spawn_app_on(Arc::clone(&database), owned(&[])).await;
    let (_, tokens) = app.registered_user().await;
    // The app's own writers queue behind the lock too, each for the busy timeout: let the mail
    // sender finish with the registration's mail first, so the refresh is the only one waiting.
    until_queued(&app, 0).await;
    // Another process (a backup, a migration) holds the write lock past the busy timeout.
    let mut other = sqlx::SqliteConnection::connect(&database.url).await.expect("another connection");
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.expect("take the write lock");

    let (response, took) = timed_refresh(&app).await;
    assert!(took < Duration::from_secs(4), "the busy wait is bounded ({took:?})");
    assert_unavailable(response).await;
    assert_eq!(app.me(&tokens.access_token).await.status(), StatusCode::OK);

    sqlx::query("ROLLBACK").execute(&mut other).await.expect("let go");
    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK, "nobody was logged out");
}

/// Another connection (straight to the database, not through the app's link) locks every
/// session row, so that a refresh waits inside its `SELECT ... FOR UPDATE` until let go.
async fn lock_the_sessions(database: &TestDatabase) -> sqlx::PgConnection {
    let mut blocker = sqlx::PgConnection::connect(&database.url).await.expect("a direct connection");
    sqlx::query("BEGIN").execute(&mut blocker).await.expect("begin");
    sqlx::query("SELECT id FROM sessions FOR UPDATE").execute(&mut blocker).await.expect("lock");
    blocker
}

/// How many statements in this test's database wait for a lock.
async fn waiting_for_a_lock(conn: &mut sqlx::PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_one(conn)
    .await
    .expect("pg_stat_activity")
}

/// Sends a refresh and returns its answer and how long it took.
async fn timed_refresh(app: &TestApp) -> (reqwest::Response, Duration) {
    let started = Instant::now();
    let response = app.refresh_with(&app.client).await;
    (response, started.elapsed())
}

#[tokio::test]
async fn a_database_that_stops_answering_mid_statement_gets_503_within_4_s_and_the_session_survives() {
    let Some((app, proxy, database)) = app_behind_a_proxy().await else {
        eprintln!("skipped: stalling the database link needs PostgreSQL (set TEST_POSTGRES_URL)");
        return;
    };
    app.registered_user().await;
    let mut blocker = lock_the_sessions(&database).await;

    // One refresh is inside its statement when the link goes silent; another starts after.
    let stall_soon = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.stall();
    };
    let ((in_flight, in_flight_took), ()) = tokio::join!(timed_refresh(&app), stall_soon);
    let (started_later, started_later_took) = timed_refresh(&app).await;
    eprintln!(
        "503 after {in_flight_took:?} (in flight) and {started_later_took:?} (started during the stall)"
    );
    for took in [in_flight_took, started_later_took] {
        assert!(took < Duration::from_secs(4), "answered within 4 s, not when the link returns ({took:?})");
    }
    assert_unavailable(in_flight).await;
    assert_unavailable(started_later).await;

    sqlx::query("ROLLBACK").execute(&mut blocker).await.expect("let go");
    proxy.restore();
    wait_until_ready(&app).await;
    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK, "the same cookie still works");
}

#[tokio::test]
async fn a_statement_stuck_behind_a_lock_is_cancelled_by_postgres_and_answers_503() {
    let Some((app, _proxy, database)) = app_behind_a_proxy().await else {
        eprintln!("skipped: statement_timeout is PostgreSQL's (set TEST_POSTGRES_URL)");
        return;
    };
    app.registered_user().await;
    let mut blocker = lock_the_sessions(&database).await;

    let (response, took) = timed_refresh(&app).await;
    assert!(took < Duration::from_secs(4), "the wait ended ({took:?})");
    assert_unavailable(response).await;
    // The server stopped the statement too: nothing of the app's still waits for the lock.
    let deadline = Instant::now() + Duration::from_secs(2);
    while waiting_for_a_lock(&mut blocker).await > 0 {
        assert!(Instant::now() < deadline, "statement_timeout cancelled the waiting statement");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    sqlx::query("ROLLBACK").execute(&mut blocker).await.expect("let go");
    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::OK, "the same cookie still works");
}

async fn wait_until_ready(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while status_of(&app.plain, app.url(paths::READYZ)).await != StatusCode::OK {
        assert!(Instant::now() < deadline, "not ready again within 20 s of the database coming back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

type Confirmed = Arc<std::sync::Mutex<HashMap<usize, String>>>;

/// Refreshes one session over and over, remembering the last token the server confirmed;
/// returns how many rotations it saw confirmed.
async fn keep_refreshing(
    client: Client,
    server: String,
    mut token: String,
    confirmed: Confirmed,
    id: usize,
) -> usize {
    let mut rotations = 0;
    loop {
        let sent = client
            .post(format!("{server}{}", paths::REFRESH))
            .header(CSRF_HEADER, CSRF_HEADER_VALUE)
            .header(reqwest::header::COOKIE, format!("{COOKIE_NAME}={token}"))
            .send()
            .await;
        let Ok(response) = sent else { return rotations };
        let Some(next) = refresh_token_of(&response).filter(|_| response.status() == StatusCode::OK) else {
            return rotations;
        };
        if response.bytes().await.is_err() {
            return rotations;
        }
        token = next;
        rotations += 1;
        confirmed.lock().expect("lock").insert(id, token.clone());
    }
}

#[tokio::test]
async fn kill_9_during_a_burst_of_refreshes_loses_no_committed_rotation() {
    const SESSIONS: usize = 20;
    let database = TestDatabase::new().await;
    let server = ServerProcess::start(&database.url).await;
    let client = Client::new();
    let mut users = Vec::new();
    let confirmed = Arc::new(std::sync::Mutex::new(HashMap::new()));
    for id in 0..SESSIONS {
        let email = unique_email();
        let body = json!({ "email": email, "password": PASSWORD });
        let response = client.post(server.url(paths::REGISTER)).json(&body).send().await.expect("sent");
        assert_eq!(response.status(), StatusCode::CREATED);
        let token = refresh_token_of(&response).expect("cookie");
        let access: TokenResponse = response.json().await.expect("tokens");
        confirmed.lock().expect("lock").insert(id, token);
        users.push(access.access_token);
    }
    let start: Vec<String> = (0..SESSIONS).map(|id| confirmed.lock().expect("lock")[&id].clone()).collect();
    let burst: Vec<_> = start
        .into_iter()
        .enumerate()
        .map(|(id, token)| {
            tokio::spawn(keep_refreshing(
                client.clone(),
                server.base.clone(),
                token,
                Arc::clone(&confirmed),
                id,
            ))
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut server = server;
    server.signal("KILL");
    server.wait_for_exit(Duration::from_secs(10)).await;
    let rotations: usize =
        futures::future::join_all(burst).await.into_iter().map(|done| done.unwrap_or(0)).sum();
    eprintln!("{rotations} rotations confirmed before kill -9");
    assert!(rotations >= SESSIONS, "the burst rotated every session at least once on average ({rotations})");
    let restarted = ServerProcess::start(&database.url).await;

    let confirmed = confirmed.lock().expect("lock").clone();
    for (id, token) in confirmed {
        let response = client
            .post(restarted.url(paths::REFRESH))
            .header(CSRF_HEADER, CSRF_HEADER_VALUE)
            .header(reqwest::header::COOKIE, format!("{COOKIE_NAME}={token}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "session {id}: the last confirmed refresh token still works"
        );
        let sessions =
            client.get(restarted.url(paths::SESSIONS)).bearer_auth(&users[id]).send().await.expect("sent");
        let listed: serde_json::Value = sessions.json().await.expect("sessions");
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "session {id} is still there: {listed}");
    }
}

#[tokio::test]
async fn sigterm_lets_the_request_in_flight_finish_and_refuses_new_connections() {
    let database = TestDatabase::new().await;
    let mut server = ServerProcess::start(&database.url).await;
    let email = unique_email();
    let client = Client::new();
    let body = json!({ "email": email, "password": PASSWORD });
    let registered = client.post(server.url(paths::REGISTER)).json(&body).send().await.expect("sent");
    assert_eq!(registered.status(), StatusCode::CREATED);

    // A login whose body is still on its way when the signal arrives.
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut in_flight = TcpStream::connect(&address).await.expect("connect");
    let body = body.to_string();
    let (first_half, second_half) = body.split_at(body.len() / 2);
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{first_half}",
        paths::LOGIN,
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.expect("send the first half");
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert!(TcpStream::connect(&address).await.is_err(), "new connections are refused while shutting down");
    in_flight.write_all(second_half.as_bytes()).await.expect("send the rest");
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).await.expect("read the answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "the in-flight login completed: {answer}");
    assert!(answer.contains("access_token"));
    let status = server.wait_for_exit(Duration::from_secs(10)).await;
    assert!(status.success(), "a clean exit: {status}");
}

#[tokio::test]
async fn log_format_json_writes_one_json_object_per_line() {
    let database = TestDatabase::new().await;
    let settings = [("LOG_FORMAT", "json"), ("RUST_LOG", "info")];
    let mut server = ServerProcess::start_with(&database.url, &settings, std::process::Stdio::piped()).await;
    server.signal("TERM");
    server.wait_for_exit(Duration::from_secs(10)).await;

    let mut logs = String::new();
    std::io::Read::read_to_string(&mut server.child.stdout.take().expect("stdout"), &mut logs).expect("logs");
    let lines: Vec<serde_json::Value> =
        logs.lines().map(|line| serde_json::from_str(line).expect("each line is JSON")).collect();
    assert!(lines
        .iter()
        .any(|line| line["fields"]["message"].as_str().is_some_and(|m| m.starts_with("listening on"))));
    assert!(lines.iter().all(|line| line["level"].is_string() && line["timestamp"].is_string()), "{logs}");
}

#[tokio::test]
async fn an_unknown_log_format_is_refused_at_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tokenpair"))
        .env("LOG_FORMAT", "xml")
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("LOG_FORMAT must be text or json"));
}
