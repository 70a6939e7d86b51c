//! "Forgot your password?" and email verification, through HTTP and a real SMTP server on
//! loopback (aiosmtpd, `mail_sink.rs`): every link these tests use came out of a mailbox.

use std::time::Duration;

use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use tokenpair::api::paths;

use crate::helpers::{
    assert_error, browser, eventually, owned, spawn_app_on, unique_email, until_queued, TestApp,
    TestDatabase, MAIL_WAIT, PASSWORD,
};
use crate::mail_sink::{Mail, MailSink};
use crate::support::ServerProcess;

const NEW_PASSWORD: &str = "a fresh and long passphrase";

async fn app_mailing_to(sink: &MailSink, settings: &[(&str, &str)]) -> TestApp {
    let mut all = owned(settings);
    all.push(("SMTP_URL".into(), sink.url()));
    spawn_app_on(std::sync::Arc::new(TestDatabase::new().await), all).await
}

async fn request_reset(app: &TestApp, email: &str) -> Response {
    app.post_json(&app.plain, paths::PASSWORD_RESET, &json!({ "email": email })).await
}

async fn confirm_reset(app: &TestApp, client: &Client, token: &str, password: &str) -> Response {
    let body = json!({ "token": token, "new_password": password });
    app.post_json(client, paths::PASSWORD_RESET_CONFIRM, &body).await
}

/// Registers `email` with `client`; the verification mail it gets is mail number 1.
async fn registered(app: &TestApp, client: &Client, email: &str) -> Value {
    let body = json!({ "email": email, "password": PASSWORD });
    let response = app.post_json(client, paths::REGISTER, &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.expect("token response")
}

/// The headers two answers must share to be told apart by nothing: all but the date.
fn headers_of(response: &Response) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str() != "date")
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or_default().to_owned()))
        .collect();
    headers.sort();
    headers
}

async fn answer_of(response: Response) -> (StatusCode, Vec<(String, String)>, String) {
    let headers = headers_of(&response);
    (response.status(), headers, response.text().await.expect("body"))
}

#[tokio::test]
async fn a_reset_request_answers_the_same_for_known_and_unknown_addresses() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[]).await;
    let (known, unknown) = (unique_email(), unique_email());
    registered(&app, &browser(), &known).await;

    let for_unknown = answer_of(request_reset(&app, &unknown).await).await;
    let for_known = answer_of(request_reset(&app, &known).await).await;

    assert_eq!(for_known, for_unknown, "status, headers and body alike");
    assert_eq!(for_known.0, StatusCode::ACCEPTED);
    assert_eq!(
        serde_json::from_str::<Value>(&for_known.2).expect("JSON"),
        json!({"status": "sent_if_registered"})
    );
    let mail = sink.mail_number(&known, 2).await; // the first is the verification mail
    assert_eq!(mail.subject, "Reset your tokenpair password");
    assert!(sink.mails_to(&unknown).is_empty(), "no mail to an address without an account");
}

