//! The JSON API. Handlers are thin: parse the request, call `auth`, shape the response. Routes
//! are registered through utoipa's router, so the OpenAPI document at `/api/openapi.json` is
//! generated from the same list that serves requests and cannot drift from it.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::middleware::from_fn_with_state;
use axum::routing::{any, get, post};
use axum::{Json, Router};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::paths;
use crate::error::Error;
use crate::metrics;
use crate::state::AppState;

pub use extract::LocalAddr;

mod account;
mod auth;
#[cfg(feature = "bench")]
mod bench;
pub mod client_ip;
pub mod dpop;
pub mod extract;
pub mod health;
mod keys;
mod lab;
mod me;
pub mod middleware;
mod oidc;
mod openapi;
pub mod pages;
mod recovery;

/// Larger request bodies are refused with 413 before they are read.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// The API routes and the OpenAPI document describing exactly them.
pub fn api(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let credentials = OpenApiRouter::new()
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .route_layer(from_fn_with_state(state.clone(), middleware::login_per_ip))
        .route_layer(from_fn_with_state(state.clone(), middleware::credentials_endpoint));
    let refresh = OpenApiRouter::new()
        .routes(routes!(auth::refresh))
        .route_layer(from_fn_with_state(state.clone(), middleware::refresh_per_ip))
        .route_layer(from_fn_with_state(state.clone(), middleware::cookie_endpoint));
    let logout = OpenApiRouter::new()
        .routes(routes!(auth::logout))
        .route_layer(from_fn_with_state(state.clone(), middleware::cookie_endpoint));
    let bearer = OpenApiRouter::new()
        .routes(routes!(me::me))
        .routes(routes!(account::sessions))
        .routes(routes!(account::revoke_session))
        .routes(routes!(account::logout_others))
        .routes(routes!(account::logout_all))
        .routes(routes!(account::change_password))
        .routes(routes!(account::events))
        .routes(routes!(account::chain))
        .routes(routes!(recovery::resend_verification))
        .routes(routes!(keys::jwks));
    let (router, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(credentials)
        .merge(refresh)
        .merge(logout)
        .merge(social_login(state))
        .merge(mailed_links(state))
        .merge(bearer)
        .split_for_parts();
    let served = document.clone();
    #[cfg(feature = "bench")]
    let router = router.merge(bench::routes());
    let router = router
        .route(paths::OPENAPI, get(move || async move { Json(served) }))
        // Counts requests, headless authentications and SQL statements per endpoint.
        .route_layer(from_fn_with_state(Arc::clone(&state.metrics), metrics::track))
        .route(paths::METRICS, get(health::metrics))
        .route(paths::HEALTHZ, get(health::healthz))
        .route(paths::READYZ, get(health::readyz))
        .route("/api/{*rest}", any(|| async { Error::NotFound }))
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(
            ServiceBuilder::new()
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
                .layer(axum::middleware::from_fn_with_state(state.clone(), dpop::nonce_header))
                // API answers carry tokens or personal data: no cache may keep them.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                )),
        );
    let router = router.route(paths::LAB, get(lab::status));
    (if state.config.lab { router.merge(lab_routes(state)) } else { router }, document)
}

/// Social login (`http/oidc.rs`). The start and the callback are browser navigations from the
/// provider's site, so no cross-site guard: the flow cookie and `state` bind them. Beginning a
/// flow spends the login budget of its address.
fn social_login(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(oidc::start))
        .routes(routes!(oidc::link))
        .route_layer(from_fn_with_state(state.clone(), middleware::login_per_ip))
        .routes(routes!(oidc::callback))
        .routes(routes!(oidc::providers))
        .routes(routes!(oidc::identities))
        .routes(routes!(oidc::unlink))
}

/// The mailed links (`http/recovery.rs`): posted by the app's own pages, so guarded like login;
/// a reset request counts against its address's mail budget (`auth/limits.rs`), a confirmation
/// against the client's login budget, since each guesses at a token.
fn mailed_links(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(recovery::confirm_reset))
        .routes(routes!(recovery::confirm_verification))
        .route_layer(from_fn_with_state(state.clone(), middleware::login_per_ip))
        .routes(routes!(recovery::request_reset))
        .route_layer(from_fn_with_state(state.clone(), middleware::credentials_endpoint))
}

/// The attack lab's extra routes (only with `TOKENPAIR_LAB=1`; see `http/lab.rs`).
fn lab_routes(state: &AppState) -> Router<AppState> {
    let cookie_side = Router::new()
        .route(paths::LAB_COPY_COOKIE, post(lab::copy_cookie))
        .route(paths::LAB_REPLAY, post(lab::replay))
        .route_layer(from_fn_with_state(state.clone(), middleware::cookie_endpoint));
    Router::new()
        .merge(cookie_side)
        .route(paths::LAB_FORGE, post(lab::forge))
        .route(paths::LAB_ATTACKER_PAGE, get(lab::attacker_page))
        .route(paths::LAB_ATTACKER_SCRIPT, get(lab::attacker_script))
        .route_layer(from_fn_with_state(state.clone(), middleware::lab_only))
}
