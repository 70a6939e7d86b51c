//! The attack lab's server side, registered only with `TOKENPAIR_LAB=1` on a loopback address
//! (see `config.rs`). Each endpoint grants a capability a page must never have in real life,
//! so the lab can show what the defences do against an attacker who has it.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use axum_extra::extract::CookieJar;
use axum_extra::headers::authorization::Bearer;
use axum_extra::headers::Authorization;
use axum_extra::TypedHeader;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::RequestClient;
use crate::auth::extract::AuthUser;
use crate::auth::{cookie, flow, unix_now};
use crate::error::{Error, Result};
use crate::server::AppState;

/// `GET /api/lab`: whether the lab's extra endpoints are on. Always answers.
pub async fn status(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "enabled": state.config.lab }))
}

#[derive(Serialize, Deserialize)]
pub struct StolenCookie {
    pub refresh_token: String,
}

/// `POST /api/auth/lab/copy-cookie`: hands the page a copy of its own HttpOnly refresh cookie,
/// as malware on the machine or a network attacker without TLS could take it.
pub async fn copy_cookie(jar: CookieJar) -> Result<Json<StolenCookie>> {
    let refresh_token =
        jar.get(cookie::NAME).map(|c| c.value().to_owned()).ok_or(Error::InvalidRefreshToken)?;
    Ok(Json(StolenCookie { refresh_token }))
}

/// `POST /api/auth/lab/replay`: presents a refresh token from the attacker's side: the server
/// runs its real refresh on it and reports the answer, without setting any cookie.
pub async fn replay(
    State(state): State<AppState>,
    RequestClient(client): RequestClient,
    Json(stolen): Json<StolenCookie>,
) -> Json<serde_json::Value> {
    let answer = match flow::refresh(&state, Some(&stolen.refresh_token), None, &client).await {
        Ok(_) => serde_json::json!({ "status": 200, "outcome": "the server issued new tokens" }),
        Err(err) => {
            let status = err.into_response().status().as_u16();
            serde_json::json!({ "status": status, "outcome": "refused: reuse detected, the session is revoked" })
        }
    };
    Json(answer)
}

#[derive(Serialize)]
pub struct Forgery {
    pub name: &'static str,
    pub token: String,
    /// Why the server's verification refuses it (the same code `/api/me` runs).
    pub reason: String,
}

/// `POST /api/lab/forge`: forged variants of the caller's access token.
pub async fn forge(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    TypedHeader(Authorization(bearer)): TypedHeader<Authorization<Bearer>>,
) -> Result<Json<Vec<Forgery>>> {
    let real = bearer.token();
    let mut parts = real.split('.');
    let (header_b64, _payload, signature) =
        (parts.next().unwrap_or(""), parts.next(), parts.next().unwrap_or(""));
    let encode = |value: &serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let mut payload = serde_json::to_value(&claims).map_err(Error::internal)?;
    let none_header = serde_json::json!({ "alg": "none", "typ": "at+jwt" });
    let alg_none = format!("{}.{}.", encode(&none_header), encode(&payload));
    let impostor = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let signing_input = format!("{header_b64}.{}", encode(&payload));
    let other_key = format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(ed25519_dalek::Signer::sign(&impostor, signing_input.as_bytes()).to_bytes())
    );
    let an_hour_ago = unix_now() - 3600;
    let expired = state
        .tokens
        .sign_access(&claims.sub, &claims.email, &claims.sid, an_hour_ago)
        .map_err(Error::internal)?;
    payload["email"] = "attacker@example.com".into();
    let tampered = format!("{header_b64}.{}.{signature}", encode(&payload));
    let forgeries = [
        ("alg: none, no signature", alg_none),
        ("signed with another key", other_key),
        ("expired an hour ago (signed by the real key)", expired.token),
        ("payload tampered (email changed)", tampered),
    ];
    Ok(Json(
        forgeries
            .into_iter()
            .map(|(name, token)| {
                let reason =
                    state.tokens.verify_access(&token).err().map_or("accepted".into(), |r| r.to_string());
                Forgery { name, token, reason }
            })
            .collect(),
    ))
}

/// `GET /lab/attacker`: a page for the cross-site demo, opened on the app's *other* loopback
/// host name (localhost vs 127.0.0.1), which is another site to the browser.
pub async fn attacker_page() -> impl IntoResponse {
    (
        [(header::CONTENT_SECURITY_POLICY, "default-src 'none'; script-src 'self'; connect-src *")],
        axum::response::Html(ATTACKER_HTML),
    )
}

pub async fn attacker_script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], ATTACKER_JS)
}

const ATTACKER_HTML: &str = r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>evil page</title></head>
<body><h1>A page on another site</h1><pre id="log">trying…</pre><script src="/lab/attacker.js"></script></body></html>"#;

const ATTACKER_JS: &str = r#"
const target = new URLSearchParams(location.search).get("target");
async function attempt(label, init) {
  try {
    const response = await fetch(target + "/api/auth/refresh", { method: "POST", credentials: "include", ...init });
    return { label, read: "status " + response.status + ": " + (await response.text()).slice(0, 200) };
  } catch (error) {
    return { label, read: "nothing: " + error };
  }
}
(async () => {
  const results = [
    await attempt("plain cross-site POST (no custom header)", {}),
    await attempt("cross-site POST with X-Requested-With", { headers: { "X-Requested-With": "tokenpair" } }),
  ];
  document.getElementById("log").textContent = JSON.stringify(results, null, 2);
  if (window.opener) window.opener.postMessage({ tokenpairLab: results }, target);
})();
"#;
