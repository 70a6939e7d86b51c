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
}

/// Body of `POST /api/auth/register` and `POST /api/auth/login`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// Answer of register, login and refresh. The refresh token is not here: it travels only in
/// the HttpOnly cookie, out of reach of scripts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// Seconds the access token stays valid, counted from when the response arrives.
    pub expires_in: u64,
    pub user: User,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
}

/// Answer of `GET /api/me`, read from the access token alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub id: String,
    pub email: String,
    pub session_id: String,
}

/// Every error the API returns has this body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable, machine-readable code such as `invalid_credentials`.
    pub error: String,
    /// A sentence for humans.
    pub message: String,
    /// For validation errors: the request field at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
