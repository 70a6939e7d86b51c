//! The middleware: in front of every request, the `Host` allow-list and the request deadline;
//! in front of the credential endpoints, the cross-site checks of `auth/guard.rs` and the
//! per-address limits of `auth/limits.rs`; in front of the lab, the loopback check.

use std::net::IpAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use super::client_ip;
use super::extract::LocalAddr;
use crate::api::paths;
use crate::auth::guard;
use crate::config::host_without_port;
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
        state.limits.login_attempt_from(ip).await?;
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
        state.limits.refresh_from(ip).await?;
    }
    Ok(next.run(request).await)
}

/// What the per-address limits count this request's client as (`client_ip::rate_key`).
fn client_key(request: &Request, state: &AppState) -> Option<IpAddr> {
    client_ip::of(request.extensions(), request.headers(), &state.config.trusted_proxies)
        .map(client_ip::rate_key)
}

/// Every request: its `Host` must be one of `APP_ORIGIN`'s hosts (any port), or it gets 421. A
/// page on another name that resolves here (DNS rebinding) reaches nothing. The health probes
/// are the exception: a load balancer's check often names the instance's own address, and
/// they tell a rebinding page nothing.
pub async fn allowed_host(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, Error> {
    if matches!(request.uri().path(), paths::HEALTHZ | paths::READYZ) {
        return Ok(next.run(request).await);
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| request.uri().authority().map(|authority| authority.as_str()))
        .map(|authority| host_without_port(authority).to_ascii_lowercase());
    if !host.is_some_and(|host| state.config.allowed_hosts.contains(&host)) {
        return Err(Error::MisdirectedRequest);
    }
    Ok(next.run(request).await)
}

/// Every request: answered within `REQUEST_TIMEOUT`, its body's arrival included, or 408.
pub async fn deadline(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, Error> {
    tokio::time::timeout(state.config.request_timeout, next.run(request))
        .await
        .map_err(|_| Error::RequestTimeout)
}

/// The lab's endpoints answer only a browser on this machine talking to it directly: a loopback
/// peer, on a loopback listener, with a `Host` of `127.0.0.1` or `localhost` and the listener's
/// port, and no forwarding header (a proxy on the same host would be loopback too). Anything
/// else finds nothing there.
pub async fn lab_only(request: Request, next: Next) -> Result<Response, Error> {
    let peer = request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|ConnectInfo(peer)| *peer);
    let local = request.extensions().get::<LocalAddr>().map(|LocalAddr(local)| *local);
    let (Some(peer), Some(local)) = (peer, local) else { return Err(Error::NotFound) };
    let port = local.port();
    let host = request.headers().get(header::HOST).and_then(|host| host.to_str().ok()).unwrap_or_default();
    let direct = host == format!("127.0.0.1:{port}") || host == format!("localhost:{port}");
    if !(peer.ip().is_loopback() && local.ip().is_loopback() && direct)
        || client_ip::is_forwarded(request.headers())
    {
        return Err(Error::NotFound);
    }
    Ok(next.run(request).await)
}
