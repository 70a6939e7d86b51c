//! What handlers take from a request besides the state: the verified access token
//! (`AuthUser`), where the request came from (`RequestClient`), and a JSON body whose errors
//! are ours (`JsonBody`).

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use crate::auth::dpop::{self, Needs};
use crate::auth::tokens::{AccessClaims, Confirmation, Rejected};
use crate::auth::Client;
use crate::error::Error;
use crate::state::AppState;

/// The verified claims of the request's access token (shared with the verified-token cache).
/// Taking it makes a handler require a valid access token, checked from the JWT alone and the
/// in-memory revocation set, with no database query: a token whose session was revoked is 401
/// `session_revoked`. A token bound to a DPoP key comes as `Authorization: DPoP …` with a proof
/// by that key (`dpop.rs`); a plain one as `Authorization: Bearer …`, unless DPoP is required.
pub struct AuthUser(pub Arc<AccessClaims>);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let (token, dpop_scheme) = presented_token(&parts.headers).ok_or(Error::InvalidAccessToken)?;
        let claims = state.tokens.verify_access(token).map_err(|reason| {
            tracing::debug!(%reason, "access token refused");
            match reason {
                Rejected::Revoked(_) => Error::SessionRevoked,
                _ => Error::InvalidAccessToken,
            }
        })?;
        match dpop::resource_needs(state.tokens.dpop.mode, Confirmation::jkt(&claims.cnf), dpop_scheme) {
            Needs::Nothing => {}
            Needs::ProofBy(jkt) => super::dpop::resource_proof(state, parts, token, jkt)?,
            Needs::Refused(why) => {
                tracing::debug!(why, "access token refused");
                return Err(Error::DpopBinding);
            }
        }
        crate::metrics::headless_auth();
        Ok(AuthUser(claims))
    }
}

/// The token of the request's `Authorization: Bearer …` or `Authorization: DPoP …` header,
/// not yet verified.
pub struct BearerToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let (token, _) = presented_token(&parts.headers).ok_or(Error::InvalidAccessToken)?;
        Ok(Self(token.to_owned()))
    }
}

/// The access token of an `Authorization` header, and whether its scheme is `DPoP` (else
/// `Bearer`; schemes are case-insensitive, RFC 9110 §11.1).
pub fn presented_token(headers: &HeaderMap) -> Option<(&str, bool)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    let dpop_scheme = match scheme {
        _ if token.is_empty() => return None,
        scheme if scheme.eq_ignore_ascii_case("bearer") => false,
        scheme if scheme.eq_ignore_ascii_case("dpop") => true,
        _ => return None,
    };
    Some((token, dpop_scheme))
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
        Ok(Self(Client { user_agent, ip, rate_key, dpop_key: None }))
    }
}

/// The address the request's connection was accepted on (set by `server/connections.rs`).
#[derive(Clone, Copy, Debug)]
pub struct LocalAddr(pub std::net::SocketAddr);

/// `axum::Json`, but a body that cannot be read becomes our JSON error, never axum's plain text.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct JsonBody<T>(pub T);
