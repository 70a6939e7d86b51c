//! Social login against a provider on `localhost` (`oidc_provider.rs`), through the app's real
//! endpoints: the start redirect, the provider's consent, the callback, then the usual refresh.

use std::sync::Arc;
use std::time::Duration;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use tokenpair::api::{paths, TokenResponse, CSRF_HEADER, CSRF_HEADER_VALUE};

use crate::helpers::{
    assert_error, config_for, spawn_app_on, spawn_configured, unique_email, TestApp, TestDatabase, PASSWORD,
};
use crate::oidc_provider::{Behaviour, Person, TestProvider};

const NAME: &str = "testid";

async fn app_with_provider() -> (TestApp, TestProvider) {
    let provider = TestProvider::start().await;
    let app = spawn_app_on(Arc::new(TestDatabase::new().await), provider.settings(NAME)).await;
    (app, provider)
}

/// A browser: it keeps cookies, and the test follows each redirect itself.
fn browser() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().expect("client")
}

fn location(response: &Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "a redirect");
    response.headers()[reqwest::header::LOCATION].to_str().expect("text").to_owned()
}

/// The provider's answer for a flow begun by `browser`: the callback URL the provider sends it to.
async fn at_provider(browser: &Client, app: &TestApp, provider: &TestProvider, start: &str) -> String {
    let to_provider = location(&browser.get(app.url(start)).send().await.expect("start"));
    assert!(to_provider.starts_with(&format!("{}/authorize?", provider.issuer)), "{to_provider}");
    for part in ["code_challenge_method=S256", "state=", "nonce=", "scope=openid"] {
        assert!(to_provider.contains(part), "{part} in {to_provider}");
    }
    let callback = location(&browser.get(&to_provider).send().await.expect("authorize"));
    at_this_instance(app, &callback)
}

/// `url` on the test app's own port: the redirect URI names `APP_ORIGIN`, which is the default
/// `http://127.0.0.1:3000` here, while each test app listens on a port of its own.
fn at_this_instance(app: &TestApp, url: &str) -> String {
    let origin = &app.state.config.app_origins[0];
    url.strip_prefix(origin.as_str()).map_or_else(|| url.to_owned(), |rest| format!("{}{rest}", app.base))
}

/// A whole social login in `browser`; where the callback sent it.
async fn sign_in(browser: &Client, app: &TestApp, provider: &TestProvider) -> (String, Response) {
    let callback = at_provider(browser, app, provider, &format!("/api/auth/oidc/{NAME}/start")).await;
    assert!(callback.starts_with(&app.url(&format!("/api/auth/oidc/{NAME}/callback?"))), "{callback}");
    let landed = browser.get(&callback).send().await.expect("callback");
    (location(&landed), landed)
}

async fn refresh(app: &TestApp, browser: &Client) -> Response {
    browser
        .post(app.url(paths::REFRESH))
        .header(CSRF_HEADER, CSRF_HEADER_VALUE)
        .send()
        .await
        .expect("refresh")
}

async fn tokens_of(app: &TestApp, browser: &Client) -> TokenResponse {
    let response = refresh(app, browser).await;
    assert_eq!(response.status(), StatusCode::OK, "the usual refresh restores the session");
    response.json().await.expect("tokens")
}

async fn get_authed(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.plain.get(app.url(path)).bearer_auth(token).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.expect("json")
}

fn problem(reason: &str) -> String {
    format!("{}?reason={reason}&provider={NAME}", paths::SIGN_IN_PROBLEM)
}

