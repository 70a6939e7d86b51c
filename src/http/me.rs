//! `GET /api/me`: the protected endpoint, answered from the access token alone.

use axum::Json;

use super::extract::AuthUser;
use super::openapi::BearerRefused;
use crate::api::Me;

/// Who the access token says you are. Verified from the JWT alone: no database query.
#[utoipa::path(get, path = "/api/me", tag = "api", security(("bearer" = [])), responses(
    (status = 200, body = Me),
    BearerRefused,
))]
pub async fn me(AuthUser(claims): AuthUser) -> Json<Me> {
    Json(Me {
        id: claims.sub.clone(),
        email: claims.email.clone(),
        email_verified: claims.email_verified,
        session_id: claims.sid.clone(),
    })
}
