//! The four things a client does with its credentials: register, log in, refresh, log out.
//! Handlers in `http/auth.rs` call these with the parts they need; these call `password`,
//! `tokens`, `rotation` and `db`. Each runs in a `tracing` span named after it, so every log
//! line it writes says which flow (and, once known, which user or session) it belongs to; the
//! spans never record a password or a token.

use tracing::field::Empty;

use super::device;
use super::limits::{Limits, LoginBudget};
use super::password::{self, Lane, Passwords};
use super::revoked::Revocation;
use super::rotation::{self, Outcome, Refusal, Renewal};
use super::tokens::{RefreshClaims, Signed, Tokens};
use super::{new_id, short, unix_now, verify, Client};
use crate::api::{Credentials, EventKind, User, EMAIL_MAX_BYTES};
use crate::db::{self, events::NewEvent, sessions::NewSession, users::NewUser, Pool};
use crate::error::{Error, Result};
use crate::mail::{templates, Mailer};

/// A new or renewed session: the access token for the body, the refresh token for the cookie,
/// and after a login or registration the browser's new device cookie (`device.rs`).
pub struct Issued {
    pub access: Signed,
    pub refresh: Signed,
    pub user: User,
    pub device: Option<Signed>,
    /// Whether both tokens are bound to a DPoP key (`dpop.rs`): the body says `token_type: DPoP`.
    pub bound: bool,
}

/// What a registration ended in.
pub enum Registered {
    /// Logged in at once (the default, as the design article has it).
    LoggedIn(Box<Issued>),
    /// `REQUIRE_VERIFIED_EMAIL`: a mail is on its way (to a new account its verification link,
    /// to an address that has an account already a note saying so) and nobody is logged in.
    VerificationSent,
}

/// Creates an account and queues its verification mail (before answering, so a restart cannot
/// lose it). By default it logs in at once; with `REQUIRE_VERIFIED_EMAIL` a taken address
/// answers exactly as a free one (the same checks and hash, a mail queued either way: the
/// owner's says someone tried), and the new account logs in only once its link is used.
#[tracing::instrument(name = "register", skip_all, fields(user_id = Empty))]
pub async fn register(
    db: &Pool,
    tokens: &Tokens,
    passwords: &Passwords,
    mailer: &Mailer,
    credentials: Credentials,
    client: Client,
) -> Result<Registered> {
    let email = valid_email(&credentials.email)?;
    password::validate_new(&credentials.password, &email, "password")?;
    let password_hash = passwords.hash(credentials.password, Lane::SignIn).await?;
    let (id, now) = (new_id(), unix_now());
    tracing::Span::current().record("user_id", id.as_str());
    let user = NewUser { id: &id, email: &email, password_hash: &password_hash, now, verified: false };
    match db::users::insert(db, user).await {
        Ok(()) => {}
        Err(err) if db::is_unique_violation(&err) && mailer.verified_only => {
            tracing::info!("sign-up with an address that has an account: telling its owner");
            mailer.send(db, &email, templates::already_registered(&mailer.origin)).await?;
            return Ok(Registered::VerificationSent);
        }
        Err(err) if db::is_unique_violation(&err) => return Err(Error::EmailTaken),
        Err(err) => return Err(err.into()),
    }
    tracing::info!("registered");
    db::events::record(db, client.event(&id, None, EventKind::Registered)).await?;
    verify::send(db, mailer, &id, &email).await?;
    if mailer.verified_only {
        return Ok(Registered::VerificationSent);
    }
    let user = User { id, email, email_verified: false };
    let issued = start_session(db, tokens, user, now, SignedInWith::Password, client).await?;
    Ok(Registered::LoggedIn(Box::new(with_device(tokens, issued)?)))
}

/// What a login presents: the credentials, and the browser's device cookie if it has one.
pub struct LoginAttempt<'a> {
    pub credentials: Credentials,
    pub device_cookie: Option<&'a str>,
}

