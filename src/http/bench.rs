//! Built only with `--features bench`, for `scripts/bench.sh`; never part of a normal build.
//! The two endpoints `/api/me` is measured against, behind the same middleware:
//!
//! - `GET /bench/anonymous`: the floor. The same answer, with no authentication at all.
//! - `GET /bench/me-by-session`: the design the article argues against. The bearer is a
//!   session id, looked up in the database on every request.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::extract::BearerToken;
use crate::api::Me;
use crate::auth::unix_now;
use crate::db;
use crate::error::{Error, Result};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/bench/anonymous", get(anonymous)).route("/bench/me-by-session", get(me_by_session))
}

async fn anonymous() -> Json<Me> {
    Json(Me {
        id: "anonymous".into(),
        email: "anonymous@example.com".into(),
        email_verified: false,
        session_id: "none".into(),
    })
}

async fn me_by_session(
    State(state): State<AppState>,
    BearerToken(session_id): BearerToken,
) -> Result<Json<Me>> {
    let (id, email, verified_at) = db::sessions::owner_of_live_session(&state.db, &session_id, unix_now())
        .await?
        .ok_or(Error::InvalidAccessToken)?;
    Ok(Json(Me { id, email, email_verified: verified_at.is_some(), session_id }))
}
