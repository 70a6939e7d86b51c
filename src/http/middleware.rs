//! The middleware in front of the credential endpoints: the cross-site checks of
//! `auth/guard.rs` and the per-address limits of `auth/limits.rs`, fed from the request.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::client_ip;
use crate::auth::guard;
use crate::error::Error;
use crate::state::AppState;

/// For `refresh` and `logout`, which act on the cookie alone.
pub async fn cookie_endpoint(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, Error> {
    guard::cookie_endpoint(&state.config.app_origins, request.headers())?;
    Ok(next.run(request).await)
}

/// For `login` and `register`.
pub async fn credentials_endpoint(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, Error> {
    guard::credentials_endpoint(&state.config.app_origins, request.headers())?;
    Ok(next.run(request).await)
}

/// Login and register, per client address.
pub async fn login_per_ip(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, Error> {
    if let Some(ip) = client_key(&request, &state) {
        state.limits.login_attempt_from(ip)?;
    }
    Ok(next.run(request).await)
}

/// Refresh, per client address.
pub async fn refresh_per_ip(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, Error> {
    if let Some(ip) = client_key(&request, &state) {
        state.limits.refresh_from(ip)?;
    }
    Ok(next.run(request).await)
}

/// What the per-address limits count this request's client as (`client_ip::rate_key`).
fn client_key(request: &Request, state: &AppState) -> Option<IpAddr> {
    client_ip::of(request.extensions(), request.headers(), &state.config.trusted_proxies)
        .map(client_ip::rate_key)
}
