//! `POST /api/auth/{register,login,refresh,logout}`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum_extra::extract::CookieJar;

use super::dpop::TokenProof;
use super::extract::{presented_token, JsonBody, RequestClient};
use super::openapi::{BodyRefused, CrossSite, RateLimited, RequestedWith, Unavailable};
use crate::api::{Accepted, Credentials, ErrorBody, TokenResponse};
use crate::auth::flow::{self, Issued, LoginAttempt, Registered};
use crate::auth::{cookie, unix_now};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Create an account and log in: the access token in the body, the refresh token in the cookie,
/// and a verification mail on its way. A session this browser's refresh cookie still names ends
/// (`flow::end_replaced_session`). With `REQUIRE_VERIFIED_EMAIL`, `202` for a new address and a
/// taken one alike, and no session until the address is verified.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = Credentials, responses(
    (status = 201, description = "Registered and logged in; sets the refresh cookie and the logged-in hint",
        body = TokenResponse, headers(("Set-Cookie" = String))),
    (status = 202, description = "`REQUIRE_VERIFIED_EMAIL`: `verification_sent`, whether or not the address had an account",
        body = Accepted),
    (status = 409, description = "email_taken (not with `REQUIRE_VERIFIED_EMAIL`)", body = ErrorBody),
    BodyRefused, CrossSite, RateLimited, Unavailable,
),
params(("DPoP" = Option<String>, Header, description = "a DPoP proof (RFC 9449) for this request: the tokens issued are bound to its key, and the body says `token_type: DPoP`")))]
pub async fn register(
    State(state): State<AppState>,
    RequestClient(client): RequestClient,
    TokenProof(proof): TokenProof,
    headers: HeaderMap,
    jar: CookieJar,
    JsonBody(credentials): JsonBody<Credentials>,
) -> Result<Response> {
    let client = client.holding(proof);
    let replaced = presented_refresh(&state, &headers, &client).await?;
    let (db, tokens, passwords, mailer) = (&state.db, &state.tokens, &state.passwords, &state.mailer);
    match flow::register(db, tokens, passwords, mailer, credentials, client.clone()).await? {
        Registered::LoggedIn(issued) => {
            flow::end_replaced_session(db, tokens, replaced.as_deref(), &client).await?;
            Ok(issue(StatusCode::CREATED, jar, *issued, &state))
        }
        Registered::VerificationSent => Ok(accepted("verification_sent")),
    }
}

/// `202 {"status": …}`: the request is taken, and the answer says nothing about any account.
pub(super) fn accepted(status: &str) -> Response {
    (StatusCode::ACCEPTED, Json(Accepted { status: status.into() })).into_response()
}

/// Log in with email and password. A session this browser's refresh cookie still names ends.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = Credentials, responses(
    (status = 200, description = "Logged in; sets the refresh cookie, the logged-in hint and the device cookie",
        body = TokenResponse, headers(("Set-Cookie" = String))),
    (status = 401, description = "invalid_credentials: wrong password or unknown email alike", body = ErrorBody),
    (status = 403, description = "email_not_verified: the right password, before the address was verified (`REQUIRE_VERIFIED_EMAIL`)", body = ErrorBody),
    BodyRefused, CrossSite, RateLimited, Unavailable,
),
params(("__Secure-tokenpair-device" = Option<String>, Cookie,
    description = "set by an earlier login to this account: its failed attempts have a budget of their own"),
    ("DPoP" = Option<String>, Header, description = "a DPoP proof (RFC 9449) for this request: the tokens issued are bound to its key, and the body says `token_type: DPoP`")),
)]
pub async fn login(
    State(state): State<AppState>,
    RequestClient(client): RequestClient,
    TokenProof(proof): TokenProof,
    headers: HeaderMap,
    jar: CookieJar,
    JsonBody(credentials): JsonBody<Credentials>,
) -> Result<Response> {
    let client = client.holding(proof);
    let device = jar.get(cookie::DEVICE_NAME).map(|c| c.value().to_owned());
    let replaced = presented_refresh(&state, &headers, &client).await?;
    let (db, tokens, passwords, limits) = (&state.db, &state.tokens, &state.passwords, &state.limits);
    let attempt = LoginAttempt { credentials, device_cookie: device.as_deref() };
    let issued = flow::login(db, tokens, passwords, limits, &state.mailer, attempt, client.clone()).await?;
    flow::end_replaced_session(db, tokens, replaced.as_deref(), &client).await?;
    Ok(issue(StatusCode::OK, jar, issued, &state))
}

