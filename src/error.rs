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
    Validation { field: &'static str, message: String },
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
    /// 401 with `WWW-Authenticate: Bearer error="invalid_token"`: the access token is sound, but
    /// its session has been revoked or has expired, its user disabled, or the password changed.
    #[error("this session has ended; please log in again")]
    SessionRevoked,
    /// 401: the refresh token is missing, invalid, expired, revoked or not the current one.
    /// The refresh handler also clears the cookie.
    #[error("the refresh token is missing, expired or no longer valid; please log in again")]
    InvalidRefreshToken,
    /// 401: the refresh request carried an access token of another session (the pairing the
    /// design article asks for). The cookie is left alone: it may be another tab's.
    #[error("the access token and the refresh token do not belong to the same session")]
    TokenPairMismatch,
    /// 400: the request carried the refresh cookie more than once, so which session it speaks
    /// for is a guess; refused, and recorded for each account a copy names.
    #[error(
        "the request carries the refresh cookie more than once; clear this site's cookies and log in again"
    )]
    AmbiguousCookie,
    /// 403: with `REQUIRE_VERIFIED_EMAIL`, the right password of an account whose address has
    /// not answered its verification mail yet.
    #[error("confirm your email address first: open the link in the mail we sent you")]
    EmailNotVerified,
    /// 403: changing the password needs the current one.
    #[error("the current password is not correct")]
    WrongCurrentPassword,
    /// 403: a cross-site request, an unknown `Origin`, or a missing `X-Requested-With` header.
    #[error("{0}")]
    CrossSite(&'static str),
    /// 404: no such session among the user's own.
    #[error("no such session")]
    SessionNotFound,
    /// 400: a mailed link's token that is expired, used, voided by a newer one, or unknown:
    /// the same for each.
    #[error("this link has expired or was already used; ask for a new one")]
    InvalidOrExpiredLink,
    /// 404: no social-login provider of that name is configured and discovered.
    #[error("no such sign-in provider is available")]
    UnknownProvider,
    /// 404: the account has no identity of that provider.
    #[error("no identity of that provider is linked to this account")]
    IdentityNotFound,
    /// 409: unlinking would leave the account no way in.
    #[error("this is the account's only way in: set a password or link another provider first")]
    LastWayIn,
    /// 429 with `Retry-After`: too many attempts; wait and try again.
    #[error("too many requests; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// 400, 413, 415 or 422: the request body could not be read as the expected JSON.
    #[error("{message}")]
    BadBody { status: StatusCode, code: &'static str, message: String },
    /// 404: no such API route.
    #[error("no such API endpoint")]
    NotFound,
    /// 405: the route exists but not with this method.
    #[error("this endpoint does not accept that HTTP method")]
    MethodNotAllowed,
    /// 503 with `Retry-After`: the database is unreachable or overloaded. Never a 401, so a
    /// client keeps its session and tries again; logged on the server.
    #[error("the service is briefly unavailable; try again in a few seconds")]
    Unavailable(#[source] sqlx::Error),
    /// 503 with `Retry-After`: the server is at capacity (too many connections, or too many
    /// password hashes waiting); nothing about the request was wrong.
    #[error("the server is busy; try again in a few seconds")]
    Busy,
    /// 408: the request took longer than `REQUEST_TIMEOUT` to arrive and be answered.
    #[error("the request took too long")]
    RequestTimeout,
    /// 421: the `Host` is not one of `APP_ORIGIN`'s, so the request was not meant for this
    /// server (or a DNS-rebinding page sent it).
    #[error("this server does not answer for that host")]
    MisdirectedRequest,
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
            Self::AmbiguousCookie | Self::InvalidOrExpiredLink => StatusCode::BAD_REQUEST,
            Self::EmailTaken => StatusCode::CONFLICT,
            Self::InvalidCredentials
            | Self::InvalidAccessToken
            | Self::SessionRevoked
            | Self::InvalidRefreshToken
            | Self::TokenPairMismatch => StatusCode::UNAUTHORIZED,
            Self::WrongCurrentPassword | Self::EmailNotVerified | Self::CrossSite(_) => StatusCode::FORBIDDEN,
            Self::SessionNotFound | Self::UnknownProvider | Self::IdentityNotFound => StatusCode::NOT_FOUND,
            Self::LastWayIn => StatusCode::CONFLICT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadBody { status, .. } => *status,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) | Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::MisdirectedRequest => StatusCode::MISDIRECTED_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "validation_failed",
            Self::AmbiguousCookie => "ambiguous_cookie",
            Self::InvalidOrExpiredLink => "invalid_or_expired_link",
            Self::EmailNotVerified => "email_not_verified",
            Self::EmailTaken => "email_taken",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidAccessToken => "invalid_token",
            Self::SessionRevoked => "session_revoked",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::TokenPairMismatch => "token_pair_mismatch",
            Self::WrongCurrentPassword => "invalid_current_password",
            Self::CrossSite(_) => "cross_site_request",
            Self::SessionNotFound => "session_not_found",
            Self::UnknownProvider => "unknown_provider",
            Self::IdentityNotFound => "identity_not_found",
            Self::LastWayIn => "last_way_in",
            Self::RateLimited { .. } => "rate_limited",
            Self::BadBody { code, .. } => code,
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Unavailable(_) | Self::Busy => "service_unavailable",
            Self::RequestTimeout => "request_timeout",
            Self::MisdirectedRequest => "misdirected_request",
            Self::Internal(_) => "internal_error",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(source) => tracing::error!(error = %source, "request failed"),
            Self::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable; answered 503")
            }
            _ => {}
        }
        let field = match &self {
            Self::Validation { field, .. } => Some((*field).to_owned()),
            _ => None,
        };
        let body = ErrorBody { error: self.code().to_owned(), message: self.to_string(), field };
        let mut response = (self.status(), Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            Self::InvalidAccessToken | Self::SessionRevoked => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer error="invalid_token""#),
                );
            }
            Self::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
            }
            Self::Unavailable(_) | Self::Busy => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS));
            }
            _ => {}
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

/// What a 503 asks the client to wait: long enough for a database failover or restart to
/// make progress, short enough that nobody notices a brief blip.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        if crate::db::is_unavailable(&err) {
            Self::Unavailable(err)
        } else {
            Self::internal(err)
        }
    }
}
