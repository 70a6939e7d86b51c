//! The browser's half of DPoP (RFC 9449; the server's is `auth/dpop.rs`): every request that
//! logs in, refreshes or carries the access token also carries a proof, a small JWT signed by
//! a key this origin holds but no script can read out (`key_store.rs`). Tokens issued against
//! a proof are bound to that key, so a copied token or refresh cookie is worthless elsewhere.
//!
//! - The key is loaded (or made) at the first proof and kept for the tab's life; logout
//!   deletes it (and the logout answer's `Clear-Site-Data` clears the store anyway).
//! - The server's nonce arrives in `DPoP-Nonce` on every API answer and goes into the next
//!   proof; a proof refused for want of a fresh one is sent again once (`request.rs`). The
//!   answer's `Date` sets the proof's `iat`, so a browser whose clock is wrong still gets in.
//! - Everything here is loaded on first use, in a wasm chunk of its own (`#[lazy]`): the key,
//!   WebCrypto, IndexedDB and the signed requests themselves weigh nothing on the main wasm.
//! - No WebCrypto or IndexedDB (an old browser, a private window that refuses storage): no
//!   proof, and the server issues plain bearer tokens unless it requires DPoP.

pub mod key_store;

use std::cell::RefCell;

use leptos::lazy;
use serde::Serialize;

use gloo_net::http::Response;

use super::browser;
use super::request::{self, SignedCall};
use crate::api::paths;

thread_local! {
    /// The key, once loaded; `None` again after logout.
    static KEY: RefCell<Option<key_store::StoredKey>> = const { RefCell::new(None) };
    /// The latest nonce the server handed out.
    static NONCE: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The server's clock as the latest answer's `Date` gave it (Unix ms), and this page's
    /// monotonic clock then: a proof's `iat` is the server's time carried on by the monotonic
    /// clock, so a wrong or changed wall clock here refuses nothing.
    static SERVER_CLOCK: RefCell<Option<(f64, f64)>> = const { RefCell::new(None) };
}

/// Sends `call` with a proof; a proof the server refused (for want of a fresh nonce, say, or with
/// an `iat` from a clock that moved) is made again once, with the nonce and the time its answer
/// gave.
#[lazy]
pub async fn send_signed(call: SignedCall) -> Result<Response, gloo_net::Error> {
    if call.path == paths::LOGOUT {
        return log_out(&call).await;
    }
    let response = send_with_proof(&call).await?;
    if !proof_refused(&response) {
        return Ok(response);
    }
    // Read the refusal to its end, so the connection (and a test waiting for the network to go
    // quiet) is not left with a body nobody takes.
    let _ = response.text().await;
    send_with_proof(&call).await
}

async fn send_with_proof(call: &SignedCall) -> Result<Response, gloo_net::Error> {
    let token = call.access_token.as_ref().map(|token| token.token.as_str());
    let proof = proof(call.method.as_str(), &call.path, token).await;
    let response = request::send_once(&call.call(), proof.as_deref()).await?;
    remember_nonce(&response);
    Ok(response)
}

/// `use_dpop_nonce` or `invalid_dpop_proof`, as the server's `DPoP` challenge says.
fn proof_refused(response: &Response) -> bool {
    response.headers().get("www-authenticate").is_some_and(|challenge| {
        challenge.contains(r#"error="use_dpop_nonce""#) || challenge.contains(r#"error="invalid_dpop_proof""#)
    })
}

/// Remembers the nonce an API answer carries, for the next proof, and the server's clock.
fn remember_nonce(response: &gloo_net::http::Response) {
    let headers = response.headers();
    if let Some(nonce) = headers.get("dpop-nonce") {
        NONCE.with(|held| *held.borrow_mut() = Some(nonce));
    }
    let server_ms = headers.get("date").map(|date| js_sys::Date::parse(&date)).filter(|ms| ms.is_finite());
    if let Some(server_ms) = server_ms {
        // `Date` has whole seconds: half a second is the best guess within it.
        SERVER_CLOCK.with(|clock| *clock.borrow_mut() = Some((server_ms + 500.0, browser::now_ms())));
    }
}

/// The server's clock now, in Unix seconds, as far as this tab can tell (its own wall clock
/// before any answer came).
fn server_now_secs() -> i64 {
    let now_ms = match SERVER_CLOCK.with(|clock| *clock.borrow()) {
        Some((server_ms, at)) => server_ms + (browser::now_ms() - at),
        None => js_sys::Date::now(),
    };
    (now_ms / 1000.0) as i64
}

/// The nonce the next proof will carry.
fn current_nonce() -> Option<String> {
    NONCE.with(|held| held.borrow().clone())
}

#[derive(Serialize)]
struct ProofClaims<'a> {
    jti: &'a str,
    htm: &'a str,
    htu: &'a str,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<&'a str>,
}

/// A proof for `method` on this origin's `path`, with the `ath` of `access_token` when one goes
/// along; `None` if this browser cannot make one.
async fn proof(method: &str, path: &str, access_token: Option<&str>) -> Option<String> {
    let key = key().await?;
    let (.., origin) = browser::location()?;
    let jti = key_store::random_id()?;
    let ath = match access_token {
        Some(token) => Some(browser::encode_base64url(&key_store::sha256(token.as_bytes()).await.ok()?)),
        None => None,
    };
    let nonce = current_nonce();
    let htu = format!("{origin}{path}");
    let iat = server_now_secs();
    let claims =
        ProofClaims { jti: &jti, htm: method, htu: &htu, iat, nonce: nonce.as_deref(), ath: ath.as_deref() };
    let header = format!(r#"{{"typ":"dpop+jwt","alg":"{}","jwk":{}}}"#, key.alg, key.jwk);
    let claims = super::json::to_string(&claims)?;
    let input = format!(
        "{}.{}",
        browser::encode_base64url(header.as_bytes()),
        browser::encode_base64url(claims.as_bytes())
    );
    let signature = key_store::sign(&key, input.as_bytes()).await.ok()?;
    Some(format!("{input}.{}", browser::encode_base64url(&signature)))
}

/// The key's RFC 7638 thumbprint, as the tokens' `cnf.jkt` names it (for the inspector), if
/// this tab holds a key.
#[lazy]
pub async fn thumbprint() -> Option<String> {
    let key = match KEY.with(|held| held.borrow().clone()) {
        Some(key) => key,
        None => key_store::load().await.ok()??,
    };
    Some(browser::encode_base64url(&key_store::sha256(key.jwk.as_bytes()).await.ok()?))
}

/// Forgets the key in this tab (another tab logged out and deleted it).
pub fn forget_key() {
    KEY.with(|held| held.take());
}

/// Logout: the key is forgotten and deleted from the store (the next login makes a new one),
/// then the request goes, with no proof: ending a session needs none.
async fn log_out(call: &SignedCall) -> Result<Response, gloo_net::Error> {
    forget_key();
    if key_store::delete().await.is_err() {
        leptos::logging::warn!("could not delete the DPoP key; the logout's Clear-Site-Data removes it");
    }
    request::send_once(&call.call(), None).await
}

async fn key() -> Option<key_store::StoredKey> {
    if let Some(key) = KEY.with(|held| held.borrow().clone()) {
        return Some(key);
    }
    match key_store::load_or_create().await {
        Ok(key) => {
            KEY.with(|held| *held.borrow_mut() = Some(key.clone()));
            Some(key)
        }
        Err(err) => {
            leptos::logging::warn!("no DPoP key ({err:?}): this tab's tokens will not be bound");
            None
        }
    }
}
