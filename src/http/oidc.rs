//! Social login over HTTP: the provider list, the start (a redirect to the provider), the
//! callback (a redirect to the app), and linking and unlinking from the sessions page. The
//! decisions are in `auth/oidc/`; each handler here parses, calls, and answers. The start and
//! the callback are browser navigations: they answer with redirects, never a JSON error, and
//! every failure lands on `/login/problem?reason=…`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum_extra::extract::CookieJar;

use super::extract::{AuthUser, RequestClient};
use super::openapi::{BearerRefused, RateLimited, Unavailable};
use crate::api::{paths, ErrorBody, LinkStart, LinkedIdentity, OidcProvider, WaysIn};
use crate::auth::oidc::callback::{self, CallbackQuery};
use crate::auth::oidc::flow_state::{self, LinkFor};
use crate::auth::oidc::linking::{self, Landing};
use crate::auth::oidc::Failure;
use crate::auth::{unix_now, Client};
use crate::db::{self, identities::Unlinked, Caller};
use crate::error::{Error, Result};
use crate::state::AppState;

/// The providers the login page offers ("Continue with {label}"): those configured and
/// discovered. Empty when social login is off.
#[utoipa::path(get, path = "/api/auth/oidc/providers", tag = "social login", responses(
    (status = 200, body = Vec<OidcProvider>),
))]
pub async fn providers(State(state): State<AppState>) -> Json<Vec<OidcProvider>> {
    Json(state.oidc.available())
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct StartQuery {
    /// A path on this site to land on after logging in (default `/account`).
    return_to: Option<String>,
}

/// Begin a social login: a redirect to the provider's authorization endpoint (code flow, PKCE
/// S256, `state`, `nonce`), and the flow cookie that binds it to this browser.
#[utoipa::path(get, path = "/api/auth/oidc/{name}/start", tag = "social login",
    params(("name" = String, Path, description = "a provider of `GET /api/auth/oidc/providers`"), StartQuery),
    responses(
        (status = 303, description = "To the provider, setting the flow cookie; or, for an unknown provider, to /login/problem",
            headers(("Location" = String), ("Set-Cookie" = String))),
        RateLimited,
    ))]
pub async fn start(
    State(state): State<AppState>,
    Path(name): Path<String>,
    query: Result<Query<StartQuery>, QueryRejection>,
    jar: CookieJar,
) -> Response {
    let return_to = query.ok().and_then(|Query(query)| query.return_to);
    match flow_state::begin(&state.db, &state.oidc, &name, return_to.as_deref(), None, unix_now()).await {
        Ok(begun) => (jar.add(begun.cookie), see_other(&begun.authorization_url)).into_response(),
        Err(failure) => problem(jar, &name, failure),
    }
}

/// Where the provider sends the browser back: `state` checked against the flow cookie, the
/// code exchanged, the ID token verified; then a session begins as a password login's does
/// (refresh cookie, hint cookie) and the browser lands on `/account`, where the app's usual
/// refresh call gets its access token. No token is ever in a URL.
#[utoipa::path(get, path = "/api/auth/oidc/{name}/callback", tag = "social login",
    params(
        ("name" = String, Path, description = "the provider"),
        ("code" = Option<String>, Query), ("state" = Option<String>, Query),
        ("iss" = Option<String>, Query, description = "RFC 9207: checked against the provider's issuer when sent"),
        ("error" = Option<String>, Query, description = "the provider's error, e.g. access_denied"),
        ("__Secure-tokenpair-oidc" = Option<String>, Cookie, description = "the flow cookie set by start"),
    ),
    responses(
        (status = 303, description = "To /account (refresh and hint cookies set), to /sessions after a link, or to /login/problem?reason=…; the flow cookie is cleared",
            headers(("Location" = String), ("Set-Cookie" = String))),
    ))]
pub async fn callback(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RequestClient(client): RequestClient,
    query: Result<Query<CallbackQuery>, QueryRejection>,
    jar: CookieJar,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let cookie = jar.get(flow_state::COOKIE).map(|cookie| cookie.value().to_owned());
    let jar = jar.add(flow_state::removal());
    match complete(&state, &name, &query, cookie.as_deref(), client).await {
        Ok((Landing::SignedIn(issued), return_to)) => {
            let jar = super::auth::with_session_cookies(jar, issued.refresh);
            (jar, see_other(return_to.as_deref().unwrap_or("/account"))).into_response()
        }
        Ok((Landing::Linked, return_to)) => {
            let landing = return_to.unwrap_or_else(|| format!("/sessions?linked={name}"));
            (jar, see_other(&landing)).into_response()
        }
        Err(failure) => problem(jar, &name, failure),
    }
}

