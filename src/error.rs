//! The one error type of the HTTP API. Every variant documents the status it produces; every
//! response body is `{"error": "<stable_code>", "message": "<for humans>"}`.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::api::ErrorBody;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 422: a field failed validation; names the field.
    #[error("{message}")]
    Validation { field: &'static str, message: &'static str },
    /// 409: registering an email that already has an account.
    #[error("an account with this email already exists")]
    EmailTaken,
    /// 401: wrong password or unknown email; deliberately the same for both.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// 401 with `WWW-Authenticate: Bearer error="invalid_token"`: the access token is missing,
    /// malformed, expired or not ours.
    #[error("the access token is missing, malformed, expired or not valid here")]
    InvalidAccessToken,
    /// 401: the refresh token is missing, invalid, expired, revoked or not the current one.
    /// The refresh handler also clears the cookie.
    #[error("the refresh token is missing, expired or no longer valid; please log in again")]
    InvalidRefreshToken,
    /// 400, 413, 415 or 422: the request body could not be read as the expected JSON.
    #[error("{message}")]
    BadBody { status: StatusCode, code: &'static str, message: String },
    /// 404: no such API route.
    #[error("no such API endpoint")]
    NotFound,
    /// 405: the route exists but not with this method.
    #[error("this endpoint does not accept that HTTP method")]
    MethodNotAllowed,
    /// 500: logged in full on the server; the client gets a fixed message.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn internal(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(err.into())
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::EmailTaken => StatusCode::CONFLICT,
            Self::InvalidCredentials | Self::InvalidAccessToken | Self::InvalidRefreshToken => {
                StatusCode::UNAUTHORIZED
            }
            Self::BadBody { status, .. } => *status,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "validation_failed",
            Self::EmailTaken => "email_taken",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidAccessToken => "invalid_token",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::BadBody { code, .. } => code,
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Internal(_) => "internal_error",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Self::Internal(source) = &self {
            tracing::error!(error = %source, "request failed");
        }
        let field = match &self {
            Self::Validation { field, .. } => Some((*field).to_owned()),
            _ => None,
        };
        let body = ErrorBody { error: self.code().to_owned(), message: self.to_string(), field };
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(self, Self::InvalidAccessToken) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer error="invalid_token""#),
            );
        }
        response
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        let (status, code) = match &rejection {
            JsonRejection::MissingJsonContentType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            _ => (StatusCode::BAD_REQUEST, "unreadable_body"),
        };
        Self::BadBody { status, code, message: rejection.body_text() }
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Self::internal(err)
    }
}
