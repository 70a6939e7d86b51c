//! What operators' tools read: `/healthz` (the process answers) and `/readyz` (it can reach
//! the database, so logins and refreshes can work) for a process manager or load balancer,
//! and `/metrics` for Prometheus (`metrics.rs`).

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::api::paths;
use crate::db;
use crate::error::{Error, Result};
use crate::state::AppState;

/// How long readiness waits for the database before it says "not ready".
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /metrics`: the counters, and the size of this instance's revocation set.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.metrics.render(state.tokens.revoked.len());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}

/// Liveness: 200 while the process serves requests. It does not touch the database, so an
/// outage there never gets a healthy instance restarted.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "alive" }))
}

/// Readiness: 200 when the database answers; 503 `service_unavailable` with `Retry-After`
/// when it does not (access tokens still verify meanwhile: `/api/me` needs no database).
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>> {
    match tokio::time::timeout(READY_TIMEOUT, db::ping(&state.db)).await {
        Ok(Ok(())) => Ok(Json(json!({ "status": "ready" }))),
        Ok(Err(err)) => Err(Error::Unavailable(err)),
        Err(_elapsed) => Err(Error::Unavailable(sqlx::Error::PoolTimedOut)),
    }
}

/// What a connection past `MAX_CONNECTIONS` is served (`server/connections.rs`): liveness
/// still answers, so a load balancer keeps a busy instance; anything else is told to come back,
/// and the connection is closed after the answer.
pub fn shedding() -> Router {
    Router::new().route(paths::HEALTHZ, get(healthz)).fallback(|| async { Error::Busy }).layer(
        axum::middleware::map_response(|mut response: Response| async move {
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            response.into_response()
        }),
    )
}