#[tracing::instrument(name = "login", skip_all, fields(user_id = Empty))]
pub async fn login(
    db: &Pool,
    tokens: &Tokens,
    passwords: &Passwords,
    limits: &Limits,
    mailer: &Mailer,
    attempt: LoginAttempt<'_>,
    client: Client,
) -> Result<Issued> {
    let LoginAttempt { credentials, device_cookie } = attempt;
    let email = normalise_email(&credentials.email);
    let user = db::users::find_enabled_by_email(db, &email).await?;
    let budget = device::budget(tokens, device_cookie, &email, user.as_ref().map(|user| user.id.as_str()));
    limits.login_allowed(&budget).await?;
    let stored = user
        .as_ref()
        .map(|user| user.password_hash.clone())
        .filter(|hash| db::users::is_usable_password(hash));
    // Runs a full Argon2id verification even for an unknown email or an account without a
    // password: same time, same answer.
    let matches = passwords.verify(credentials.password, stored, Lane::SignIn).await?;
    let known = user.as_ref().map(|user| user.id.clone());
    let Some(user) = user.filter(|_| matches) else {
        return Err(refuse_login(db, limits, &budget, known, client).await);
    };
    tracing::Span::current().record("user_id", user.id.as_str());
    if mailer.verified_only && user.email_verified_at.is_none() {
        tracing::info!("login refused: the address is not verified yet");
        return Err(Error::EmailNotVerified);
    }
    tracing::info!(known_device = matches!(budget, LoginBudget::Device(_)), "logged in");
    let issued =
        start_session(db, tokens, user.public(), user.password_changed_at, SignedInWith::Password, client)
            .await?;
    with_device(tokens, issued)
}

/// A wrong password or an unknown email: counted against the attempt's budget, and for a
/// known account recorded as an event after the answer.
async fn refuse_login(
    db: &Pool,
    limits: &Limits,
    budget: &LoginBudget,
    known: Option<String>,
    client: Client,
) -> Error {
    if let Err(err) = limits.login_failed(budget).await {
        return err;
    }
    match &known {
        Some(user_id) => {
            tracing::Span::current().record("user_id", user_id.as_str());
            tracing::info!("login refused: wrong password");
        }
        None => tracing::info!("login refused: unknown email"),
    }
    record_failed_login(db.clone(), client, known);
    Error::InvalidCredentials
}

/// Adds the browser's device cookie to a session just started by a login or registration.
fn with_device(tokens: &Tokens, issued: Issued) -> Result<Issued> {
    let device = device::issue(tokens, &issued.user.id, unix_now()).map_err(Error::internal)?;
    Ok(Issued { device: Some(device), ..issued })
}

/// Records a failed login after the answer, not before: a write (and its fsync) before it
/// would make "wrong password" measurably slower than "no such account". And for an unknown
/// address too, as an event of no account (without the address: people type passwords into
/// that field): the write after the answer costs the next request the same either way, so
/// not even the request after tells them apart (the benchmark's timing test sends them
/// interleaved, and would see it).
fn record_failed_login(db: Pool, client: Client, user_id: Option<String>) {
    tokio::spawn(async move {
        let event = match &user_id {
            Some(user_id) => client.event(user_id, None, EventKind::LoginFailed),
            None => NewEvent {
                detail: Some("no account has this address"),
                ..client.event_of_no_account(EventKind::LoginFailed)
            },
        };
        if let Err(err) = db::events::record(&db, event).await {
            tracing::warn!(error = %err, "could not record a failed login");
        }
    });
}

/// Why a refresh gave no tokens. The client only ever learns `invalid_refresh_token`; the lab
/// and the logs see which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshRefused {
    /// Missing, malformed, badly signed, expired, or not a refresh token at all.
    InvalidToken,
    /// A rotated refresh token came back after the grace window: the session is now revoked.
    ReuseDetected,
    /// The thorough check failed (revoked, expired, user disabled, password changed...).
    Refused(Refusal),
}

impl RefreshRefused {
    /// A stable name, for the lab: `invalid_token`, `reuse_detected`, or the refusal's.
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidToken => "invalid_token",
            Self::ReuseDetected => EventKind::ReuseDetected.name(),
            Self::Refused(refusal) => refusal.name(),
        }
    }
}

