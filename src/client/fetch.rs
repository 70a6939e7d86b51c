//! The one way the browser calls the API. Authenticated calls carry the access token as a
//! bearer header; a 401 triggers one refresh and one retry, so an expired token is invisible
//! to the page that made the call.

use gloo_net::http::{Method, Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::json;
use super::refresh::{self, Outcome};
use super::store::Auth;
use crate::api::{ErrorBody, CSRF_HEADER, CSRF_HEADER_VALUE};

/// Why a call did not produce the expected answer.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// The server answered with an error status and (usually) our JSON error body.
    Status { status: u16, body: ErrorBody },
    /// No usable answer: offline, connection refused, or a body we could not read.
    Network(String),
}

impl ApiError {
    /// A sentence to show a person.
    pub fn message(&self) -> String {
        match self {
            Self::Status { body, .. } => body.message.clone(),
            Self::Network(_) => "Cannot reach the server. Check your connection and try again.".into(),
        }
    }

    /// The request field a validation error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Status { body, .. } => body.field.as_deref(),
            Self::Network(_) => None,
        }
    }
}

/// `POST`s JSON to a public endpoint (register, login) and reads the JSON answer.
pub async fn post_json<R: DeserializeOwned>(path: &str, body: &impl Serialize) -> Result<R, ApiError> {
    let request = json::with_body(Request::post(path), body).map_err(network)?;
    decode(request.send().await.map_err(network)?).await
}

/// `POST`s with no body to a cookie endpoint (refresh, logout), with the custom header those
/// require and, when `bearer` is given, the access token it pairs with.
pub(super) async fn post_with_cookie(path: &str, bearer: Option<String>) -> Result<Response, ApiError> {
    let request = Request::post(path).header(CSRF_HEADER, CSRF_HEADER_VALUE);
    let request = match bearer {
        Some(token) => request.header("Authorization", &format!("Bearer {token}")),
        None => request,
    };
    request.send().await.map_err(network)
}

/// `GET`s a protected endpoint with the access token, refreshing once on a 401.
pub async fn get_authed<R: DeserializeOwned>(auth: Auth, path: &str) -> Result<R, ApiError> {
    decode(send_authed(auth, || Request::get(path).build()).await?).await
}

/// `POST`s JSON to a protected endpoint, refreshing once on a 401.
pub async fn post_authed<R: DeserializeOwned>(
    auth: Auth,
    path: &str,
    body: &impl Serialize,
) -> Result<R, ApiError> {
    decode(send_authed(auth, || json::with_body(Request::post(path), body)).await?).await
}

/// Sends a protected request that expects no body back (`204`), refreshing once on a 401.
pub async fn send_authed_empty(auth: Auth, method: Method, path: &str) -> Result<(), ApiError> {
    let response = send_authed(auth, || RequestBuilder::new(path).method(method.clone()).build()).await?;
    if response.ok() {
        return Ok(());
    }
    decode::<()>(response).await
}

/// Builds the request with `build` (twice if a refresh is needed: a request is sent only once),
/// adds the bearer header, and on a 401 refreshes once and retries once.
async fn send_authed(
    auth: Auth,
    build: impl Fn() -> Result<Request, gloo_net::Error>,
) -> Result<Response, ApiError> {
    let response = send_once(auth, build()).await?;
    if response.status() == 401 && refresh::refresh(auth).await == Outcome::Renewed {
        return send_once(auth, build()).await;
    }
    Ok(response)
}

async fn send_once(auth: Auth, request: Result<Request, gloo_net::Error>) -> Result<Response, ApiError> {
    let request = request.map_err(network)?;
    if let Some(token) = auth.access_token() {
        request.headers().set("Authorization", &format!("Bearer {token}"));
    }
    request.send().await.map_err(network)
}

async fn decode<R: DeserializeOwned>(response: Response) -> Result<R, ApiError> {
    if response.ok() {
        return json::read(&response).await.map_err(network);
    }
    let status = response.status();
    let body = json::read::<ErrorBody>(&response).await.unwrap_or_else(|_| ErrorBody {
        error: format!("http_{status}"),
        message: format!("The server answered {status} {}.", response.status_text()),
        field: None,
    });
    Err(ApiError::Status { status, body })
}

fn network(err: gloo_net::Error) -> ApiError {
    ApiError::Network(err.to_string())
}
