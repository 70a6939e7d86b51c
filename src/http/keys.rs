//! `GET /.well-known/jwks.json`: the public keys, so another service can verify our tokens
//! headlessly with no secret at all.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use crate::state::AppState;

/// The Ed25519 public keys that verify tokens (`kid`, `use: sig`, `alg: EdDSA`), including a
/// key about to sign and a retired key whose tokens may still be live.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "keys", responses(
    (status = 200, description = "A JWK Set (RFC 7517)", content_type = "application/json"),
))]
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    let ring = state.tokens.keys.ring();
    // Short enough that a verifier sees a rotated-in key before it starts signing.
    ([(header::CACHE_CONTROL, "public, max-age=30")], Json(ring.jwks().clone()))
}
