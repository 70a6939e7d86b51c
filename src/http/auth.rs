//! `POST /api/auth/{register,login,refresh,logout}`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum_extra::extract::CookieJar;

use super::JsonBody;
use crate::api::{Credentials, TokenResponse};
use crate::auth::flow::{self, Client, Issued};
use crate::auth::{cookie, unix_now};
use crate::error::{Error, Result};
use crate::server::AppState;

pub async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    JsonBody(credentials): JsonBody<Credentials>,
) -> Result<Response> {
    let issued = flow::register(&state, credentials, client(&headers, peer)).await?;
    Ok(issue(StatusCode::CREATED, jar, issued, &state))
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    JsonBody(credentials): JsonBody<Credentials>,
) -> Result<Response> {
    let issued = flow::login(&state, credentials, client(&headers, peer)).await?;
    Ok(issue(StatusCode::OK, jar, issued, &state))
}

/// The refresh token comes from the cookie; any failure also tells the browser to drop it.
pub async fn refresh(State(state): State<AppState>, jar: CookieJar) -> Response {
    let presented = jar.get(cookie::NAME).map(|c| c.value().to_owned());
    match flow::refresh(&state, presented.as_deref()).await {
        Ok(issued) => issue(StatusCode::OK, jar, issued, &state),
        Err(Error::InvalidRefreshToken) => {
            (jar.add(cookie::removal()), Error::InvalidRefreshToken).into_response()
        }
        Err(other) => other.into_response(),
    }
}

pub async fn logout(State(state): State<AppState>, jar: CookieJar) -> Result<(CookieJar, StatusCode)> {
    let presented = jar.get(cookie::NAME).map(|c| c.value().to_owned());
    flow::logout(&state, presented.as_deref()).await?;
    Ok((jar.add(cookie::removal()), StatusCode::NO_CONTENT))
}

/// The access token in the body, the refresh token in the cookie.
fn issue(status: StatusCode, jar: CookieJar, issued: Issued, state: &AppState) -> Response {
    let cookie_max_age = issued.refresh.expires_at - unix_now();
    let body = TokenResponse {
        access_token: issued.access.token,
        token_type: "Bearer".into(),
        expires_in: state.tokens.access_ttl.as_secs(),
        user: issued.user,
    };
    (status, jar.add(cookie::refresh(issued.refresh.token, cookie_max_age)), Json(body)).into_response()
}

fn client(headers: &HeaderMap, peer: SocketAddr) -> Client {
    let user_agent = headers.get(header::USER_AGENT).and_then(|ua| ua.to_str().ok()).map(str::to_owned);
    Client { user_agent, ip: Some(peer.ip().to_string()) }
}