/// Exchange the refresh cookie for a new access token and a new refresh cookie. Needs the
/// `X-Requested-With: tokenpair` header; may carry the current (even expired) access token as
/// a bearer, which must then belong to the same session.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth",
    params(
        ("X-Requested-With" = RequestedWith, Header, description = "must be `tokenpair`"),
        ("__Secure-tokenpair-refresh" = Option<String>, Cookie, description = "the refresh token, set by login, register and refresh"),
        ("DPoP" = Option<String>, Header, description = "a DPoP proof (RFC 9449): needed, by the same key, when the session is bound to one"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Both tokens rotated; sets the new refresh cookie",
            body = TokenResponse, headers(("Set-Cookie" = String))),
        (status = 400, description = "ambiguous_cookie: the refresh cookie was sent more than once; invalid_dpop_proof, use_dpop_nonce (with `DPoP-Nonce`) or dpop_required: the DPoP proof fails, is stale or is missing",
            body = ErrorBody, headers(("DPoP-Nonce" = String, description = "with use_dpop_nonce: the nonce to put in the next proof"))),
        (status = 401, description = "invalid_refresh_token (both cookies cleared): also a key-bound session's refresh without a proof by its key; or token_pair_mismatch", body = ErrorBody),
        CrossSite, RateLimited, Unavailable,
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    RequestClient(client): RequestClient,
    TokenProof(proof): TokenProof,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    let client = client.holding(proof);
    let presented = match presented_refresh(&state, &headers, &client).await {
        Ok(presented) => presented,
        Err(refused) => return refused.into_response(),
    };
    let bearer = presented_token(&headers).map(|(token, _)| token);
    match flow::refresh(&state.db, &state.tokens, presented.as_deref(), bearer, &client).await {
        Ok(issued) => issue(StatusCode::OK, jar, issued, &state),
        Err(Error::InvalidRefreshToken) => {
            // Both cookies go: the hint would only make the next page load try again.
            let jar = jar.add(cookie::removal()).add(cookie::hint_removal());
            (jar, Error::InvalidRefreshToken).into_response()
        }
        Err(other) => other.into_response(),
    }
}

/// Revoke this session and clear the cookie. Needs the `X-Requested-With: tokenpair` header.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    params(
        ("X-Requested-With" = RequestedWith, Header, description = "must be `tokenpair`"),
        ("__Secure-tokenpair-refresh" = Option<String>, Cookie, description = "the refresh token of the session to end"),
    ),
    responses(
        (status = 204, description = "Session revoked (if any), cookies and site data cleared", headers(("Set-Cookie" = String))),
        (status = 400, description = "ambiguous_cookie: the refresh cookie was sent more than once", body = ErrorBody),
        CrossSite, Unavailable,
    ))]
pub async fn logout(
    State(state): State<AppState>,
    RequestClient(client): RequestClient,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Response> {
    let presented = presented_refresh(&state, &headers, &client).await?;
    flow::logout(&state.db, &state.tokens, presented.as_deref(), &client).await?;
    let clear_site_data =
        [(HeaderName::from_static("clear-site-data"), HeaderValue::from_static(r#""cache", "storage""#))];
    let jar = jar.add(cookie::removal()).add(cookie::hint_removal());
    Ok((StatusCode::NO_CONTENT, clear_site_data, jar).into_response())
}

/// The refresh cookie the request carries; `400 ambiguous_cookie` if it carries more than one.
async fn presented_refresh(
    state: &AppState,
    headers: &HeaderMap,
    client: &crate::auth::Client,
) -> Result<Option<String>> {
    match cookie::presented(headers) {
        Ok(presented) => Ok(presented),
        Err(copies) => Err(flow::refuse_ambiguous_cookie(&state.db, &state.tokens, &copies, client).await),
    }
}

/// The access token in the body, the refresh token in the cookie (and a new device cookie
/// after a login or registration).
pub(super) fn issue(status: StatusCode, jar: CookieJar, issued: Issued, state: &AppState) -> Response {
    let body = TokenResponse {
        access_token: issued.access.token,
        token_type: if issued.bound { "DPoP" } else { "Bearer" }.into(),
        expires_in: state.tokens.access_ttl.as_secs(),
        user: issued.user,
    };
    let mut jar = with_session_cookies(jar, issued.refresh);
    if let Some(device) = issued.device {
        jar = jar.add(cookie::device(device.token, device.expires_at - unix_now()));
    }
    (status, jar, Json(body)).into_response()
}

/// The refresh cookie and the logged-in hint of a session just begun or renewed.
pub(super) fn with_session_cookies(jar: CookieJar, refresh: crate::auth::tokens::Signed) -> CookieJar {
    let max_age = refresh.expires_at - unix_now();
    jar.add(cookie::refresh(refresh.token, max_age)).add(cookie::hint(max_age))
}
