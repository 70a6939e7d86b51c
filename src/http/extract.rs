//! What handlers take from a request besides the state: the verified access token
//! (`AuthUser`), where the request came from (`RequestClient`), and a JSON body whose errors
//! are ours (`JsonBody`).

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use axum_extra::headers::authorization::Bearer;
use axum_extra::headers::Authorization;
use axum_extra::TypedHeader;

use crate::auth::tokens::{AccessClaims, Rejected};
use crate::auth::Client;
use crate::error::Error;
use crate::state::AppState;

/// The verified claims of the request's access token (shared with the verified-token cache).
/// Taking it makes a handler require a valid `Authorization: Bearer` token, checked from the
/// JWT alone and the in-memory revocation set, with no database query: a token whose session
/// was revoked is 401 `session_revoked`.
pub struct AuthUser(pub Arc<AccessClaims>);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let TypedHeader(Authorization(bearer)) =
            TypedHeader::<Authorization<Bearer>>::from_request_parts(parts, state)
                .await
                .map_err(|_| Error::InvalidAccessToken)?;
        let claims = state.tokens.verify_access(bearer.token()).map_err(|reason| {
            tracing::debug!(%reason, "access token refused");
            match reason {
                Rejected::Revoked(_) => Error::SessionRevoked,
                _ => Error::InvalidAccessToken,
            }
        })?;
        crate::metrics::headless_auth();
        Ok(AuthUser(claims))
    }
}

/// The token of the request's `Authorization: Bearer …` header, not yet verified.
pub struct BearerToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let TypedHeader(Authorization(bearer)) =
            TypedHeader::<Authorization<Bearer>>::from_request_parts(parts, state)
                .await
                .map_err(|_| Error::InvalidAccessToken)?;
        Ok(Self(bearer.token().to_owned()))
    }
}

/// Where a request came from (user agent, client address from `client_ip.rs`), as recorded
/// on sessions and events.
pub struct RequestClient(pub Client);

impl FromRequestParts<AppState> for RequestClient {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let address = super::client_ip::of(&parts.extensions, &parts.headers, &state.config.trusted_proxies);
        let (ip, rate_key) = (address.map(|ip| ip.to_string()), address.map(super::client_ip::rate_key));
        let user_agent =
            parts.headers.get(header::USER_AGENT).and_then(|ua| ua.to_str().ok()).map(str::to_owned);
        Ok(Self(Client { user_agent, ip, rate_key }))
    }
}

/// The address the request's connection was accepted on (set by `server/connections.rs`).
#[derive(Clone, Copy, Debug)]
pub struct LocalAddr(pub std::net::SocketAddr);

/// `axum::Json`, but a body that cannot be read becomes our JSON error, never axum's plain text.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct JsonBody<T>(pub T);