/// The callback's steps, each of which may end the flow.
async fn complete(
    state: &AppState,
    name: &str,
    query: &CallbackQuery,
    cookie: Option<&str>,
    client: Client,
) -> Result<(Landing, Option<String>), Failure> {
    // The flow is taken first, whatever the answer: an error from the provider ends it too.
    let flow = flow_state::take(&state.db, cookie, name, query.state.as_deref(), unix_now()).await?;
    let (settings, discovered) = state.oidc.get(name).ok_or(Failure::UnknownProvider)?;
    callback::check_response(query, &discovered)?;
    let asserted = callback::identify(state.oidc.http(), &discovered, &flow, query.code.as_deref()).await?;
    let landing =
        linking::complete(&state.db, &state.tokens, &flow, &settings.label, &asserted, client).await?;
    Ok((landing, flow.return_to))
}

/// Begin linking a provider to the caller's account: the flow cookie, and the provider's
/// authorization URL for the page to navigate to. The callback links the identity to this
/// user while this session is still live.
#[utoipa::path(post, path = "/api/auth/oidc/{name}/link", tag = "social login", security(("bearer" = [])),
    params(("name" = String, Path, description = "a provider of `GET /api/auth/oidc/providers`")),
    responses(
        (status = 200, description = "Sets the flow cookie", body = LinkStart, headers(("Set-Cookie" = String))),
        (status = 404, description = "unknown_provider: not configured, or not discovered yet", body = ErrorBody),
        BearerRefused, RateLimited, Unavailable,
    ))]
pub async fn link(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    Path(name): Path<String>,
    jar: CookieJar,
) -> Result<Response> {
    let caller = Caller { session_id: &who.sid, user_id: &who.sub, now: unix_now() };
    if !db::sessions::caller_is_live(&state.db, caller).await? {
        return Err(Error::SessionRevoked);
    }
    let link = LinkFor { user_id: &who.sub, session_id: &who.sid };
    let return_to = Some("/sessions?linked=".to_owned() + &name);
    let begun =
        flow_state::begin(&state.db, &state.oidc, &name, return_to.as_deref(), Some(link), caller.now)
            .await
            .map_err(|failure| match failure {
                Failure::UnknownProvider => Error::UnknownProvider,
                _ => Error::Busy,
            })?;
    let body = LinkStart { authorization_url: begun.authorization_url };
    Ok((jar.add(begun.cookie), Json(body)).into_response())
}

/// The account's ways in: whether it has a password, and its linked identities.
#[utoipa::path(get, path = "/api/auth/identities", tag = "social login", security(("bearer" = [])), responses(
    (status = 200, body = WaysIn),
    BearerRefused, Unavailable,
))]
pub async fn identities(State(state): State<AppState>, AuthUser(who): AuthUser) -> Result<Json<WaysIn>> {
    let caller = Caller { session_id: &who.sid, user_id: &who.sub, now: unix_now() };
    let user = db::users::find_for_caller(&state.db, caller).await?.ok_or(Error::SessionRevoked)?;
    let rows = db::identities::of_user(&state.db, &who.sub).await?;
    let identities = rows
        .into_iter()
        .map(|row| LinkedIdentity { provider: row.provider, email: row.email, linked_at: row.linked_at })
        .collect();
    Ok(Json(WaysIn { has_password: db::users::is_usable_password(&user.password_hash), identities }))
}

/// Unlink the account's identity of a provider, unless it is the last way in (no password and
/// no other identity).
#[utoipa::path(delete, path = "/api/auth/identities/{provider}", tag = "social login", security(("bearer" = [])),
    params(("provider" = String, Path)),
    responses(
        (status = 204, description = "Unlinked"),
        (status = 404, description = "identity_not_found", body = ErrorBody),
        (status = 409, description = "last_way_in: set a password or link another provider first", body = ErrorBody),
        BearerRefused, Unavailable,
    ))]
pub async fn unlink(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    RequestClient(client): RequestClient,
    Path(provider): Path<String>,
) -> Result<StatusCode> {
    let caller = Caller { session_id: &who.sid, user_id: &who.sub, now: unix_now() };
    if !db::sessions::caller_is_live(&state.db, caller).await? {
        return Err(Error::SessionRevoked);
    }
    match db::identities::unlink(&state.db, &who.sub, &provider).await? {
        Unlinked::Done => {}
        Unlinked::NotLinked => return Err(Error::IdentityNotFound),
        Unlinked::LastWayIn => return Err(Error::LastWayIn),
    }
    let detail = state.oidc.label(&provider).to_owned();
    let event = db::events::NewEvent {
        detail: Some(&detail),
        ..client.event(&who.sub, Some(&who.sid), crate::api::EventKind::IdentityUnlinked)
    };
    db::events::record(&state.db, event).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn see_other(location: &str) -> impl IntoResponse + '_ {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location.to_owned())])
}

/// The end of a failed flow: logged, the flow cookie cleared, the browser on the problem page.
fn problem(jar: CookieJar, name: &str, failure: Failure) -> Response {
    tracing::warn!(provider = name, reason = failure.code(), "social login refused");
    let shown = if name.len() <= 32 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        name
    } else {
        ""
    };
    let location = format!("{}?reason={}&provider={shown}", paths::SIGN_IN_PROBLEM, failure.code());
    (jar.add(flow_state::removal()), see_other(&location)).into_response()
}
