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

/// The endpoints that issue tokens: a proof goes along, and the tokens come back bound to its
/// key. And logout, which ends the key's life: `dpop::send_signed` deletes it.
const SIGNED: [&str; 5] =
    [paths::LOGIN, paths::REGISTER, paths::REFRESH, paths::PASSWORD_RESET_CONFIRM, paths::LOGOUT];

/// Sends `call`. One to an endpoint that issues tokens, or with a bound token, goes with a DPoP
/// proof (and a logout deletes the key): `dpop::send_signed`, in a wasm chunk of its own.
pub async fn send(call: &ApiCall<'_>) -> Result<Response, gloo_net::Error> {
    let with_proof = call.access_token.is_some_and(|token| token.bound) || SIGNED.contains(&call.path);
    if with_proof {
        return dpop::send_signed(SignedCall::from(call)).await;
    }
    send_once(call, None).await
}

/// An [`ApiCall`] that owns its parts, to hand to the chunk that signs it.
pub struct SignedCall {
    pub method: Method,
    pub path: String,
    pub access_token: Option<AccessToken>,
    pub body: Option<String>,
    pub cookie_endpoint: bool,
}

impl From<&ApiCall<'_>> for SignedCall {
    fn from(call: &ApiCall<'_>) -> Self {
        Self {
            method: call.method.clone(),
            path: call.path.to_owned(),
            access_token: call.access_token.cloned(),
            body: call.body.map(str::to_owned),
            cookie_endpoint: call.cookie_endpoint,
        }
    }
}

impl SignedCall {
    pub fn call(&self) -> ApiCall<'_> {
        ApiCall {
            method: self.method.clone(),
            path: &self.path,
            access_token: self.access_token.as_ref(),
            body: self.body.as_deref(),
            cookie_endpoint: self.cookie_endpoint,
        }
    }
}

/// Sends `call` once, with `proof` if there is one (then a token goes under the `DPoP` scheme).
pub async fn send_once(call: &ApiCall<'_>, proof: Option<&str>) -> Result<Response, gloo_net::Error> {
    let mut request = RequestBuilder::new(call.path).method(call.method.clone());
    if call.cookie_endpoint {
        request = request.header(CSRF_HEADER, CSRF_HEADER_VALUE);
    }
    if let Some(proof) = proof {
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
    request.send().await
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
