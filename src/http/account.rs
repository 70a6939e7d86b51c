//! Sessions, logout everywhere, password change, security events: all authenticated by the
//! access token, all acting on the database.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::extract::{AuthUser, JsonBody, RequestClient};
use super::openapi::{BearerRefused, BodyRefused, RateLimited, Unavailable};
use crate::api::{ErrorBody, PasswordChange, Revoked, SecurityEvent, SessionChain, SessionInfo};
use crate::auth::account;
use crate::error::Result;
use crate::state::AppState;

/// The user's live sessions; `current` marks the one making the request.
#[utoipa::path(get, path = "/api/auth/sessions", tag = "sessions", security(("bearer" = [])), responses(
    (status = 200, body = Vec<SessionInfo>),
    BearerRefused, Unavailable,
))]
pub async fn sessions(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Json<Vec<SessionInfo>>> {
    Ok(Json(account::sessions(&state.db, &who).await?))
}

/// Revoke one of the user's sessions: its next refresh fails, and its access tokens at once.
#[utoipa::path(delete, path = "/api/auth/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "the session id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "session_not_found: not a live session of this user", body = ErrorBody),
        BearerRefused, Unavailable,
    ))]
pub async fn revoke_session(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    RequestClient(client): RequestClient,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    account::revoke_session(&state.db, &state.tokens.revoked, &who, &id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke every session but the caller's.
#[utoipa::path(post, path = "/api/auth/logout-others", tag = "sessions", security(("bearer" = [])), responses(
    (status = 200, body = Revoked),
    BearerRefused, Unavailable,
))]
pub async fn logout_others(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    RequestClient(client): RequestClient,
) -> Result<Json<Revoked>> {
    Ok(Json(account::revoke_all(&state.db, &state.tokens.revoked, &who, true, &client).await?))
}

/// Revoke every session of the user, the caller's included.
#[utoipa::path(post, path = "/api/auth/logout-all", tag = "sessions", security(("bearer" = [])), responses(
    (status = 200, body = Revoked),
    BearerRefused, Unavailable,
))]
pub async fn logout_all(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    RequestClient(client): RequestClient,
) -> Result<Json<Revoked>> {
    Ok(Json(account::revoke_all(&state.db, &state.tokens.revoked, &who, false, &client).await?))
}

/// Change the password (the current one is required); every other session is revoked.
#[utoipa::path(post, path = "/api/auth/password", tag = "sessions", security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; how many other sessions were revoked", body = Revoked),
        (status = 403, description = "invalid_current_password", body = ErrorBody),
        BearerRefused, BodyRefused, RateLimited, Unavailable,
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    RequestClient(client): RequestClient,
    JsonBody(change): JsonBody<PasswordChange>,
) -> Result<Json<Revoked>> {
    let (db, revoked, passwords, limits) =
        (&state.db, &state.tokens.revoked, &state.passwords, &state.limits);
    Ok(Json(account::change_password(db, revoked, passwords, limits, &who, change, &client).await?))
}

/// The account's recent security events, newest first.
#[utoipa::path(get, path = "/api/auth/events", tag = "sessions", security(("bearer" = [])), responses(
    (status = 200, body = Vec<SecurityEvent>),
    BearerRefused, Unavailable,
))]
pub async fn events(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Json<Vec<SecurityEvent>>> {
    Ok(Json(account::events(&state.db, &who).await?))
}

/// The caller's session as the server sees it: its rotation chain and every decision taken on it.
#[utoipa::path(get, path = "/api/auth/sessions/current/chain", tag = "sessions", security(("bearer" = [])), responses(
    (status = 200, body = SessionChain),
    BearerRefused, Unavailable,
))]
pub async fn chain(State(state): State<AppState>, AuthUser(who): AuthUser) -> Result<Json<SessionChain>> {
    Ok(Json(account::chain(&state.db, &who).await?))
}
