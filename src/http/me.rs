//! `GET /api/me`: the protected endpoint, answered from the access token alone.

use axum::Json;

use crate::api::{ErrorBody, Me};
use crate::auth::extract::AuthUser;

/// Who the access token says you are. Verified from the JWT alone: no database query.
#[utoipa::path(get, path = "/api/me", tag = "api", security(("bearer" = [])), responses(
    (status = 200, body = Me),
    (status = 401, description = "invalid_token, with WWW-Authenticate", body = ErrorBody),
))]
pub async fn me(AuthUser(claims): AuthUser) -> Json<Me> {
    Json(Me { id: claims.sub.clone(), email: claims.email.clone(), session_id: claims.sid.clone() })
}
