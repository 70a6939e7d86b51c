//! Cross-site request defences for the endpoints a browser calls with credentials attached.
//!
//! The refresh cookie is `SameSite=Strict`, so a browser does not send it on cross-site
//! requests at all. These checks are the second layer, and they cover what SameSite does not:
//! a sibling subdomain counts as "same site", and older browsers ignore the attribute.
//! - `Sec-Fetch-Site: cross-site` is refused outright.
//! - An `Origin` header must be one of the app's own origins.
//! - The cookie endpoints also need the custom `X-Requested-With` header, which a plain HTML
//!   form cannot send and which makes any cross-origin `fetch` preflight, which we never allow
//!   (there is no CORS layer anywhere).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;

use crate::api::{CSRF_HEADER, CSRF_HEADER_VALUE};
use crate::error::Error;
use crate::server::AppState;

/// For `refresh` and `logout`, which act on the cookie alone.
pub async fn cookie_endpoint(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, Error> {
    check(&state.config.app_origins, request.headers(), true)?;
    Ok(next.run(request).await)
}

/// For `login` and `register`: no custom header needed (outside API clients may use them),
/// but a browser posting from another site is refused.
pub async fn credentials_endpoint(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, Error> {
    check(&state.config.app_origins, request.headers(), false)?;
    Ok(next.run(request).await)
}

fn check(origins: &[String], headers: &HeaderMap, need_custom_header: bool) -> Result<(), Error> {
    let value = |name| headers.get(name).and_then(|v: &header::HeaderValue| v.to_str().ok());
    if value("sec-fetch-site") == Some("cross-site") {
        return Err(Error::CrossSite("cross-site requests are not accepted here"));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let known = origin.to_str().is_ok_and(|origin| origins.iter().any(|own| own == origin));
        if !known {
            return Err(Error::CrossSite("requests from this origin are not accepted here"));
        }
    }
    if need_custom_header && value(CSRF_HEADER) != Some(CSRF_HEADER_VALUE) {
        return Err(Error::CrossSite("this endpoint needs the X-Requested-With: tokenpair header"));
    }
    Ok(())
}
