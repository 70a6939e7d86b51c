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
    /// 400: `DPOP=required`, and a login, registration, refresh or reset came with no DPoP
    /// proof (`auth/dpop.rs`).
    #[error("this server issues only tokens bound to a key: send a DPoP proof")]
    DpopRequired,
    /// A DPoP proof that fails a check: `400 invalid_dpop_proof` where tokens are issued (RFC
    /// 9449 §5), `401` at a resource (§7.1); both with `WWW-Authenticate: DPoP
    /// error="invalid_dpop_proof"`.
    #[error("the DPoP proof is malformed, replayed, or not for this request")]
    InvalidDpopProof { at: ProofAt },
    /// The proof's nonce is missing or too old (§8, §9): the same statuses as above, with
    /// `use_dpop_nonce` and the nonce to retry with in `DPoP-Nonce`.
    #[error("the DPoP proof needs the server's current nonce, sent in DPoP-Nonce")]
    UseDpopNonce { at: ProofAt, nonce: String },
    /// 401 with `WWW-Authenticate: DPoP error="invalid_token"`: a bound access token without a
    /// proof by its key (as a bearer token, say), an unbound one under the DPoP scheme, or a
    /// bearer token where DPoP is required.
    #[error("this access token must come with a DPoP proof by the key it is bound to")]
    DpopBinding,
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
            Self::AmbiguousCookie | Self::InvalidOrExpiredLink | Self::DpopRequired => {
                StatusCode::BAD_REQUEST
            }
            Self::InvalidDpopProof { at } | Self::UseDpopNonce { at, .. } => at.status(),
            Self::DpopBinding => StatusCode::UNAUTHORIZED,
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
            Self::InvalidAccessToken | Self::DpopBinding => "invalid_token",
            Self::DpopRequired => "dpop_required",
            Self::InvalidDpopProof { .. } => "invalid_dpop_proof",
            Self::UseDpopNonce { .. } => "use_dpop_nonce",
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
            Self::DpopBinding => {
                headers.insert(header::WWW_AUTHENTICATE, dpop_challenge("invalid_token"));
            }
            // At a token endpoint too (where §5 asks only for the JSON body): a client tells a
            // refused proof from the request's other errors without reading the body.
            Self::InvalidDpopProof { .. } => {
                headers.insert(header::WWW_AUTHENTICATE, dpop_challenge("invalid_dpop_proof"));
            }
            Self::UseDpopNonce { nonce, .. } => {
                headers.insert(header::WWW_AUTHENTICATE, dpop_challenge("use_dpop_nonce"));
                if let Ok(nonce) = HeaderValue::from_str(&nonce) {
                    headers.insert(DPOP_NONCE, nonce);
                }
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

/// Where a DPoP proof was checked, which decides how its refusal is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofAt {
    /// Login, registration, refresh, reset: where tokens are issued. `400`.
    TokenEndpoint,
    /// A request with an access token. `401` and a `WWW-Authenticate: DPoP` challenge.
    Resource,
}

impl ProofAt {
    fn status(self) -> StatusCode {
        match self {
            Self::TokenEndpoint => StatusCode::BAD_REQUEST,
            Self::Resource => StatusCode::UNAUTHORIZED,
        }
    }
}

/// The header a server nonce travels in (RFC 9449 §8).
pub const DPOP_NONCE: header::HeaderName = header::HeaderName::from_static("dpop-nonce");

/// `DPoP error="…", algs="ES256 EdDSA"` (§7.1).
fn dpop_challenge(error: &str) -> HeaderValue {
    let algs = crate::auth::dpop::ALGORITHMS;
    HeaderValue::from_str(&format!(r#"DPoP error="{error}", algs="{algs}""#))
        .unwrap_or_else(|_| HeaderValue::from_static("DPoP"))
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