#[tokio::test]
async fn a_new_person_gets_an_account_and_the_same_token_pair_as_a_password_login() {
    let (app, provider) = app_with_provider().await;
    let providers: Value =
        app.plain.get(app.url(paths::OIDC_PROVIDERS)).send().await.expect("list").json().await.expect("json");
    assert_eq!(providers, json!([{"name": NAME, "label": "Test ID"}]));
    let email = unique_email();
    provider.will_log_in(Person::verified(&email));
    let browser = browser();
    let (landing, landed) = sign_in(&browser, &app, &provider).await;
    assert_eq!(landing, "/account");
    let cookies: Vec<&str> =
        landed.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("__Secure-tokenpair-refresh=")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Strict")),
        "{cookies:?}"
    );
    assert!(
        cookies.iter().any(|c| c.starts_with("__Secure-tokenpair-oidc=;")),
        "the flow cookie is cleared: {cookies:?}"
    );
    let tokens = tokens_of(&app, &browser).await;
    assert_eq!(tokens.user.email, email);
    let me = get_authed(&app, &tokens.access_token, paths::ME).await;
    assert_eq!(me["email"], email.as_str());
    let sessions = get_authed(&app, &tokens.access_token, paths::SESSIONS).await;
    assert_eq!(sessions[0]["signed_in_with"], NAME);
    let ways = get_authed(&app, &tokens.access_token, paths::IDENTITIES).await;
    assert_eq!(ways["has_password"], false);
    assert_eq!(ways["identities"][0]["provider"], NAME);
    let events = get_authed(&app, &tokens.access_token, paths::EVENTS).await;
    let login =
        events.as_array().expect("events").iter().find(|e| e["kind"] == "login").expect("a login event");
    assert_eq!(login["detail"], "with Test ID");

    // The same person again, in another browser: the same account, through the link.
    let other = self::browser();
    assert_eq!(sign_in(&other, &app, &provider).await.0, "/account");
    assert_eq!(tokens_of(&app, &other).await.user.id, tokens.user.id);
    // No password works for it.
    assert_error(
        app.login_with(&app.plain, &email, PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn an_existing_email_is_never_linked_on_the_providers_word() {
    let (app, provider) = app_with_provider().await;
    let (email, owner) = app.registered_user().await;
    provider.will_log_in(Person::verified(&email));
    let browser = browser();
    let (landing, landed) = sign_in(&browser, &app, &provider).await;
    assert_eq!(landing, problem("account_exists"));
    assert!(crate::helpers::refresh_set_cookie(&landed).is_none(), "no session");
    assert_eq!(refresh(&app, &browser).await.status(), StatusCode::UNAUTHORIZED);
    let owner_token = tokens_of(&app, &app.client).await.access_token;
    let events = get_authed(&app, &owner_token, paths::EVENTS).await;
    assert!(
        events.as_array().expect("events").iter().any(|e| e["kind"] == "social_login_refused"),
        "{events}"
    );
    let ways = get_authed(&app, &owner_token, paths::IDENTITIES).await;
    assert_eq!(ways, json!({"has_password": true, "identities": []}));
    drop(owner);
}

#[tokio::test]
async fn a_logged_in_user_links_an_identity_and_then_logs_in_with_it() {
    let (app, provider) = app_with_provider().await;
    let mine = browser();
    let registered =
        app.post_json(&mine, paths::REGISTER, &json!({"email": unique_email(), "password": PASSWORD})).await;
    let token = registered.json::<TokenResponse>().await.expect("tokens");
    provider.will_log_in(Person::verified("someone-else-entirely@example.com"));
    let link = mine
        .post(app.url(&format!("/api/auth/oidc/{NAME}/link")))
        .bearer_auth(&token.access_token)
        .send()
        .await
        .expect("link");
    assert_eq!(link.status(), StatusCode::OK);
    let url =
        link.json::<Value>().await.expect("json")["authorization_url"].as_str().expect("url").to_owned();
    // The page navigates there; the flow cookie came with the link answer.
    let callback = at_this_instance(&app, &location(&mine.get(&url).send().await.expect("authorize")));
    let landed = mine.get(&callback).send().await.expect("callback");
    assert_eq!(location(&landed), format!("/sessions?linked={NAME}"));
    let ways = get_authed(&app, &token.access_token, paths::IDENTITIES).await;
    assert_eq!(ways["identities"][0]["provider"], NAME);
    assert_eq!(ways["identities"][0]["email"], "someone-else-entirely@example.com");
    let events = get_authed(&app, &token.access_token, paths::EVENTS).await;
    assert!(events.as_array().expect("events").iter().any(|e| e["kind"] == "identity_linked"), "{events}");

    let elsewhere = browser();
    assert_eq!(sign_in(&elsewhere, &app, &provider).await.0, "/account");
    assert_eq!(
        tokens_of(&app, &elsewhere).await.user.id,
        token.user.id,
        "the linked identity logs in to my account"
    );

    // With a password left, the identity may go; then it is gone.
    let unlink = || {
        app.plain
            .delete(app.url(&format!("{}/{NAME}", paths::IDENTITIES)))
            .bearer_auth(&token.access_token)
            .send()
    };
    assert_eq!(unlink().await.expect("unlink").status(), StatusCode::NO_CONTENT);
    assert_error(unlink().await.expect("unlink"), StatusCode::NOT_FOUND, "identity_not_found").await;
}

#[tokio::test]
async fn an_account_without_a_password_keeps_its_last_way_in_and_can_set_a_password() {
    let (app, provider) = app_with_provider().await;
    let email = unique_email();
    provider.will_log_in(Person::verified(&email));
    let browser = browser();
    sign_in(&browser, &app, &provider).await;
    let token = tokens_of(&app, &browser).await.access_token;
    let unlink =
        app.plain.delete(app.url(&format!("{}/{NAME}", paths::IDENTITIES))).bearer_auth(&token).send();
    assert_error(unlink.await.expect("unlink"), StatusCode::CONFLICT, "last_way_in").await;
    let set = app
        .plain
        .post(app.url(paths::PASSWORD))
        .bearer_auth(&token)
        .json(&json!({"current_password": "", "new_password": "a brand new passphrase"}))
        .send()
        .await
        .expect("set");
    assert_eq!(set.status(), StatusCode::OK, "{:?}", set.text().await);
    let token = tokens_of(&app, &browser).await.access_token;
    assert_eq!(get_authed(&app, &token, paths::IDENTITIES).await["has_password"], true);
    assert_eq!(app.login_with(&app.plain, &email, "a brand new passphrase").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_bad_answer_from_a_provider_ends_on_the_problem_page_without_a_session() {
    let (app, provider) = app_with_provider().await;
    let cases = [
        (Behaviour::OtherKey, "bad_id_token"),
        (Behaviour::AlgNone, "bad_id_token"),
        (Behaviour::MacWithClientSecret, "bad_id_token"),
        (Behaviour::Expired, "bad_id_token"),
        (Behaviour::WrongAudience, "bad_id_token"),
        (Behaviour::WrongNonce, "bad_id_token"),
        (Behaviour::WrongIssuer, "bad_id_token"),
        (Behaviour::Deny, "denied"),
        (Behaviour::MixUp, "issuer_mismatch"),
    ];
    for (behaviour, reason) in cases {
        provider.behave(behaviour);
        provider.will_log_in(Person::verified(&unique_email()));
        let browser = browser();
        let (landing, landed) = sign_in(&browser, &app, &provider).await;
        assert_eq!(landing, problem(reason), "{behaviour:?}");
        assert!(crate::helpers::refresh_set_cookie(&landed).is_none(), "{behaviour:?} gave no session");
        assert_eq!(refresh(&app, &browser).await.status(), StatusCode::UNAUTHORIZED, "{behaviour:?}");
    }
    // The problem page itself is a page, not an error.
    let page = app.plain.get(app.url(&problem("bad_id_token"))).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_callback_needs_the_flow_cookie_of_the_browser_that_started() {
    let (app, provider) = app_with_provider().await;
    provider.will_log_in(Person::verified(&unique_email()));
    let (victim, attacker) = (browser(), browser());
    // The attacker's own flow, finished in the victim's browser (login CSRF): no match.
    let start = format!("/api/auth/oidc/{NAME}/start");
    let attackers_callback = at_provider(&attacker, &app, &provider, &start).await;
    let _victims_own = at_provider(&victim, &app, &provider, &start).await;
    let landed = victim.get(&attackers_callback).send().await.expect("callback");
    assert_eq!(location(&landed), problem("state_mismatch"));
    // Without any flow cookie.
    let bare = Client::builder().redirect(Policy::none()).build().expect("client");
    assert_eq!(
        location(&bare.get(&attackers_callback).send().await.expect("callback")),
        problem("flow_expired")
    );
    // A callback with no query at all.
    let empty = bare.get(app.url(&format!("/api/auth/oidc/{NAME}/callback"))).send().await.expect("callback");
    assert_eq!(location(&empty), problem("flow_expired"));
}

#[tokio::test]
async fn a_flow_completes_once_and_a_replayed_code_is_refused() {
    let (app, provider) = app_with_provider().await;
    provider.will_log_in(Person::verified(&unique_email()));
    let jar = Arc::new(Jar::default());
    let browser =
        Client::builder().cookie_provider(Arc::clone(&jar)).redirect(Policy::none()).build().expect("client");
    let start = format!("/api/auth/oidc/{NAME}/start");
    let callback = at_provider(&browser, &app, &provider, &start).await;
    // A copy of the flow cookie, as someone who saw this browser's request would hold it.
    let cookie = flow_cookie_of(&app, &jar);
    assert_eq!(location(&browser.get(&callback).send().await.expect("callback")), "/account");
    let replay = Client::builder().redirect(Policy::none()).build().expect("client");
    let again = replay.get(&callback).header("cookie", cookie).send().await.expect("replay");
    assert_eq!(location(&again), problem("flow_expired"), "the flow was used");
    // A new flow in this browser, with the old code: the provider refuses it.
    let fresh = at_provider(&browser, &app, &provider, &start).await;
    let fresh_state = query_value(&fresh, "state");
    let old_code = query_value(&callback, "code");
    let forged = format!(
        "{}?code={old_code}&state={fresh_state}",
        app.url(&format!("/api/auth/oidc/{NAME}/callback"))
    );
    assert_eq!(location(&browser.get(&forged).send().await.expect("callback")), problem("code_rejected"));
}

#[tokio::test]
async fn a_provider_that_does_not_answer_ends_the_flow_after_the_timeout() {
    let provider = TestProvider::start().await;
    let database = Arc::new(TestDatabase::new().await);
    let settings = provider.settings(NAME);
    let mut config = config_for(&database, &settings);
    config.oidc_timeout = Duration::from_millis(500);
    let app = spawn_configured(database, settings, config).await;
    provider.will_log_in(Person::verified(&unique_email()));
    provider.behave(Behaviour::Slow(Duration::from_secs(3)));
    let browser = browser();
    let started = std::time::Instant::now();
    assert_eq!(sign_in(&browser, &app, &provider).await.0, problem("provider_unreachable"));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "gave up at the timeout, not when the provider answered"
    );
}

#[tokio::test]
async fn a_provider_down_at_start_is_retried_and_its_button_appears_once_it_answers() {
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = reserved.local_addr().expect("address").port();
    drop(reserved);
    let settings = TestProvider::settings_for(NAME, &format!("http://localhost:{port}"));
    let app = spawn_app_on(Arc::new(TestDatabase::new().await), settings).await;
    let list = || async {
        app.plain
            .get(app.url(paths::OIDC_PROVIDERS))
            .send()
            .await
            .expect("list")
            .json::<Value>()
            .await
            .expect("json")
    };
    assert_eq!(list().await, json!([]), "no button while the provider does not answer");
    let start = app.plain.get(app.url(&format!("/api/auth/oidc/{NAME}/start"))).send().await.expect("start");
    assert_eq!(
        start.url().path(),
        paths::SIGN_IN_PROBLEM,
        "an unavailable provider's start ends on the problem page"
    );
    let _provider = TestProvider::start_on(port).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while list().await == json!([]) {
        assert!(std::time::Instant::now() < deadline, "the provider was not discovered again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn only_a_path_on_this_site_is_landed_on() {
    let (app, provider) = app_with_provider().await;
    for (asked, landed) in
        [("/sessions", "/sessions"), ("//evil.example/", "/account"), ("https://evil.example/", "/account")]
    {
        provider.will_log_in(Person::verified(&unique_email()));
        let browser = browser();
        let start = format!("/api/auth/oidc/{NAME}/start?return_to={}", urlencode(asked));
        let callback = at_provider(&browser, &app, &provider, &start).await;
        assert_eq!(location(&browser.get(&callback).send().await.expect("callback")), landed, "{asked}");
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn query_value(url: &str, name: &str) -> String {
    let url = reqwest::Url::parse(url).expect("url");
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned()).expect("in the query")
}

/// The cookies `jar` would send to the callback, as a `Cookie` header.
fn flow_cookie_of(app: &TestApp, jar: &Jar) -> String {
    let url = app.url(&format!("/api/auth/oidc/{NAME}/callback")).parse().expect("url");
    let header = jar.cookies(&url).expect("the flow cookie");
    let cookies = header.to_str().expect("text").to_owned();
    assert!(cookies.contains("__Secure-tokenpair-oidc="), "{cookies}");
    cookies
}
