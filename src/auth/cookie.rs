//! The refresh cookie, with every attribute set in one place.
//!
//! `__Secure-` makes browsers refuse the cookie unless it is `Secure` and set over HTTPS (or
//! localhost). The stricter `__Host-` prefix would also forbid `Domain`, which we never set, but
//! it forces `Path=/`: the cookie would then ride along on every request to the site instead of
//! only the refresh and logout endpoints under `/api/auth`.

use axum::http::{header, HeaderMap};
use axum_extra::extract::cookie::{Cookie, SameSite};
use time::{Duration, OffsetDateTime};

use crate::api::LOGGED_IN_HINT_COOKIE;

pub const NAME: &str = "__Secure-tokenpair-refresh";
pub const PATH: &str = "/api/auth";
/// The device cookie (`device.rs`): sent only to the login endpoint.
pub const DEVICE_NAME: &str = "__Secure-tokenpair-device";
pub const DEVICE_PATH: &str = crate::api::paths::LOGIN;

/// The refresh cookie a request carries, read from every `Cookie` header. More than one copy is
/// `Err` with every copy: a sibling subdomain can plant a second one with `Domain=`, the
/// browser then sends both, and whichever a server read would be a guess an attacker can steer
/// (logging the victim into the attacker's account). The `__Host-` prefix would stop the
/// planting, but it forces `Path=/` (above); so the deployment must not give untrusted parties
/// a sibling subdomain, and a request with two copies is refused.
pub fn presented(headers: &HeaderMap) -> Result<Option<String>, Vec<String>> {
    let mut copies: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(|cookie| cookie.name() == NAME)
        .map(|cookie| cookie.value().to_owned())
        .collect();
    match copies.len() {
        0 | 1 => Ok(copies.pop()),
        _ => Err(copies),
    }
}

/// The cookie carrying `token`, kept by the browser for `max_age_secs`.
pub fn refresh(token: String, max_age_secs: i64) -> Cookie<'static> {
    let mut cookie = base(token);
    cookie.set_max_age(Duration::seconds(max_age_secs.max(0)));
    cookie
}

/// A cookie that makes the browser delete the refresh cookie. It repeats the name, path and
/// `Secure` of the original: browsers ignore a `__Secure-` cookie without `Secure`, deletions too.
pub fn removal() -> Cookie<'static> {
    let mut cookie = base(String::new());
    cookie.set_max_age(Duration::ZERO);
    cookie.set_expires(OffsetDateTime::UNIX_EPOCH);
    cookie
}

/// The logged-in hint that goes with the refresh cookie: no secret, readable by scripts
/// (not HttpOnly), on every path, with the same lifetime. It only spares visitors who never
/// logged in a refresh call at page load; it proves nothing.
pub fn hint(max_age_secs: i64) -> Cookie<'static> {
    let mut cookie = hint_base();
    cookie.set_max_age(Duration::seconds(max_age_secs.max(0)));
    cookie
}

pub fn hint_removal() -> Cookie<'static> {
    let mut cookie = hint_base();
    cookie.set_max_age(Duration::ZERO);
    cookie.set_expires(OffsetDateTime::UNIX_EPOCH);
    cookie
}

/// The device cookie carrying `token`: HttpOnly, Secure, SameSite=Strict, only for `/api/auth/login`.
pub fn device(token: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build((DEVICE_NAME, token))
        .path(DEVICE_PATH)
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(Duration::seconds(max_age_secs.max(0)))
        .build()
}

fn hint_base() -> Cookie<'static> {
    Cookie::build((LOGGED_IN_HINT_COOKIE, "1")).path("/").secure(true).same_site(SameSite::Strict).build()
}

fn base(value: String) -> Cookie<'static> {
    Cookie::build((NAME, value)).path(PATH).secure(true).http_only(true).same_site(SameSite::Strict).build()
}