#[tokio::test]
async fn a_reset_link_sets_the_password_ends_every_session_and_logs_this_browser_in() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[]).await;
    let email = unique_email();
    let (elsewhere, here) = (browser(), browser());
    let old = registered(&app, &elsewhere, &email).await;
    request_reset(&app, &email).await;
    let token = sink.mail_number(&email, 2).await.link_token("/reset-password");

    let response = confirm_reset(&app, &here, &token, NEW_PASSWORD).await;

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("token response");
    assert_eq!(body["user"]["email"], email.as_str());
    assert_eq!(body["user"]["email_verified"], true, "the mailbox answered");
    let me = app.me(body["access_token"].as_str().unwrap_or_default()).await;
    assert_eq!(me.status(), StatusCode::OK, "logged in");
    let old_access = old["access_token"].as_str().unwrap_or_default();
    assert_error(app.me(old_access).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    assert_eq!(
        app.refresh_with(&elsewhere).await.status(),
        StatusCode::UNAUTHORIZED,
        "the other session ended"
    );
    assert_eq!(app.refresh_with(&here).await.status(), StatusCode::OK, "this browser's session lives");
    let old_password = app.login_with(&app.plain, &email, PASSWORD).await;
    assert_error(old_password, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(app.login_with(&app.plain, &email, NEW_PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_reset_link_works_once_and_its_reuse_is_told_apart_from_nothing() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[]).await;
    let email = unique_email();
    registered(&app, &browser(), &email).await;
    request_reset(&app, &email).await;
    let token = sink.mail_number(&email, 2).await.link_token("/reset-password");
    assert_eq!(confirm_reset(&app, &browser(), &token, NEW_PASSWORD).await.status(), StatusCode::OK);

    let again = confirm_reset(&app, &browser(), &token, "yet another long passphrase").await;
    let unknown = confirm_reset(&app, &browser(), "bm90IGEgdG9rZW4gd2UgZXZlciBzZW50", NEW_PASSWORD).await;

    let again = assert_error(again, StatusCode::BAD_REQUEST, "invalid_or_expired_link").await;
    let unknown = assert_error(unknown, StatusCode::BAD_REQUEST, "invalid_or_expired_link").await;
    assert_eq!(again, unknown, "a used link and a made-up one answer alike");
}

#[tokio::test]
async fn a_newer_reset_link_voids_the_older_one() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[]).await;
    let email = unique_email();
    registered(&app, &browser(), &email).await;
    request_reset(&app, &email).await;
    let older = sink.mail_number(&email, 2).await.link_token("/reset-password");
    request_reset(&app, &email).await;
    let newer = sink.mail_number(&email, 3).await.link_token("/reset-password");

    let with_older = confirm_reset(&app, &browser(), &older, NEW_PASSWORD).await;

    assert_error(with_older, StatusCode::BAD_REQUEST, "invalid_or_expired_link").await;
    assert_eq!(confirm_reset(&app, &browser(), &newer, NEW_PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_expired_reset_link_is_refused() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[]).await;
    let email = unique_email();
    registered(&app, &browser(), &email).await;
    request_reset(&app, &email).await;
    let token = sink.mail_number(&email, 2).await.link_token("/reset-password");
    // 30 minutes pass: the row's expiry moves into the past.
    let now = tokenpair::auth::unix_now();
    sqlx::query("UPDATE one_time_tokens SET expires_at = $1 WHERE purpose = 'password_reset'")
        .bind(now - 1)
        .execute(&app.state.db)
        .await
        .expect("age the link");

    let response = confirm_reset(&app, &browser(), &token, NEW_PASSWORD).await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_or_expired_link").await;
    assert_eq!(app.login_with(&app.plain, &email, PASSWORD).await.status(), StatusCode::OK, "unchanged");
}

#[tokio::test]
async fn a_weak_new_password_is_refused_and_leaves_the_link_usable() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[]).await;
    let email = unique_email();
    registered(&app, &browser(), &email).await;
    request_reset(&app, &email).await;
    let token = sink.mail_number(&email, 2).await.link_token("/reset-password");

    let weak = confirm_reset(&app, &browser(), &token, "password").await;

    let body = assert_error(weak, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["field"], "new_password");
    assert_eq!(confirm_reset(&app, &browser(), &token, NEW_PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reset_requests_are_rate_limited_per_address_alike_for_known_and_unknown() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[("PASSWORD_RESET_RATE_LIMIT", "2/15m")]).await;
    let (known, unknown) = (unique_email(), unique_email());
    registered(&app, &browser(), &known).await;

    for email in [&known, &unknown] {
        for _ in 0..2 {
            assert_eq!(request_reset(&app, email).await.status(), StatusCode::ACCEPTED);
        }
    }
    let known_refused = request_reset(&app, &known).await;
    let unknown_refused = request_reset(&app, &unknown).await;

    let known_body = assert_error(known_refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let unknown_body = assert_error(unknown_refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(known_body["error"], unknown_body["error"]);
}

#[tokio::test]
async fn a_malformed_reset_request_is_422_naming_the_field() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[]).await;

    let response = request_reset(&app, "not an address").await;

    let body = assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["field"], "email");
}

