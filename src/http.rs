//! The JSON API. Handlers are thin: parse the request, call `auth`, shape the response. Routes
//! are registered through utoipa's router, so the OpenAPI document at `/api/openapi.json` is
//! generated from the same list that serves requests and cannot drift from it.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::middleware::from_fn_with_state;
use axum::routing::{any, get};
use axum::{Json, Router};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::paths;
use crate::auth::flow::Client;
use crate::auth::{guard, limits};
use crate::error::Error;
use crate::metrics;
use crate::server::AppState;

mod account;
mod auth;
#[cfg(feature = "bench")]
mod bench;
mod health;
mod keys;
mod lab;
mod me;

/// Larger request bodies are refused with 413 before they are read.
const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "tokenpair", description = "Access token in memory, refresh token in an HttpOnly cookie."),
    components(schemas(crate::api::ErrorBody)),
    modifiers(&BearerScheme)
)]
struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The API routes and the OpenAPI document describing exactly them.
pub fn api(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let credentials = OpenApiRouter::new()
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .route_layer(from_fn_with_state(state.clone(), limits::login_per_ip))
        .route_layer(from_fn_with_state(state.clone(), guard::credentials_endpoint));
    let refresh = OpenApiRouter::new()
        .routes(routes!(auth::refresh))
        .route_layer(from_fn_with_state(state.clone(), limits::refresh_per_ip))
        .route_layer(from_fn_with_state(state.clone(), guard::cookie_endpoint));
    let logout = OpenApiRouter::new()
        .routes(routes!(auth::logout))
        .route_layer(from_fn_with_state(state.clone(), guard::cookie_endpoint));
    let bearer = OpenApiRouter::new()
        .routes(routes!(me::me))
        .routes(routes!(account::sessions))
        .routes(routes!(account::revoke_session))
        .routes(routes!(account::logout_others))
        .routes(routes!(account::logout_all))
        .routes(routes!(account::change_password))
        .routes(routes!(account::events))
        .routes(routes!(account::chain))
        .routes(routes!(keys::jwks));
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(credentials)
        .merge(refresh)
        .merge(logout)
        .merge(bearer)
        .split_for_parts();
    let document = openapi.clone();
    #[cfg(feature = "bench")]
    let router = router.merge(bench::routes());
    let router = router
        .route(paths::OPENAPI, get(move || async move { Json(document) }))
        // Counts requests, headless authentications and SQL statements per endpoint.
        .route_layer(from_fn_with_state(state.clone(), metrics::track))
        .route(paths::METRICS, get(metrics::exposition))
        .route(paths::HEALTHZ, get(health::healthz))
        .route(paths::READYZ, get(health::readyz))
        .route("/api/{*rest}", any(|| async { Error::NotFound }))
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(
            ServiceBuilder::new()
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
                // API answers carry tokens or personal data: no cache may keep them.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                )),
        );
    let router = router.route(paths::LAB, get(lab::status));
    (if state.config.lab { router.merge(lab_routes(state)) } else { router }, openapi)
}

/// The attack lab's extra routes (only with `TOKENPAIR_LAB=1`; see `http/lab.rs`).
fn lab_routes(state: &AppState) -> Router<AppState> {
    use axum::routing::post;
    let cookie_side = Router::new()
        .route("/api/auth/lab/copy-cookie", post(lab::copy_cookie))
        .route("/api/auth/lab/replay", post(lab::replay))
        .route_layer(from_fn_with_state(state.clone(), guard::cookie_endpoint));
    Router::new()
        .merge(cookie_side)
        .route("/api/lab/forge", post(lab::forge))
        .route("/lab/attacker", get(lab::attacker_page))
        .route("/lab/attacker.js", get(lab::attacker_script))
}

/// Where a request came from (user agent, peer address), as recorded on sessions and events.
pub struct RequestClient(pub Client);

impl<S: Send + Sync> FromRequestParts<S> for RequestClient {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let ip =
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip().to_string());
        let user_agent =
            parts.headers.get(header::USER_AGENT).and_then(|ua| ua.to_str().ok()).map(str::to_owned);
        Ok(Self(Client { user_agent, ip }))
    }
}

/// `axum::Json`, but a body that cannot be read becomes our JSON error, never axum's plain text.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct JsonBody<T>(pub T);
