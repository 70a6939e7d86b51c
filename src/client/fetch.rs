//! The one way the browser calls the API. Authenticated calls carry the access token as a
//! bearer header; a 401 triggers one refresh and one retry, so an expired token is invisible
//! to the page that made the call.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::refresh::{self, Outcome};
use super::store::Auth;
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
    let request = Request::post(path).json(body).map_err(network)?;
    decode(request.send().await.map_err(network)?).await
}

/// `POST`s with no body (refresh, logout: the cookie is the credential).
pub(super) async fn post_empty(path: &str) -> Result<Response, ApiError> {
    Request::post(path).send().await.map_err(network)
}

/// `GET`s a protected endpoint with the access token, refreshing once on a 401.
pub async fn get_authed<R: DeserializeOwned>(auth: Auth, path: &str) -> Result<R, ApiError> {
    let response = send(Request::get(path), auth).await?;
    if response.status() == 401 && refresh::refresh(auth).await == Outcome::Renewed {
        return decode(send(Request::get(path), auth).await?).await;
    }
    decode(response).await
}

async fn send(request: RequestBuilder, auth: Auth) -> Result<Response, ApiError> {
    let request = match auth.access_token() {
        Some(token) => request.header("Authorization", &format!("Bearer {token}")),
        None => request,
    };
    request.send().await.map_err(network)
}

async fn decode<R: DeserializeOwned>(response: Response) -> Result<R, ApiError> {
    if response.ok() {
        return response.json().await.map_err(network);
    }
    let status = response.status();
    let body = response.json::<ErrorBody>().await.unwrap_or_else(|_| ErrorBody {
        error: format!("http_{status}"),
        message: format!("The server answered {status} {}.", response.status_text()),
        field: None,
    });
    Err(ApiError::Status { status, body })
}

fn network(err: gloo_net::Error) -> ApiError {
    ApiError::Network(err.to_string())
}