#[tokio::test]
async fn mail_accepted_while_the_smtp_server_is_down_arrives_once_it_is_back() {
    let mut sink = MailSink::stopped();
    let app = app_mailing_to(&sink, &[]).await;
    let email = unique_email();
    registered(&app, &browser(), &email).await;
    request_reset(&app, &email).await;
    until_queued(&app, 2).await;
    tokio::time::sleep(Duration::from_millis(2500)).await; // at least one failed attempt

    sink.resume().await;

    let mails = sink.wait_for(&email, 2, Duration::from_secs(30)).await;
    assert!(mails.iter().any(|mail| mail.subject == "Reset your tokenpair password"));
    until_queued(&app, 0).await;
}

#[tokio::test]
async fn mail_queued_before_a_restart_is_delivered_after_it() {
    let database = TestDatabase::new().await;
    let mut sink = MailSink::stopped();
    let smtp_url = sink.url();
    let settings = [("RUST_LOG", "warn"), ("SMTP_URL", smtp_url.as_ref())];
    let first = ServerProcess::start_with(&database.url, &settings, std::process::Stdio::null()).await;
    let email = unique_email();
    let body = json!({ "email": email, "password": PASSWORD });
    let answer = browser().post(first.url(paths::REGISTER)).json(&body).send().await.expect("sent");
    assert_eq!(answer.status(), StatusCode::CREATED);
    until_tried_and_waiting(&database.url).await;
    drop(first); // killed: the verification mail was never delivered

    sink.resume().await;
    let _second = ServerProcess::start_with(&database.url, &settings, std::process::Stdio::null()).await;

    let mail = sink.mail_number(&email, 1).await;
    assert_eq!(mail.subject, "Confirm your email address for tokenpair");
}

/// Waits until the outbox's one mail has failed at least once and waits for its next attempt,
/// unclaimed: killed then, the process leaves it to the next one at once (killed while it holds
/// the claim, the next process would wait out the claim's minute).
async fn until_tried_and_waiting(database_url: &str) {
    let db = tokenpair::db::connect_and_migrate(database_url).await.expect("the test database");
    eventually(|| async {
        let row: Option<(i64, Option<i64>)> =
            sqlx::query_as("SELECT attempts, claimed_until FROM mail_outbox")
                .fetch_optional(&db)
                .await
                .expect("read");
        matches!(row, Some((1.., None))).then_some(()).ok_or(format!("the mail was not tried: {row:?}"))
    })
    .await;
}

#[tokio::test]
async fn verification_marks_the_address_and_the_next_token_says_so() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[]).await;
    let email = unique_email();
    let client = browser();
    let tokens = registered(&app, &client, &email).await;
    assert_eq!(tokens["user"]["email_verified"], false);
    let token = sink.mail_number(&email, 1).await.link_token("/verify-email");

    let confirmed = app.post_json(&app.plain, paths::VERIFY_EMAIL_CONFIRM, &json!({ "token": token })).await;

    assert_eq!(confirmed.status(), StatusCode::NO_CONTENT);
    let renewed: Value = app.refresh_with(&client).await.json().await.expect("token response");
    let me: Value =
        app.me(renewed["access_token"].as_str().unwrap_or_default()).await.json().await.expect("me");
    assert_eq!(me["email_verified"], true);
    let again = app.post_json(&app.plain, paths::VERIFY_EMAIL_CONFIRM, &json!({ "token": token })).await;
    assert_error(again, StatusCode::BAD_REQUEST, "invalid_or_expired_link").await;
}