/// Exchanges a refresh token for a new pair; `access_token`, when the client sends the one it
/// holds (expired is fine), must belong to the same session.
pub async fn refresh(
    db: &Pool,
    tokens: &Tokens,
    refresh_token: Option<&str>,
    access_token: Option<&str>,
    client: &Client,
) -> Result<Issued> {
    try_refresh(db, tokens, refresh_token, access_token, client)
        .await?
        .map_err(|_| Error::InvalidRefreshToken)
}

/// [`refresh`], telling why no tokens were issued.
#[tracing::instrument(name = "refresh", skip_all, fields(session_id = Empty))]
pub async fn try_refresh(
    db: &Pool,
    tokens: &Tokens,
    refresh_token: Option<&str>,
    access_token: Option<&str>,
    client: &Client,
) -> Result<Result<Issued, RefreshRefused>> {
    let verified = refresh_token.ok_or(RefreshRefused::InvalidToken).and_then(|token| {
        tokens.verify_refresh(token).map_err(|reason| {
            tracing::info!(%reason, "refresh refused: token not valid");
            RefreshRefused::InvalidToken
        })
    });
    let claims = match verified {
        Ok(claims) => claims,
        Err(refused) => return Ok(Err(refused)),
    };
    tracing::Span::current().record("session_id", claims.sid.as_str());
    if let Some(access_token) = access_token {
        check_pairing(db, tokens, &claims, access_token, client).await?;
    }
    let now = unix_now();
    let renewal = match rotation::rotate(db, tokens, &claims, now, client).await? {
        Outcome::Rotated(renewal) => renewal,
        Outcome::Repeated(renewal) => renewal,
        Outcome::ReuseDetected => return Ok(Err(RefreshRefused::ReuseDetected)),
        Outcome::Refused(refusal) => return Ok(Err(RefreshRefused::Refused(refusal))),
    };
    let Renewal { user, refresh, jkt } = renewal;
    let access = tokens.sign_access(&user, &claims.sid, jkt.as_deref(), now).map_err(Error::internal)?;
    Ok(Ok(Issued { access, refresh, user, device: None, bound: jkt.is_some() }))
}

async fn check_pairing(
    db: &Pool,
    tokens: &Tokens,
    refresh: &RefreshClaims,
    access_token: &str,
    client: &Client,
) -> Result<()> {
    let paired =
        tokens.verify_access_ignoring_expiry(access_token).is_ok_and(|access| access.sid == refresh.sid);
    if paired {
        return Ok(());
    }
    let event = NewEvent {
        detail: Some("the refresh request carried an access token of another session"),
        ..client.event(&refresh.sub, Some(&refresh.sid), EventKind::PairingMismatch)
    };
    db::events::record(db, event).await?;
    tracing::warn!("refresh refused: access token of another session");
    Err(Error::TokenPairMismatch)
}

/// Revokes the session the refresh token belongs to. Succeeds with no or a useless token too:
/// logging out must always leave the browser logged out.
#[tracing::instrument(name = "logout", skip_all, fields(session_id = Empty))]
pub async fn logout(db: &Pool, tokens: &Tokens, refresh_token: Option<&str>, client: &Client) -> Result<()> {
    end_session(db, tokens, refresh_token, EventKind::Logout, client).await
}

/// After a login or registration: the session of the refresh cookie this browser still held
/// (another account's, or an earlier login to this one) ends, so one browser holds one session
/// and an abandoned one does not stay alive for the refresh lifetime.
pub async fn end_replaced_session(
    db: &Pool,
    tokens: &Tokens,
    refresh_token: Option<&str>,
    client: &Client,
) -> Result<()> {
    end_session(db, tokens, refresh_token, EventKind::SessionRevoked, client).await
}

