//! A social login under way, from the start to its one callback. The browser holds only a
//! random value in a cookie; the flow (the PKCE verifier, `state`, `nonce`, where to land, and
//! for a link the user and session that asked) is a database row found by that value's hash.
//! So a callback needs the cookie of the browser that started (a callback sent to another
//! browser finds no flow), any instance can finish it, and the callback deletes the row as it
//! reads it, so the same flow never completes twice.

use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine as _;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge, Scope};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use time::Duration;

use super::{Failure, Providers};
use crate::db::{self, oidc_flows::FlowRow, Pool};

/// The flow cookie: `HttpOnly`, `Secure`, `SameSite=Lax` (it must come back with the
/// provider's top-level redirect, which a `Strict` cookie does not), only under [`COOKIE_PATH`].
pub const COOKIE: &str = "__Secure-tokenpair-oidc";
pub const COOKIE_PATH: &str = "/api/auth/oidc";
/// How long a person may take at the provider, in seconds.
pub const FLOW_LIFETIME_SECS: i64 = 600;

/// Who asked to link an identity: a logged-in user, from the sessions page.
#[derive(Clone, Copy, Debug)]
pub struct LinkFor<'a> {
    pub user_id: &'a str,
    pub session_id: &'a str,
}

/// A flow begun: the cookie that binds it to this browser, and where to send the browser.
pub struct Begun {
    pub cookie: Cookie<'static>,
    pub authorization_url: String,
}

/// Begins a flow at provider `name`: PKCE (S256), `state`, `nonce`, the configured scopes.
pub async fn begin(
    db: &Pool,
    providers: &Providers,
    name: &str,
    return_to: Option<&str>,
    link: Option<LinkFor<'_>>,
    now: i64,
) -> Result<Begun, Failure> {
    let (settings, discovered) = providers.get(name).ok_or(Failure::UnknownProvider)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let scopes = settings.scopes.iter().filter(|scope| *scope != "openid").cloned().map(Scope::new);
    let (url, state, nonce) = discovered
        .client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scopes(scopes)
        .set_pkce_challenge(challenge)
        .url();
    let value = random_value();
    let flow = FlowRow {
        id_hash: hash(&value),
        provider: name.to_owned(),
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        return_to: return_to.and_then(safe_return_path),
        link_user_id: link.map(|link| link.user_id.to_owned()),
        link_session_id: link.map(|link| link.session_id.to_owned()),
        expires_at: now + FLOW_LIFETIME_SECS,
    };
    db::oidc_flows::insert(db, &flow).await?;
    Ok(Begun { cookie: cookie(value), authorization_url: url.to_string() })
}

/// The flow this browser's cookie names, taken (deleted) so no other callback can use it; it
/// must be a flow at provider `name` whose `state` is the callback's.
pub async fn take(
    db: &Pool,
    cookie_value: Option<&str>,
    name: &str,
    state: Option<&str>,
    now: i64,
) -> Result<FlowRow, Failure> {
    let value = cookie_value.filter(|value| !value.is_empty()).ok_or(Failure::FlowExpired)?;
    let flow = db::oidc_flows::take(db, &hash(value), now).await?.ok_or(Failure::FlowExpired)?;
    // A plain comparison: the row was found by the cookie, so whoever could time it holds the
    // cookie and knows the state anyway.
    if state != Some(flow.state.as_str()) || flow.provider != name {
        return Err(Failure::StateMismatch);
    }
    Ok(flow)
}

/// A relative path on this site to land on afterwards, or nothing: `/sessions` yes;
/// `//evil.example`, `/\evil.example`, `https://…` and anything with a control character no.
pub fn safe_return_path(path: &str) -> Option<String> {
    let relative = path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\");
    let plain = path.len() <= 512 && !path.chars().any(|c| c.is_control() || c == '\\');
    (relative && plain).then(|| path.to_owned())
}

/// The cookie that deletes the flow cookie (the callback always sends it).
pub fn removal() -> Cookie<'static> {
    let mut cookie = cookie(String::new());
    cookie.set_max_age(Duration::ZERO);
    cookie.set_expires(time::OffsetDateTime::UNIX_EPOCH);
    cookie
}

fn cookie(value: String) -> Cookie<'static> {
    Cookie::build((COOKIE, value))
        .path(COOKIE_PATH)
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(Duration::seconds(FLOW_LIFETIME_SECS))
        .build()
}

/// 256 random bits, base64url.
fn random_value() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(value: &str) -> String {
    Sha256::digest(value.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::safe_return_path;

    #[test]
    fn only_paths_on_this_site_are_landed_on() {
        assert_eq!(safe_return_path("/sessions").as_deref(), Some("/sessions"));
        assert_eq!(safe_return_path("/account?tab=1").as_deref(), Some("/account?tab=1"));
        for refused in ["//evil.example", "/\\evil.example", "https://evil.example", "sessions", "/a\nb", ""]
        {
            assert_eq!(safe_return_path(refused), None, "{refused:?}");
        }
    }
}
