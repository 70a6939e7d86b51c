//! The four things a client does with its credentials: register, log in, refresh, log out.
//! Handlers in `http/auth.rs` call these; these call `password`, `tokens`, `rotation`, `db`.

use super::rotation::{self, Outcome, Renewal};
use super::tokens::{RefreshClaims, Signed};
use super::{new_id, unix_now};
use crate::api::{Credentials, User};
use crate::db::{self, events::NewEvent, sessions::NewSession, users::NewUser};
use crate::error::{Error, Result};
use crate::server::AppState;

const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 128;
const MAX_EMAIL_BYTES: usize = 254;
const MAX_USER_AGENT_CHARS: usize = 256;

/// Where a request came from, recorded on sessions and security events.
#[derive(Default)]
pub struct Client {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

impl Client {
    pub fn event<'a>(&'a self, user_id: &'a str, session_id: Option<&'a str>, kind: &'a str) -> NewEvent<'a> {
        NewEvent {
            user_id,
            session_id,
            kind,
            detail: None,
            ip: self.ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
            now: unix_now(),
        }
    }
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
    validate_new_password(&credentials.password, "password")?;
    let password_hash = state.passwords.hash(credentials.password).await?;
    let id = new_id();
    let now = unix_now();
    let user = NewUser { id: &id, email: &email, password_hash: &password_hash, now };
    db::users::insert(&state.db, user).await.map_err(|err| {
        if db::is_unique_violation(&err) {
            Error::EmailTaken
        } else {
            Error::from(err)
        }
    })?;
    db::events::record(&state.db, client.event(&id, None, "registered")).await?;
    tracing::info!(user_id = %id, "registered");
    start_session(state, User { id, email }, now, client).await
}

pub async fn login(state: &AppState, credentials: Credentials, client: Client) -> Result<Issued> {
    let email = normalise_email(&credentials.email);
    state.limits.login_attempt_for(&email)?;
    let user = db::users::find_enabled_by_email(&state.db, &email).await?;
    let stored = user.as_ref().map(|user| user.password_hash.clone());
    // Runs a full Argon2id verification even for an unknown email: same time, same answer.
    let matches = state.passwords.verify(credentials.password, stored).await?;
    let Some(user) = user else {
        tracing::info!("login refused: unknown email");
        return Err(Error::InvalidCredentials);
    };
    if !matches {
        tracing::info!(user_id = %user.id, "login refused: wrong password");
        // Recorded after the answer, not before: a write (and its fsync) that only a known
        // email pays would make "wrong password" measurably slower than "no such account".
        let (db, user_id) = (state.db.clone(), user.id);
        tokio::spawn(async move {
            if let Err(err) = db::events::record(&db, client.event(&user_id, None, "login_failed")).await {
                tracing::warn!(error = %err, "could not record a failed login");
            }
        });
        return Err(Error::InvalidCredentials);
    }
    tracing::info!(user_id = %user.id, "logged in");
    start_session(state, User { id: user.id, email: user.email }, user.password_changed_at, client).await
}

/// Exchanges a refresh token for a new pair; `access_token`, when the client sends the one it
/// holds (expired is fine), must belong to the same session.
pub async fn refresh(
    state: &AppState,
    refresh_token: Option<&str>,
    access_token: Option<&str>,
    client: &Client,
) -> Result<Issued> {
    let token = refresh_token.ok_or(Error::InvalidRefreshToken)?;
    let claims = state.tokens.verify_refresh(token).map_err(|reason| {
        tracing::info!(%reason, "refresh refused: token not valid");
        Error::InvalidRefreshToken
    })?;
    if let Some(access_token) = access_token {
        check_pairing(state, &claims, access_token, client).await?;
    }
    let now = unix_now();
    let grace = state.config.refresh_reuse_grace;
    let renewal = match rotation::rotate(&state.db, &state.tokens, &claims, grace, now, client).await? {
        Outcome::Rotated(renewal) => {
            tracing::info!(session_id = %claims.sid, "refresh token rotated");
            renewal
        }
        Outcome::Repeated(renewal) => {
            tracing::info!(session_id = %claims.sid, "refresh repeated inside the grace window");
            renewal
        }
        Outcome::ReuseDetected => {
            tracing::warn!(session_id = %claims.sid, jti = rotation::short(&claims.jti), "refresh token reuse: session revoked");
            return Err(Error::InvalidRefreshToken);
        }
        Outcome::Refused(refusal) => {
            tracing::info!(session_id = %claims.sid, ?refusal, "refresh refused");
            return Err(Error::InvalidRefreshToken);
        }
    };
    let Renewal { user_id, email, refresh } = renewal;
    let access = state.tokens.sign_access(&user_id, &email, &claims.sid, now).map_err(Error::internal)?;
    Ok(Issued { access, refresh, user: User { id: user_id, email } })
}

async fn check_pairing(
    state: &AppState,
    refresh: &RefreshClaims,
    access_token: &str,
    client: &Client,
) -> Result<()> {
    let paired = state
        .tokens
        .verify_access_ignoring_expiry(access_token)
        .is_ok_and(|access| access.sid == refresh.sid);
    if paired {
        return Ok(());
    }
    let event = NewEvent {
        detail: Some("the refresh request carried an access token of another session"),
        ..client.event(&refresh.sub, Some(&refresh.sid), "pairing_mismatch")
    };
    db::events::record(&state.db, event).await?;
    tracing::warn!(session_id = %refresh.sid, "refresh refused: access token of another session");
    Err(Error::TokenPairMismatch)
}

/// Revokes the session the refresh token belongs to. Succeeds with no or a useless token too:
/// logging out must always leave the browser logged out.
pub async fn logout(state: &AppState, refresh_token: Option<&str>, client: &Client) -> Result<()> {
    let Some(claims) = refresh_token.and_then(|token| state.tokens.verify_refresh(token).ok()) else {
        return Ok(());
    };
    if db::sessions::revoke(&state.db, &claims.sid, "logout", unix_now()).await? {
        db::events::record(&state.db, client.event(&claims.sub, Some(&claims.sid), "logout")).await?;
        tracing::info!(session_id = %claims.sid, "logged out");
    }
    Ok(())
}

async fn start_session(
    state: &AppState,
    user: User,
    password_changed_at: i64,
    client: Client,
) -> Result<Issued> {
    let now = unix_now();
    let session_id = new_id();
    let max_expires_at = state.config.session_max_lifetime.map(|cap| now + cap.as_secs() as i64);
    let slid = now + state.tokens.refresh_ttl.as_secs() as i64;
    let expires_at = max_expires_at.map_or(slid, |cap| slid.min(cap));
    let claims = RefreshClaims::new(&user.id, &session_id, &new_id(), now, expires_at);
    let refresh = state.tokens.sign_refresh(&claims).map_err(Error::internal)?;
    let user_agent =
        client.user_agent.as_ref().map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect::<String>());
    let session = NewSession {
        id: &session_id,
        user_id: &user.id,
        jti: &refresh.jti,
        now,
        expires_at,
        max_expires_at,
        password_changed_at,
        user_agent: user_agent.as_deref(),
        ip: client.ip.as_deref(),
    };
    db::sessions::create(&state.db, session).await?;
    db::events::record(&state.db, client.event(&user.id, Some(&session_id), "login")).await?;
    let access =
        state.tokens.sign_access(&user.id, &user.email, &session_id, now).map_err(Error::internal)?;
    Ok(Issued { access, refresh, user })
}

pub(super) fn validate_new_password(password: &str, field: &'static str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Error::Validation { field, message: "password must be at least 8 characters" });
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Error::Validation { field, message: "password must be at most 128 characters" });
    }
    Ok(())
}

fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}
