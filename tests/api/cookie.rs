use reqwest::StatusCode;

use tokenpair::api::paths;

use crate::helpers::{
    assert_error, refresh_set_cookie, spawn_app, spawn_app_with, unique_email, COOKIE_NAME, PASSWORD,
};

fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect()
}

fn max_age(set_cookie: &str) -> Option<i64> {
    attributes(set_cookie).iter().find_map(|a| a.strip_prefix("max-age=").and_then(|v| v.parse().ok()))
}

/// The cookie lives exactly as long as its token has left: `exp - now`, in whole seconds.
/// A second boundary between signing and answering takes one off, so allow that one.
fn lives_for(set_cookie: &str, lifetime: i64) -> bool {
    max_age(set_cookie).is_some_and(|age| (lifetime - 1..=lifetime).contains(&age))
}

#[tokio::test]
async fn the_refresh_cookie_is_httponly_secure_strict_host_only_and_scoped_to_api_auth() {
    let app = spawn_app().await;
    let response = app.register(&unique_email(), PASSWORD).await;
    let set_cookie = refresh_set_cookie(&response).expect("refresh cookie");

    assert!(set_cookie.starts_with("__Secure-tokenpair-refresh="), "{set_cookie}");
    let attributes = attributes(&set_cookie);
    for expected in ["httponly", "secure", "samesite=strict", "path=/api/auth"] {
        assert!(attributes.iter().any(|a| a == expected), "{expected} in {set_cookie}");
    }
    assert!(lives_for(&set_cookie, 7 * 24 * 60 * 60), "seven days: {set_cookie}");
    assert!(!attributes.iter().any(|a| a.starts_with("domain")), "host-only: {set_cookie}");
}

#[tokio::test]
async fn the_cookie_lifetime_follows_the_configured_refresh_lifetime() {
    let app = spawn_app_with(&[("ACCESS_TOKEN_TTL", "5"), ("REFRESH_TOKEN_TTL", "60")]).await;
    let response = app.register(&unique_email(), PASSWORD).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let set_cookie = refresh_set_cookie(&response).expect("refresh cookie");
    assert!(lives_for(&set_cookie, 60), "{set_cookie}");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["expires_in"], 5);
}

#[tokio::test]
async fn token_responses_are_never_cached() {
    let app = spawn_app().await;
    let response = app.register(&unique_email(), PASSWORD).await;
    assert_eq!(response.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
}

#[tokio::test]
async fn with_a_session_cap_rotation_never_extends_the_session_past_it() {
    let app = spawn_app_with(&[("SESSION_MAX_LIFETIME", "3s")]).await;
    let registered = app.register(&unique_email(), PASSWORD).await;
    let first = refresh_set_cookie(&registered).expect("cookie");
    assert!(lives_for(&first, 3), "{first}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let refreshed = app.refresh_with(&app.client).await;
    let max_age = refresh_set_cookie(&refreshed).as_deref().and_then(max_age).expect("max-age");
    assert!((1..=2).contains(&max_age), "the remaining lifetime, not a fresh 7 days: {max_age}");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    assert_eq!(app.refresh_with(&app.client).await.status(), StatusCode::UNAUTHORIZED, "past the cap");
}

#[tokio::test]
async fn a_refused_refresh_clears_the_logged_in_hint_as_well_as_the_refresh_cookie() {
    let app = spawn_app().await;
    let refused = app.refresh_presenting("not-a-refresh-token").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let removals: Vec<&str> = refused
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter(|value| max_age(value) == Some(0))
        .collect();
    let removes = |name: &str| removals.iter().any(|cookie| cookie.starts_with(&format!("{name}=")));
    assert!(removes("__Secure-tokenpair-refresh"), "the refresh cookie is removed: {removals:?}");
    assert!(removes("__Host-tokenpair-logged-in"), "the hint is removed too: {removals:?}");
}

/// A sibling subdomain can plant a second refresh cookie with `Domain=`; the browser then sends
/// both. Whichever the server read would be a guess an attacker can steer.
#[tokio::test]
async fn a_refresh_cookie_sent_twice_is_refused_as_ambiguous_and_recorded() {
    let app = spawn_app().await;
    let (_, victim) = app.registered_user().await;
    let victims = crate::helpers::refresh_token_of(&app.refresh_with(&app.client).await).expect("cookie");
    let planted =
        crate::helpers::refresh_token_of(&app.register_elsewhere(&unique_email()).await).expect("cookie");
    let one_header = format!("{COOKIE_NAME}={planted}; {COOKIE_NAME}={victims}");

    let refresh = app.refresh_request(&app.plain).header(reqwest::header::COOKIE, &one_header).send().await;
    assert_error(refresh.expect("sent"), StatusCode::BAD_REQUEST, "ambiguous_cookie").await;
    let two_headers = app
        .plain
        .post(app.url(paths::LOGIN))
        .header(reqwest::header::COOKIE, format!("{COOKIE_NAME}={planted}"))
        .header(reqwest::header::COOKIE, format!("{COOKIE_NAME}={victims}"))
        .json(&serde_json::json!({ "email": "someone@example.com", "password": PASSWORD }));
    assert_error(two_headers.send().await.expect("sent"), StatusCode::BAD_REQUEST, "ambiguous_cookie").await;

    let events = app.plain.get(app.url(paths::EVENTS)).bearer_auth(&victim.access_token).send().await;
    let events: Vec<serde_json::Value> = events.expect("sent").json().await.expect("events");
    assert!(events.iter().any(|e| e["kind"] == "ambiguous_cookie"), "recorded for the victim: {events:?}");
    assert_eq!(app.refresh_presenting(&victims).await.status(), StatusCode::OK, "one copy still works");
}
