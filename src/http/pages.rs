//! The server-rendered pages: every route of the Leptos app, and the files under `/pkg`,
//! `/favicon.svg` and the like. Each page is served with a strict Content-Security-Policy that
//! names the nonce of that response.

use axum::http::{header, HeaderValue};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::{use_context, IntoView};
use leptos_axum::{generate_route_list, LeptosRoutes, ResponseOptions};

use crate::app::{shell, App};
use crate::state::AppState;

/// The page routes, and a fallback that serves static files or renders the 404 page.
pub fn routes(state: &AppState) -> Router<AppState> {
    let options = state.leptos_options.clone();
    Router::new()
        .leptos_routes(state, generate_route_list(App), move || page(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(page))
}

/// The HTML shell, rendered with this response's Content-Security-Policy, and never stored:
/// a page shows account data once the app has fetched it, and a page kept for the back button
/// (the back/forward cache) would show it again after a logout.
fn page(options: LeptosOptions) -> impl IntoView {
    content_security_policy();
    if let Some(response) = use_context::<ResponseOptions>() {
        response.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        // The lab opens a page on another site and hears back from it through `window.opener`;
        // every other page cuts that link (`Cross-Origin-Opener-Policy: same-origin`, server.rs).
        if use_context::<axum::http::request::Parts>().is_some_and(|parts| parts.uri.path() == "/lab") {
            let allow_popups = HeaderValue::from_static("same-origin-allow-popups");
            response
                .insert_header(header::HeaderName::from_static("cross-origin-opener-policy"), allow_popups);
        }
    }
    shell(options)
}

/// While a page renders: a strict Content-Security-Policy naming this response's nonce. Only
/// scripts carrying the nonce run (and what they load, `strict-dynamic`); the Wasm may compile
/// (`wasm-unsafe-eval`); nothing may frame the page, change its base URL or embed plugins.
fn content_security_policy() {
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<ResponseOptions>()) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}
