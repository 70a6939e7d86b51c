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

use axum::http::{header, HeaderMap};

use crate::api::{CSRF_HEADER, CSRF_HEADER_VALUE};
use crate::error::Error;

/// For `refresh` and `logout`, which act on the cookie alone: the custom header is required.
pub fn cookie_endpoint(origins: &[String], headers: &HeaderMap) -> Result<(), Error> {
    check(origins, headers, true)
}

/// For `login` and `register`: no custom header needed (outside API clients may use them),
/// but a browser posting from another site is refused.
pub fn credentials_endpoint(origins: &[String], headers: &HeaderMap) -> Result<(), Error> {
    check(origins, headers, false)
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
