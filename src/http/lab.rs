//! The attack lab's server side, registered only with `TOKENPAIR_LAB=1` on a loopback address
//! (see `config.rs`). Each endpoint grants a capability a page must never have in real life,
//! so the lab can show what the defences do against an attacker who has it.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use axum_extra::extract::CookieJar;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::extract::{AuthUser, BearerToken, RequestClient};
use crate::api::lab::{Forgery, LabStatus, Replayed, StolenCookie};
use crate::api::User;
use crate::auth::flow::{self, RefreshRefused};
use crate::auth::tokens::Confirmation;
use crate::auth::{cookie, unix_now};
use crate::error::{Error, Result};
use crate::state::AppState;

/// `GET /api/lab`: whether the lab's extra endpoints are on. Always answers.
pub async fn status(State(state): State<AppState>) -> Json<LabStatus> {
    Json(LabStatus { enabled: state.config.lab })
}

/// `POST /api/auth/lab/copy-cookie`: hands the page a copy of its own HttpOnly refresh cookie,
/// as malware on the machine or a network attacker without TLS could take it.
pub async fn copy_cookie(jar: CookieJar) -> Result<Json<StolenCookie>> {
    let refresh_token =
        jar.get(cookie::NAME).map(|c| c.value().to_owned()).ok_or(Error::InvalidRefreshToken)?;
    Ok(Json(StolenCookie { refresh_token }))
}

/// `POST /api/auth/lab/replay`: presents a refresh token from the attacker's side: the server
/// runs its real refresh on it and reports what that refresh decided, without setting any cookie.
pub async fn replay(
    State(state): State<AppState>,
    RequestClient(client): RequestClient,
    Json(stolen): Json<StolenCookie>,
) -> Result<Json<Replayed>> {
    let presented = Some(stolen.refresh_token.as_str());
    let answer = match flow::try_refresh(&state.db, &state.tokens, presented, None, &client).await? {
        Ok(_) => Replayed {
            status: 200,
            outcome: "issued".into(),
            explanation: "the server issued new tokens to the thief".into(),
        },
        Err(refused) => {
            Replayed { status: 401, outcome: refused.name().into(), explanation: explain(refused) }
        }
    };
    Ok(Json(answer))
}

fn explain(refused: RefreshRefused) -> String {
    match refused {
        RefreshRefused::ReuseDetected => "refused: reuse detected, the whole session is now revoked".into(),
        RefreshRefused::InvalidToken => "refused: the token is not a valid refresh token".into(),
        RefreshRefused::Refused(refusal) => format!("refused: {}", refusal.name().replace('_', " ")),
    }
}

/// `POST /api/lab/forge`: forged variants of the caller's access token, each with the reason
/// the server's own verification gives for refusing it.
pub async fn forge(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    BearerToken(real): BearerToken,
) -> Result<Json<Vec<Forgery>>> {
    let mut parts = real.split('.');
    let (header_b64, _payload, signature) =
        (parts.next().unwrap_or(""), parts.next(), parts.next().unwrap_or(""));
    let encode = |value: &serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let mut payload = serde_json::to_value(&claims).map_err(Error::internal)?;
    let none_header = serde_json::json!({ "alg": "none", "typ": "at+jwt" });
    let alg_none = format!("{}.{}.", encode(&none_header), encode(&payload));
    let impostor = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let signing_input = format!("{header_b64}.{}", encode(&payload));
    let impostor_signature = ed25519_dalek::Signer::sign(&impostor, signing_input.as_bytes());
    let other_key = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(impostor_signature.to_bytes()));
    let an_hour_ago = unix_now() - 3600;
    let user =
        User { id: claims.sub.clone(), email: claims.email.clone(), email_verified: claims.email_verified };
    let expired = state
        .tokens
        .sign_access(&user, &claims.sid, Confirmation::jkt(&claims.cnf), an_hour_ago)
        .map_err(Error::internal)?;
    payload["email"] = "attacker@example.com".into();
    let tampered = format!("{header_b64}.{}.{signature}", encode(&payload));
    let forgeries = [
        ("alg: none, no signature", alg_none),
        ("signed with another key", other_key),
        ("expired an hour ago (signed by the real key)", expired.token),
        ("payload tampered (email changed)", tampered),
    ];
    let verdict =
        |token: &str| state.tokens.verify_access(token).err().map_or("accepted".into(), |r| r.to_string());
    let forgeries = forgeries.into_iter().map(|(name, token)| Forgery {
        name: name.into(),
        reason: verdict(&token),
        token,
    });
    Ok(Json(forgeries.collect()))
}

/// `GET /lab/attacker`: a page for the cross-site demo, opened on the app's *other* loopback
/// host name (localhost vs 127.0.0.1), which is another site to the browser.
/// The other site's page. It reports to the lab page that opened it (`window.opener`), so it
/// opts out of the opener isolation every other response has, as an ordinary site would.
pub async fn attacker_page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; script-src 'self'; connect-src *"),
            (header::HeaderName::from_static("cross-origin-opener-policy"), "unsafe-none"),
        ],
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
