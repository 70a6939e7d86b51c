//! `POST /api/auth/password-reset[/confirm]` and `POST /api/auth/verify-email[/confirm]`: the
//! links sent by mail (`auth/recovery.rs`, `auth/verify.rs`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum_extra::extract::CookieJar;

use super::auth::{accepted, issue};
use super::dpop::TokenProof;
use super::extract::{AuthUser, JsonBody, RequestClient};
use super::openapi::{BearerRefused, BodyRefused, CrossSite, RateLimited, Unavailable};
use crate::api::{Accepted, ErrorBody, ResetConfirm, ResetRequest, TokenResponse, VerifyConfirm};
use crate::auth::{cookie, flow, recovery, verify};
use crate::error::Result;
use crate::state::AppState;

/// Ask for a password reset link by mail. The same answer, in the same time, whether or not the
/// address has an account: the mail is prepared after the answer.
#[utoipa::path(post, path = "/api/auth/password-reset", tag = "recovery", request_body = ResetRequest,
    responses(
        (status = 202, description = "`sent_if_registered`, for every address", body = Accepted),
        BodyRefused, CrossSite, RateLimited, Unavailable,
    ))]
pub async fn request_reset(
    State(state): State<AppState>,
    RequestClient(client): RequestClient,
    JsonBody(request): JsonBody<ResetRequest>,
) -> Result<Response> {
    recovery::request(&state.db, &state.limits, &state.mailer, &request.email, &client).await?;
    Ok(accepted("sent_if_registered"))
}

/// Set a new password with a reset link's token: every session of the account ends, and this
/// browser is logged in with a new one, as by a login. A session its refresh cookie still named
/// was one of the account's, or ends as a login ends it.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "recovery", request_body = ResetConfirm,
    responses(
        (status = 200, description = "Password set, every other session revoked, logged in; sets the refresh cookie",
            body = TokenResponse, headers(("Set-Cookie" = String))),
        (status = 400, description = "invalid_or_expired_link: expired, used, voided by a newer one, or unknown, alike",
            body = ErrorBody),
        (status = 422, description = "validation_failed: the new password is too weak (the link stays usable)",
            body = ErrorBody),
        BodyRefused, CrossSite, RateLimited, Unavailable,
    ))]
pub async fn confirm_reset(
    State(state): State<AppState>,
    RequestClient(client): RequestClient,
    TokenProof(proof): TokenProof,
    headers: HeaderMap,
    jar: CookieJar,
    JsonBody(confirm): JsonBody<ResetConfirm>,
) -> Result<Response> {
    let client = client.holding(proof);
    let replaced = cookie::presented(&headers).ok().flatten();
    let (db, tokens, passwords) = (&state.db, &state.tokens, &state.passwords);
    let issued =
        recovery::confirm(db, tokens, passwords, &confirm.token, confirm.new_password, client.clone())
            .await?;
    flow::end_replaced_session(db, tokens, replaced.as_deref(), &client).await?;
    Ok(issue(StatusCode::OK, jar, issued, &state))
}

/// Mark the address verified with a verification link's token.
#[utoipa::path(post, path = "/api/auth/verify-email/confirm", tag = "recovery", request_body = VerifyConfirm,
    responses(
        (status = 204, description = "Verified: `email_verified` is true from the next access token on"),
        (status = 400, description = "invalid_or_expired_link: expired, used, voided by a newer one, or unknown, alike",
            body = ErrorBody),
        BodyRefused, CrossSite, RateLimited, Unavailable,
    ))]
pub async fn confirm_verification(
    State(state): State<AppState>,
    RequestClient(client): RequestClient,
    JsonBody(confirm): JsonBody<VerifyConfirm>,
) -> Result<StatusCode> {
    verify::confirm(&state.db, &confirm.token, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send the verification mail again (to an unverified address; rate-limited as reset requests).
#[utoipa::path(post, path = "/api/auth/verify-email", tag = "recovery", security(("bearer" = [])),
    responses(
        (status = 202, description = "`verification_sent` (nothing is sent to an address verified already)", body = Accepted),
        BearerRefused, RateLimited, Unavailable,
    ))]
pub async fn resend_verification(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    RequestClient(client): RequestClient,
) -> Result<Response> {
    verify::resend(&state.db, &state.limits, &state.mailer, &who.sub, &client).await?;
    Ok(accepted("verification_sent"))
}
