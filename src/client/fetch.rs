//! The one way the browser calls the API. Authenticated calls carry the access token (with a
//! DPoP proof when it is bound, `request.rs`); a 401 triggers one refresh and one retry, so an
//! expired token is invisible to the page that made the call.

use gloo_net::http::{Method, Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::request::{self, ApiCall};
use super::store::{Auth, Outcome};
use super::{json, refresh};
use crate::api::ErrorBody;

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

    /// The server's error code (`invalid_or_expired_link`, …), if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Status { body, .. } => Some(&body.error),
            Self::Network(_) => None,
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
    decode(post_public(path, body).await?).await
}

/// `POST`s JSON with no access token; with a DPoP proof where tokens are issued (`request.rs`).
async fn post_public(path: &str, body: &impl Serialize) -> Result<Response, ApiError> {
    let text = json::to_string(body).ok_or_else(|| ApiError::Network("a body that is not JSON".into()))?;
    let call =
        ApiCall { method: Method::POST, path, access_token: None, body: Some(&text), cookie_endpoint: false };
    request::send(&call).await.map_err(network)
}

/// `POST`s JSON to a public endpoint whose success may have nothing to read: `Ok(None)` for a
/// `202 Accepted` (sign-up waiting for its mail, a reset request) or a `204 No Content`.
pub async fn post_json_or_accepted<R: DeserializeOwned>(
    path: &str,
    body: &impl Serialize,
) -> Result<Option<R>, ApiError> {
    let response = post_public(path, body).await?;
    if matches!(response.status(), 202 | 204) {
        return Ok(None);
    }
    decode(response).await.map(Some)
}

/// `GET`s a public endpoint (the social-login providers) and reads the JSON answer.
pub async fn get_json<R: DeserializeOwned>(path: &str) -> Result<R, ApiError> {
    decode(Request::get(path).send().await.map_err(network)?).await
}

/// `GET`s a protected endpoint with the access token, refreshing once on a 401.
pub async fn get_authed<R: DeserializeOwned>(auth: Auth, path: &str) -> Result<R, ApiError> {
    decode(send_authed(auth, Method::GET, path, None).await?).await
}

/// `POST`s JSON to a protected endpoint, refreshing once on a 401.
pub async fn post_authed<R: DeserializeOwned>(
    auth: Auth,
    path: &str,
    body: &impl Serialize,
) -> Result<R, ApiError> {
    let text = json::to_string(body).ok_or_else(|| ApiError::Network("a body that is not JSON".into()))?;
    decode(send_authed(auth, Method::POST, path, Some(text)).await?).await
}

/// Sends a protected request that expects no body back (`204`), refreshing once on a 401.
pub async fn send_authed_empty(auth: Auth, method: Method, path: &str) -> Result<(), ApiError> {
    let response = send_authed(auth, method, path, None).await?;
    if response.ok() {
        return Ok(());
    }
    decode::<()>(response).await
}

/// Sends a protected request with the access token held now, and on a 401 refreshes once and
/// sends it again (a request can be sent only once, so it is built anew).
async fn send_authed(
    auth: Auth,
    method: Method,
    path: &str,
    body: Option<String>,
) -> Result<Response, ApiError> {
    let response = send_once(auth, &method, path, body.clone()).await?;
    if response.status() == 401 && refresh::refresh(auth).await == Outcome::Renewed {
        return send_once(auth, &method, path, body).await;
    }
    Ok(response)
}

async fn send_once(
    auth: Auth,
    method: &Method,
    path: &str,
    body: Option<String>,
) -> Result<Response, ApiError> {
    let token = auth.access_token();
    let call = ApiCall {
        method: method.clone(),
        path,
        access_token: token.as_ref(),
        body: body.as_deref(),
        cookie_endpoint: false,
    };
    request::send(&call).await.map_err(network)
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
