//! What the server writes to its log about a request: which flow each line belongs to, and
//! never a password or a token.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokenpair::api::{paths, TokenResponse, CSRF_HEADER, CSRF_HEADER_VALUE};

use crate::helpers::{browser, refresh_token_of, unique_email, TestDatabase, PASSWORD};
use crate::support::ServerProcess;

#[tokio::test]
async fn every_log_line_of_a_flow_carries_its_span_and_no_secret_reaches_the_log() {
    let database = TestDatabase::new().await;
    let settings = [("LOG_FORMAT", "json"), ("RUST_LOG", "info")];
    let mut server = ServerProcess::start_with(&database.url, &settings, std::process::Stdio::piped()).await;
    let client = browser();
    let email = unique_email();
    let credentials = json!({ "email": email, "password": PASSWORD });
    let registered = client.post(server.url(paths::REGISTER)).json(&credentials).send().await.expect("sent");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let first_refresh = refresh_token_of(&registered).expect("cookie");
    let tokens: TokenResponse = registered.json().await.expect("tokens");
    let wrong = json!({ "email": email, "password": "not the password" });
    let refused = client.post(server.url(paths::LOGIN)).json(&wrong).send().await.expect("sent");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let refreshed = client
        .post(server.url(paths::REFRESH))
        .header(CSRF_HEADER, CSRF_HEADER_VALUE)
        .send()
        .await
        .expect("sent");
    let second_refresh = refresh_token_of(&refreshed).expect("rotated cookie");
    client.post(server.url(paths::LOGOUT)).header(CSRF_HEADER, CSRF_HEADER_VALUE).send().await.expect("sent");
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.signal("TERM");
    server.wait_for_exit(Duration::from_secs(10)).await;

    let mut logs = String::new();
    std::io::Read::read_to_string(&mut server.child.stdout.take().expect("stdout"), &mut logs).expect("logs");
    for secret in [PASSWORD, "not the password", &tokens.access_token, &first_refresh, &second_refresh] {
        assert!(!logs.contains(secret), "a secret reached the log: {secret}");
    }
    let lines: Vec<Value> = logs.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let span_of = |message: &str| {
        let line = lines.iter().find(|line| line["fields"]["message"] == message);
        line.unwrap_or_else(|| panic!("no line {message:?} in {logs}"))["span"]["name"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(span_of("registered").as_deref(), Some("register"));
    assert_eq!(span_of("login refused: wrong password").as_deref(), Some("login"));
    assert_eq!(span_of("refresh token rotated").as_deref(), Some("rotate"));
    assert_eq!(span_of("logged out").as_deref(), Some("logout"));
    let rotated =
        lines.iter().find(|line| line["fields"]["message"] == "refresh token rotated").expect("line");
    let spans: Vec<&str> =
        rotated["spans"].as_array().expect("spans").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(spans, ["refresh", "rotate"], "the rotation is inside the refresh: {rotated}");
    assert_eq!(rotated["span"]["session_id"], rotated["spans"][0]["session_id"]);
    assert_eq!(
        lines.iter().find(|l| l["fields"]["message"] == "registered").expect("line")["span"]["user_id"],
        tokens.user.id
    );
}
