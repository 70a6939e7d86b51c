//! What travels over the wire. Both halves compile this file, so the browser parses exactly
//! what the server writes.

use serde::{Deserialize, Serialize};

/// The JSON API's paths, named once.
pub mod paths {
    pub const REGISTER: &str = "/api/auth/register";
    pub const LOGIN: &str = "/api/auth/login";
    pub const REFRESH: &str = "/api/auth/refresh";
    pub const LOGOUT: &str = "/api/auth/logout";
    pub const ME: &str = "/api/me";
    pub const SESSIONS: &str = "/api/auth/sessions";
    pub const LOGOUT_OTHERS: &str = "/api/auth/logout-others";
    pub const LOGOUT_ALL: &str = "/api/auth/logout-all";
    pub const PASSWORD: &str = "/api/auth/password";
    pub const EVENTS: &str = "/api/auth/events";
    pub const CHAIN: &str = "/api/auth/sessions/current/chain";
    pub const JWKS: &str = "/.well-known/jwks.json";
    pub const OPENAPI: &str = "/api/openapi.json";
    pub const METRICS: &str = "/metrics";
    pub const HEALTHZ: &str = "/healthz";
    pub const READYZ: &str = "/readyz";
    pub const LAB: &str = "/api/lab";
}

/// A cookie that only says "this browser may have a session" (no secret in it), so the app
/// skips the refresh call for visitors who never logged in. Set and cleared with the refresh
/// cookie.
pub const LOGGED_IN_HINT_COOKIE: &str = "tokenpair-logged-in";

/// The header the browser app adds to refresh and logout; see `auth/guard.rs` for why.
pub const CSRF_HEADER: &str = "x-requested-with";
pub const CSRF_HEADER_VALUE: &str = "tokenpair";

/// Body of `POST /api/auth/register` and `POST /api/auth/login`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// Answer of register, login and refresh. The refresh token is not here: it travels only in
/// the HttpOnly cookie, out of reach of scripts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// Seconds the access token stays valid, counted from when the response arrives.
    pub expires_in: u64,
    pub user: User,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub id: String,
    pub email: String,
}

/// Answer of `GET /api/me`, read from the access token alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: String,
    pub email: String,
    pub session_id: String,
}

/// One of the user's live sessions, in `GET /api/auth/sessions`. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub id: String,
    pub created_at: i64,
    pub last_refreshed_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// The session the request's access token belongs to.
    pub current: bool,
}

/// Something that happened to the account, in `GET /api/auth/events`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecurityEvent {
    pub id: i64,
    /// `registered`, `login`, `login_failed`, `refresh`, `refresh_repeated`, `reuse_detected`,
    /// `pairing_mismatch`, `logout`, `session_revoked`, `password_changed`.
    pub kind: String,
    pub session_id: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub at: i64,
}

/// The server's view of the caller's session, in `GET /api/auth/sessions/current/chain`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionChain {
    pub session_id: String,
    /// Every refresh token the session was issued, oldest first.
    pub tokens: Vec<ChainLink>,
    /// What the server decided about this session (rotations, grace answers, reuse), newest first.
    pub decisions: Vec<SecurityEvent>,
}

/// One refresh token of a session, named by the first characters of its `jti`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChainLink {
    pub jti_prefix: String,
    pub parent_prefix: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
}

/// Body of `POST /api/auth/password`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// How many sessions an action revoked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Revoked {
    pub revoked: usize,
}

/// Every error the API returns has this body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// A stable, machine-readable code such as `invalid_credentials`.
    pub error: String,
    /// A sentence for humans.
    pub message: String,
    /// For validation errors: the request field at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