/// Revokes the session of `refresh_token`, if it is a sound refresh token of a live session,
/// and records `kind` for its user.
async fn end_session(
    db: &Pool,
    tokens: &Tokens,
    refresh_token: Option<&str>,
    kind: EventKind,
    client: &Client,
) -> Result<()> {
    let Some(claims) = refresh_token.and_then(|token| tokens.verify_refresh(token).ok()) else {
        return Ok(());
    };
    tracing::Span::current().record("session_id", claims.sid.as_str());
    let replaced = kind != EventKind::Logout;
    let reason = if replaced { "replaced by a new login in this browser" } else { "logout" };
    let now = unix_now();
    if db::sessions::revoke(db, &claims.sid, reason, now).await? {
        tokens.revoked.apply(Revocation::Session { id: &claims.sid, at: now }, now);
        let detail = replaced.then_some(reason);
        let event = NewEvent { detail, ..client.event(&claims.sub, Some(&claims.sid), kind) };
        db::events::record(db, event).await?;
        if replaced {
            tracing::info!(jti = short(&claims.jti), replaced_session = claims.sid, "replaced a session");
        } else {
            tracing::info!(jti = short(&claims.jti), "logged out");
        }
    }
    Ok(())
}

/// A request that carried the refresh cookie more than once: refused, and recorded for each
/// account whose sound token was among the copies.
pub async fn refuse_ambiguous_cookie(
    db: &Pool,
    tokens: &Tokens,
    copies: &[String],
    client: &Client,
) -> Error {
    let mut named: Vec<RefreshClaims> =
        copies.iter().filter_map(|copy| tokens.verify_refresh(copy).ok()).collect();
    named.dedup_by(|a, b| a.sid == b.sid);
    for claims in &named {
        let event = client.event(&claims.sub, Some(&claims.sid), EventKind::AmbiguousCookie);
        if let Err(err) = db::events::record(db, event).await {
            return err.into();
        }
    }
    tracing::warn!(copies = copies.len(), sound = named.len(), "refresh cookie sent more than once; refused");
    Error::AmbiguousCookie
}

/// Which way a session began: recorded on the session and its login event.
#[derive(Clone, Copy, Debug)]
pub enum SignedInWith<'a> {
    Password,
    /// A social login (`oidc/`): the provider's name and label.
    Provider {
        name: &'a str,
        label: &'a str,
    },
}

/// Opens a session for `user` and signs its first pair: the end of every way in (a password
/// here, a social login in `oidc/`). `password_changed_at` is the user's, which the session
/// is vouched for by.
pub async fn start_session(
    db: &Pool,
    tokens: &Tokens,
    user: User,
    password_changed_at: i64,
    way_in: SignedInWith<'_>,
    client: Client,
) -> Result<Issued> {
    let now = unix_now();
    let session_id = new_id();
    let max_expires_at = tokens.session_cap(now);
    let expires_at = tokens.session_expiry(now, max_expires_at);
    let jkt = client.dpop_key.as_deref();
    let claims = RefreshClaims::new(&user.id, &session_id, &new_id(), now, expires_at).bound_to(jkt);
    let refresh = tokens.sign_refresh(&claims).map_err(Error::internal)?;
    let user_agent = client.user_agent.as_deref().map(super::stored_user_agent);
    let session = NewSession {
        id: &session_id,
        user_id: &user.id,
        jti: &refresh.jti,
        now,
        expires_at,
        max_expires_at,
        password_changed_at,
        user_agent,
        ip: client.ip.as_deref(),
        signed_in_with: match way_in {
            SignedInWith::Password => "password",
            SignedInWith::Provider { name, .. } => name,
        },
        jkt,
    };
    db::sessions::create(db, session).await?;
    let detail = match way_in {
        SignedInWith::Password => None,
        SignedInWith::Provider { label, .. } => Some(format!("with {label}")),
    };
    let event =
        NewEvent { detail: detail.as_deref(), ..client.event(&user.id, Some(&session_id), EventKind::Login) };
    db::events::record(db, event).await?;
    let access = tokens.sign_access(&user, &session_id, jkt, now).map_err(Error::internal)?;
    tracing::info!(session_id = %session_id, bound = jkt.is_some(), "session started");
    Ok(Issued { access, refresh, user, device: None, bound: jkt.is_some() })
}

pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// `email` normalised, or `422` if it is not an address one could register.
pub fn valid_email(email: &str) -> Result<String> {
    let email = normalise_email(email);
    if email.len() > EMAIL_MAX_BYTES || !email_address::EmailAddress::is_valid(&email) {
        let message = "email must be a valid email address".to_owned();
        return Err(Error::Validation { field: "email", message });
    }
    Ok(email)
}
