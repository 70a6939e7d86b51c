//! The OpenAPI document's frame (title, schemes) and the answers many operations share. Each
//! handler's `#[utoipa::path]` lists its own successes and errors, naming these groups for the
//! shared ones, so the document says every status an operation can answer; a schema-driven
//! fuzzer (`scripts/fuzz-api.sh`) checks that it does.

use serde::Serialize;
use utoipa::{IntoResponses, OpenApi, ToSchema};

use crate::api::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(title = "tokenpair", description = "Access token in memory, refresh token in an HttpOnly cookie."),
    components(schemas(ErrorBody, RequestedWith)),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let description =
            "A plain access token as `Bearer`; one bound to a DPoP key (`token_type: DPoP`) as \
            `Authorization: DPoP <token>` with a `DPoP` proof header (RFC 9449) by that key";
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(description))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The one value of `X-Requested-With` that refresh and logout accept (`auth/guard.rs`).
#[allow(dead_code, reason = "a type for the document only, never built")]
#[derive(Serialize, ToSchema)]
pub enum RequestedWith {
    #[serde(rename = "tokenpair")]
    Tokenpair,
}

/// A JSON body that could not be read.
#[allow(dead_code, reason = "a type for the document only, never built")]
#[derive(IntoResponses)]
pub enum BodyRefused {
    /// malformed_json: the body is not JSON; ambiguous_cookie: the refresh cookie was sent
    /// more than once; invalid_dpop_proof, use_dpop_nonce (with `DPoP-Nonce` to retry with) or
    /// dpop_required (`DPOP=required`): the `DPoP` proof (RFC 9449) fails, is stale, or is missing.
    #[response(status = 400, headers(("DPoP-Nonce" = String, description = "with use_dpop_nonce: the nonce to put in the next proof")))]
    Malformed(ErrorBody),
    /// payload_too_large: the body is over 16 KB.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// unsupported_media_type: the body is not `application/json`.
    #[response(status = 415)]
    MediaType(ErrorBody),
    /// invalid_body (a field missing or of the wrong type), or validation_failed, naming the
    /// `field` whose value is not allowed.
    #[response(status = 422)]
    Invalid(ErrorBody),
}

/// invalid_token: the access token is missing, malformed, expired or not ours, or bound to a
/// DPoP key and sent without a proof by it; session_revoked: its session has ended (logged
/// out, revoked, expired), its user was disabled, or the password changed since;
/// invalid_dpop_proof or use_dpop_nonce: a bound token's `DPoP` proof fails or needs the
/// current nonce.
#[allow(dead_code, reason = "a type for the document only, never built")]
#[derive(IntoResponses)]
#[response(status = 401, headers(
    ("WWW-Authenticate" = String, description = r#"Bearer error="invalid_token", or DPoP error="…", algs="ES256 EdDSA""#),
    ("DPoP-Nonce" = String, description = "with use_dpop_nonce: the nonce to put in the next proof"),
))]
pub struct BearerRefused(ErrorBody);

/// cross_site_request: another site's browser request, an unknown `Origin`, or (refresh and
/// logout) no `X-Requested-With: tokenpair`.
#[allow(dead_code, reason = "a type for the document only, never built")]
#[derive(IntoResponses)]
#[response(status = 403)]
pub struct CrossSite(ErrorBody);

/// rate_limited: too many attempts from this address or for this account.
#[allow(dead_code, reason = "a type for the document only, never built")]
#[derive(IntoResponses)]
#[response(status = 429, headers(("Retry-After" = u64, description = "seconds to wait")))]
pub struct RateLimited(ErrorBody);

/// service_unavailable: the database is unreachable or busy; the client keeps its session and
/// tries again.
#[allow(dead_code, reason = "a type for the document only, never built")]
#[derive(IntoResponses)]
#[response(status = 503, headers(("Retry-After" = u64, description = "seconds to wait")))]
pub struct Unavailable(ErrorBody);