#[tokio::test]
async fn the_verification_mail_can_be_sent_again_and_voids_the_first() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[]).await;
    let email = unique_email();
    let tokens = registered(&app, &browser(), &email).await;
    let first = sink.mail_number(&email, 1).await.link_token("/verify-email");

    let resent = app
        .plain
        .post(app.url(paths::VERIFY_EMAIL))
        .bearer_auth(tokens["access_token"].as_str().unwrap_or_default())
        .send()
        .await
        .expect("sent");

    assert_eq!(resent.status(), StatusCode::ACCEPTED);
    let second = sink.mail_number(&email, 2).await.link_token("/verify-email");
    let with_first = app.post_json(&app.plain, paths::VERIFY_EMAIL_CONFIRM, &json!({ "token": first })).await;
    assert_error(with_first, StatusCode::BAD_REQUEST, "invalid_or_expired_link").await;
    let with_second =
        app.post_json(&app.plain, paths::VERIFY_EMAIL_CONFIRM, &json!({ "token": second })).await;
    assert_eq!(with_second.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn with_required_verification_a_taken_address_signs_up_exactly_like_a_new_one() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[("REQUIRE_VERIFIED_EMAIL", "true")]).await;
    let email = unique_email();
    let body = json!({ "email": email, "password": PASSWORD });

    let new = answer_of(app.post_json(&app.plain, paths::REGISTER, &body).await).await;
    let taken = answer_of(app.post_json(&app.plain, paths::REGISTER, &body).await).await;

    assert_eq!(new, taken, "status, headers and body alike");
    assert_eq!(new.0, StatusCode::ACCEPTED);
    assert_eq!(serde_json::from_str::<Value>(&new.2).expect("JSON"), json!({"status": "verification_sent"}));
    assert!(!new.1.iter().any(|(name, _)| name == "set-cookie"), "nobody is logged in");
    let mails = sink.wait_for(&email, 2, MAIL_WAIT).await;
    let subjects: Vec<&str> = mails.iter().map(|mail| mail.subject.as_str()).collect();
    assert!(subjects.contains(&"Confirm your email address for tokenpair"), "{subjects:?}");
    assert!(subjects.contains(&"You already have a tokenpair account"), "{subjects:?}");
}

#[tokio::test]
async fn with_required_verification_the_account_logs_in_only_once_verified() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[("REQUIRE_VERIFIED_EMAIL", "true")]).await;
    let email = unique_email();
    app.post_json(&app.plain, paths::REGISTER, &json!({ "email": email, "password": PASSWORD })).await;
    let mail: Mail = sink.mail_number(&email, 1).await;

    let early = app.login_with(&app.plain, &email, PASSWORD).await;
    let wrong = app.login_with(&app.plain, &email, "not the password at all").await;

    assert_error(early, StatusCode::FORBIDDEN, "email_not_verified").await;
    assert_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let token = mail.link_token("/verify-email");
    let confirmed = app.post_json(&app.plain, paths::VERIFY_EMAIL_CONFIRM, &json!({ "token": token })).await;
    assert_eq!(confirmed.status(), StatusCode::NO_CONTENT);
    let login = app.login_with(&app.plain, &email, PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    let body: Value = login.json().await.expect("token response");
    assert_eq!(body["user"]["email_verified"], true);
}

#[tokio::test]
async fn opening_a_link_page_with_get_or_head_uses_nothing() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[]).await;
    let email = unique_email();
    registered(&app, &browser(), &email).await;
    request_reset(&app, &email).await;
    let mail = sink.mail_number(&email, 2).await;
    let link = mail.text.lines().find(|line| line.contains("/reset-password#token=")).expect("a link").trim();
    let page = app.url(&link[link.find("/reset-password").unwrap_or_default()..]);

    // What a mail scanner does: fetch the link, without cookies, with GET and with HEAD.
    let get = app.plain.get(&page).send().await.expect("GET");
    let head = app.plain.head(&page).send().await.expect("HEAD");

    assert_eq!(get.status(), StatusCode::OK);
    assert_eq!(head.status(), StatusCode::OK);
    let token = mail.link_token("/reset-password");
    assert_eq!(confirm_reset(&app, &browser(), &token, NEW_PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn two_instances_on_one_database_send_each_mail_once() {
    let sink = MailSink::start().await;
    let app = app_mailing_to(&sink, &[]).await;
    let other = app.another_instance().await;
    let emails: Vec<String> = (0..12).map(|_| unique_email()).collect();

    for (n, email) in emails.iter().enumerate() {
        let instance = if n % 2 == 0 { &app } else { &other };
        registered(instance, &browser(), email).await;
    }

    for email in &emails {
        sink.wait_for(email, 1, MAIL_WAIT).await;
    }
    until_queued(&app, 0).await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // a second poll of both senders
    for email in &emails {
        assert_eq!(sink.mails_to(email).len(), 1, "{email} got its mail once");
    }
}
