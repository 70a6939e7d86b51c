//! `GET /api/me`: the protected endpoint, answered from the access token alone.

use axum::Json;

use crate::api::Me;
use crate::auth::extract::AuthUser;

pub async fn me(AuthUser(claims): AuthUser) -> Json<Me> {
    Json(Me { id: claims.sub, email: claims.email, session_id: claims.sid })
}
