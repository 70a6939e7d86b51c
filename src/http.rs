//! The JSON API. Handlers are thin: parse the request, call `auth`, shape the response.

use axum::extract::{DefaultBodyLimit, FromRequest};
use axum::http::{header, HeaderValue};
use axum::routing::{any, get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::api::paths;
use crate::error::Error;
use crate::server::AppState;

mod auth;
mod me;

/// Larger request bodies are refused with 413 before they are read.
const MAX_BODY_BYTES: usize = 16 * 1024;

pub fn api_router() -> Router<AppState> {
    Router::new()
        .route(paths::REGISTER, post(auth::register))
        .route(paths::LOGIN, post(auth::login))
        .route(paths::REFRESH, post(auth::refresh))
        .route(paths::LOGOUT, post(auth::logout))
        .route(paths::ME, get(me::me))
        .route("/api/{*rest}", any(|| async { Error::NotFound }))
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // API answers carry tokens or personal data: no cache may keep them.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// `axum::Json`, but a body that cannot be read becomes our JSON error, never axum's plain text.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct JsonBody<T>(pub T);
