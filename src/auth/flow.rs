//! The four things a client can do with its credentials: register, log in, refresh, log out.
//! Handlers in `http/auth.rs` call these; these call `password`, `tokens`, `rotation`, `db`.

use super::rotation::{self, Outcome};
use super::tokens::Signed;
use super::{new_id, unix_now};
use crate::api::{Credentials, User};
use crate::db::{self, sessions::NewSession, users::NewUser};
use crate::error::{Error, Result};
use crate::server::AppState;

const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 128;
const MAX_EMAIL_BYTES: usize = 254;
const MAX_USER_AGENT_CHARS: usize = 256;

/// Where a login came from, recorded on the session.
#[derive(Default)]
pub struct Client {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A new or renewed session: the access token for the body, the refresh token for the cookie.
pub struct Issued {
    pub access: Signed,
    pub refresh: Signed,
    pub user: User,
}

pub async fn register(state: &AppState, credentials: Credentials, client: Client) -> Result<Issued> {
    let email = normalise_email(&credentials.email);
    if email.len() > MAX_EMAIL_BYTES || !email_address::EmailAddress::is_valid(&email) {
        return Err(Error::Validation { field: "email", message: "email must be a valid email address" });
    }
    let chars = credentials.password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Error::Validation {
            field: "password",
            message: "password must be at least 8 characters",
        });
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Error::Validation {
            field: "password",
            message: "password must be at most 128 characters",
        });
    }
    let password_hash = state.passwords.hash(credentials.password).await?;
    let id = new_id();
    let user = NewUser { id: &id, email: &email, password_hash: &password_hash, now: unix_now() };
    db::users::insert(&state.db, user).await.map_err(|err| {
        if db::is_unique_violation(&err) {
            Error::EmailTaken
        } else {
            Error::from(err)
        }
    })?;
    tracing::info!(user_id = %id, "registered");
    start_session(state, User { id, email }, client).await
}

pub async fn login(state: &AppState, credentials: Credentials, client: Client) -> Result<Issued> {
    let email = normalise_email(&credentials.email);
    let user = db::users::find_enabled_by_email(&state.db, &email).await?;
    let stored = user.as_ref().map(|user| user.password_hash.clone());
    // Runs a full Argon2id verification even for an unknown email: same time, same answer.
    let matches = state.passwords.verify(credentials.password, stored).await?;
    let Some(user) = user.filter(|_| matches) else {
        tracing::info!("login refused: invalid credentials");
        return Err(Error::InvalidCredentials);
    };
    tracing::info!(user_id = %user.id, "logged in");
    start_session(state, User { id: user.id, email: user.email }, client).await
}

/// Exchanges a current refresh token for a new pair. Every failure is `InvalidRefreshToken`.
pub async fn refresh(state: &AppState, refresh_token: Option<&str>) -> Result<Issued> {
    let token = refresh_token.ok_or(Error::InvalidRefreshToken)?;
    let claims = state.tokens.verify_refresh(token).map_err(|reason| {
        tracing::info!(%reason, "refresh refused: token not valid");
        Error::InvalidRefreshToken
    })?;
    let now = unix_now();
    match rotation::rotate(&state.db, &state.tokens, &claims, now).await? {
        Outcome::Rotated { user_id, email, refresh } => {
            let access =
                state.tokens.sign_access(&user_id, &email, &claims.sid, now).map_err(Error::internal)?;
            tracing::info!(session_id = %claims.sid, "refresh token rotated");
            Ok(Issued { access, refresh, user: User { id: user_id, email } })
        }
        Outcome::Refused(refusal) => {
            tracing::info!(session_id = %claims.sid, ?refusal, "refresh refused");
            Err(Error::InvalidRefreshToken)
        }
    }
}

/// Revokes the session the refresh token belongs to. Succeeds with no or a useless token too:
/// logging out must always leave the browser logged out.
pub async fn logout(state: &AppState, refresh_token: Option<&str>) -> Result<()> {
    let Some(claims) = refresh_token.and_then(|token| state.tokens.verify_refresh(token).ok()) else {
        return Ok(());
    };
    db::sessions::revoke(&state.db, &claims.sid, "logout", unix_now()).await?;
    tracing::info!(session_id = %claims.sid, "logged out");
    Ok(())
}

async fn start_session(state: &AppState, user: User, client: Client) -> Result<Issued> {
    let now = unix_now();
    let session_id = new_id();
    let expires_at = now + state.tokens.refresh_ttl.as_secs() as i64;
    let refresh =
        state.tokens.sign_refresh(&user.id, &session_id, now, expires_at).map_err(Error::internal)?;
    let user_agent = client.user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect::<String>());
    let session = NewSession {
        id: &session_id,
        user_id: &user.id,
        jti: &refresh.jti,
        now,
        expires_at,
        user_agent: user_agent.as_deref(),
        ip: client.ip.as_deref(),
    };
    db::sessions::insert(&state.db, session).await?;
    let access =
        state.tokens.sign_access(&user.id, &user.email, &session_id, now).map_err(Error::internal)?;
    Ok(Issued { access, refresh, user })
}

fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}
