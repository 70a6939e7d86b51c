//! How the browser's requests are built and sent: the one place that writes the
//! `Authorization` header, the DPoP proof (`dpop.rs`) and the header the cookie endpoints need.
//! It knows no auth state: `fetch` and `refresh` hand it the token, and the lab uses it to
//! send a stolen one.

use gloo_net::http::{Method, Request, RequestBuilder, Response};

use super::{dpop, json};
use crate::api::{paths, CSRF_HEADER, CSRF_HEADER_VALUE};

/// An access token as the tab holds it: bound to this origin's DPoP key (`token_type: DPoP`)
/// or a plain bearer token.
#[derive(Clone, PartialEq)]
pub struct AccessToken {
    pub token: String,
    pub bound: bool,
}

/// A call to the API.
pub struct ApiCall<'a> {
    pub method: Method,
    pub path: &'a str,
    pub access_token: Option<&'a AccessToken>,
    /// JSON text.
    pub body: Option<&'a str>,
    /// Refresh and logout, which act on the cookie: they need the custom header.
    pub cookie_endpoint: bool,
}

/// The endpoints that issue tokens: a proof goes along, and the tokens come back bound to its key.
const ISSUE_TOKENS: [&str; 4] =
    [paths::LOGIN, paths::REGISTER, paths::REFRESH, paths::PASSWORD_RESET_CONFIRM];

/// Sends `call`; a proof the server refused (for want of a fresh nonce, say, or with an `iat`
/// from a clock that moved) is made again once, with the nonce and the time its answer gave.
pub async fn send(call: &ApiCall<'_>) -> Result<Response, gloo_net::Error> {
    let with_proof = call.access_token.is_some_and(|token| token.bound) || ISSUE_TOKENS.contains(&call.path);
    let response = send_once(call, with_proof).await?;
    if with_proof && proof_refused(&response) {
        // Read the refusal to its end, so the connection (and a test waiting for the network
        // to go quiet) is not left with a body nobody takes.
        let _ = response.text().await;
        return send_once(call, with_proof).await;
    }
    Ok(response)
}

/// `use_dpop_nonce` or `invalid_dpop_proof`, as the server's `DPoP` challenge says.
fn proof_refused(response: &Response) -> bool {
    response.headers().get("www-authenticate").is_some_and(|challenge| {
        challenge.contains(r#"error="use_dpop_nonce""#) || challenge.contains(r#"error="invalid_dpop_proof""#)
    })
}

async fn send_once(call: &ApiCall<'_>, with_proof: bool) -> Result<Response, gloo_net::Error> {
    let proof = match with_proof {
        true => {
            let token = call.access_token.map(|token| token.token.clone());
            dpop::proof(call.method.to_string(), call.path.to_owned(), token).await
        }
        false => None,
    };
    let mut request = RequestBuilder::new(call.path).method(call.method.clone());
    if call.cookie_endpoint {
        request = request.header(CSRF_HEADER, CSRF_HEADER_VALUE);
    }
    if let Some(proof) = &proof {
        request = request.header("DPoP", proof);
    }
    if let Some(AccessToken { token, .. }) = call.access_token {
        let scheme = if proof.is_some() { "DPoP" } else { "Bearer" };
        request = request.header("Authorization", &format!("{scheme} {token}"));
    }
    let request = match call.body {
        Some(text) => json::with_text(request, Some(text.to_owned()))?,
        None => request.build()?,
    };
    let response = request.send().await?;
    dpop::remember_nonce(&response);
    Ok(response)
}

/// `request` with `Authorization: Bearer <token>`, if there is a token (the lab's stolen copy).
pub fn with_bearer(request: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(token) => request.header("Authorization", &format!("Bearer {token}")),
        None => request,
    }
}

/// A `POST` to a cookie endpoint (refresh, logout), with the custom header those require.
pub fn to_cookie_endpoint(path: &str) -> RequestBuilder {
    Request::post(path).header(CSRF_HEADER, CSRF_HEADER_VALUE)
}

/// `POST`s with no body to a cookie endpoint and, when given, the access token it pairs with.
pub async fn post_with_cookie(
    path: &str,
    access_token: Option<&AccessToken>,
) -> Result<Response, gloo_net::Error> {
    send(&ApiCall { method: Method::POST, path, access_token, body: None, cookie_endpoint: true }).await
}
