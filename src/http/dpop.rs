//! DPoP on the wire (RFC 9449; the checks are `auth/dpop.rs`): the proof a token endpoint
//! takes (`TokenProof`), the proof a resource request needs (`resource_proof`, called by
//! `AuthUser`), and the `DPoP-Nonce` every API answer carries.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use url::Url;

use crate::auth::dpop::{Mode, ProofError, Proven, Target};
use crate::config::{host_without_port, Config};
use crate::error::{Error, ProofAt, DPOP_NONCE};
use crate::state::AppState;

/// The request header a proof travels in.
pub const DPOP: &str = "dpop";

/// The proof sent to an endpoint that issues tokens (login, registration, refresh, reset): the
/// key the tokens are bound to, or none for plain bearer tokens. `400 dpop_required` without
/// one when `DPOP=required`; a proof that fails is `400 invalid_dpop_proof` (or
/// `use_dpop_nonce`), never ignored. With `DPOP=off` the header is not read.
pub struct TokenProof(pub Option<Proven>);

impl FromRequestParts<AppState> for TokenProof {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let mode = state.tokens.dpop.mode;
        if mode == Mode::Off {
            return Ok(Self(None));
        }
        match proof_header(&parts.headers) {
            Ok(None) if mode == Mode::Required => Err(Error::DpopRequired),
            Ok(None) => Ok(Self(None)),
            Ok(Some(proof)) => check(state, parts, proof, None, ProofAt::TokenEndpoint).map(Some).map(Self),
            Err(refused) => Err(refused_as(state, refused, ProofAt::TokenEndpoint)),
        }
    }
}

/// Checks the proof of a resource request presenting the access token `token` bound to
/// `jkt`: `401` with a `DPoP` challenge unless it passes and was signed by that key.
pub fn resource_proof(state: &AppState, parts: &Parts, token: &str, jkt: &str) -> Result<(), Error> {
    let at = ProofAt::Resource;
    let proof = proof_header(&parts.headers).map_err(|refused| refused_as(state, refused, at))?;
    let proof = proof.ok_or(Error::DpopBinding)?;
    let proven = check(state, parts, proof, Some(token), at)?;
    if proven.jkt != jkt {
        tracing::debug!("DPoP proof by another key than the token's");
        return Err(Error::DpopBinding);
    }
    Ok(())
}

/// The request's one `DPoP` header, if it has one.
fn proof_header(headers: &HeaderMap) -> Result<Option<&str>, ProofError> {
    let mut values = headers.get_all(DPOP).iter();
    let (first, second) = (values.next(), values.next());
    match (first, second) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(ProofError::Repeated),
        (Some(value), None) => value.to_str().map(Some).map_err(|_| ProofError::Header("not ASCII".into())),
    }
}

fn check(
    state: &AppState,
    parts: &Parts,
    proof: &str,
    token: Option<&str>,
    at: ProofAt,
) -> Result<Proven, Error> {
    let url = request_url(&state.config, parts).ok_or(Error::InvalidDpopProof { at })?;
    let target = Target { method: parts.method.as_str(), url: &url, access_token: token };
    state.tokens.check_proof(proof, &target).map_err(|refused| refused_as(state, refused, at))
}

/// The answer to a refused proof: `use_dpop_nonce` with a fresh nonce, or `invalid_dpop_proof`.
fn refused_as(state: &AppState, refused: ProofError, at: ProofAt) -> Error {
    tracing::info!(reason = %refused, "DPoP proof refused");
    match state.tokens.dpop_nonce() {
        Some(nonce) if refused.wants_nonce() => Error::UseDpopNonce { at, nonce },
        _ => Error::InvalidDpopProof { at },
    }
}

/// The URL a proof's `htu` must name: the scheme of the `APP_ORIGIN` whose host the request's
/// `Host` names (the allow-list has let only those through), that `Host`, and the path.
fn request_url(config: &Config, parts: &Parts) -> Option<Url> {
    let authority = parts.headers.get(header::HOST)?.to_str().ok()?;
    let host = host_without_port(authority).to_ascii_lowercase();
    let origin = config.app_origins.iter().find_map(|origin| {
        let (scheme, rest) = origin.split_once("://")?;
        (host_without_port(rest).eq_ignore_ascii_case(&host)).then_some(scheme)
    })?;
    Url::parse(&format!("{origin}://{authority}{}", parts.uri.path())).ok()
}

/// Every API answer: the current nonce in `DPoP-Nonce` (unless DPoP is off), so a client has
/// one before its first proof is refused for want of it. An error that carries a nonce of its
/// own keeps it.
pub async fn nonce_header(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.headers().contains_key(DPOP_NONCE) {
        return response;
    }
    if let Some(nonce) = state.tokens.dpop_nonce().and_then(|nonce| HeaderValue::from_str(&nonce).ok()) {
        response.headers_mut().insert(DPOP_NONCE, nonce);
    }
    response
}
