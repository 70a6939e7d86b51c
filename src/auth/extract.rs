//! `AuthUser`: the extractor that makes a handler require a valid access token. It reads the
//! `Authorization: Bearer` header and verifies the JWT alone, with no database query.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::headers::authorization::Bearer;
use axum_extra::headers::Authorization;
use axum_extra::TypedHeader;

use super::tokens::AccessClaims;
use crate::error::Error;
use crate::server::AppState;

/// The verified claims of the request's access token (shared with the verified-token cache).
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
            Error::InvalidAccessToken
        })?;
        crate::metrics::headless_auth();
        Ok(AuthUser(claims))
    }
}
