//! How the browser's requests are built: the one place that writes the `Authorization` header
//! and the header the cookie endpoints need. It knows no auth state: `fetch` and `refresh` hand
//! it the token, and the lab uses it to send a stolen one.

use gloo_net::http::{Request, RequestBuilder, Response};

use crate::api::{CSRF_HEADER, CSRF_HEADER_VALUE};

/// `request` with `Authorization: Bearer <token>`, if there is a token.
pub fn with_bearer(request: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(token) => request.header("Authorization", &format!("Bearer {token}")),
        None => request,
    }
}

/// A `POST` to a cookie endpoint (refresh, logout), with the custom header those require.
pub fn to_cookie_endpoint(path: &str) -> RequestBuilder {
    Request::post(path).header(CSRF_HEADER, CSRF_HEADER_VALUE)
}

/// `POST`s with no body to a cookie endpoint and, when `bearer` is given, the access token it
/// pairs with.
pub async fn post_with_cookie(path: &str, bearer: Option<&str>) -> Result<Response, gloo_net::Error> {
    with_bearer(to_cookie_endpoint(path), bearer).send().await
}
