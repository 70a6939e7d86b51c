//! "Forgot your password?": a link by mail that sets a new one. The decisions:
//!
//! - The request always answers the same (`202 sent_if_registered`), at the same speed: the
//!   lookup, the token and the mail happen after the answer, off the request's path, and after
//!   a random pause of up to [`AFTER_ANSWER_JITTER_MS`]: work done at once would slow whichever
//!   request came next, so an attacker could time the request after a probe instead of the
//!   probe. It is rate limited per address and per client alike for known and unknown addresses.
//! - The link is `/reset-password#token=…`: 256 random bits, in the fragment (no server log, no
//!   `Referer`), stored as a hash, good for 30 minutes and once; a newer request voids it.
//! - Opening the link changes nothing (mail scanners fetch links with GET and HEAD before the
//!   person does): only the form's `POST …/confirm` uses the token.
//! - Confirming sets the password (the usual strength rules; a weak one does not use up the
//!   link), marks the address verified (the mailbox answered), revokes every session of the
//!   account, refresh and access tokens alike, and starts a new one for this browser.

use std::time::Duration;

use rand_core::{OsRng, RngCore};

use super::flow::{self, Issued, SignedInWith};
use super::limits::Limits;
use super::password::{self, Lane, Passwords};
use super::revoked::Revocation;
use super::tokens::Tokens;
use super::{one_time, unix_now, Client};
use crate::api::{EventKind, User};
use crate::db::{
    self,
    events::NewEvent,
    one_time_tokens::{NewToken, Purpose},
    Pool,
};
use crate::error::{Error, Result};
use crate::mail::{templates, Mailer};

/// How long a reset link works.
pub const RESET_LINK_SECS: i64 = 30 * 60;
/// The longest pause between the answer and the work a known address costs (a token, a mail,
/// an event): drawn anew for each request, so that work lands on no particular later request.
pub const AFTER_ANSWER_JITTER_MS: u32 = 500;

/// Takes a reset request for `email`: counted, then answered; the mail (if the address has an
/// account) is prepared after the answer.
pub async fn request(
    db: &Pool,
    limits: &Limits,
    mailer: &Mailer,
    email: &str,
    client: &Client,
) -> Result<()> {
    let email = flow::valid_email(email)?;
    limits.mail_request(&email, client.rate_key).await?;
    let (db, mailer, client) = (db.clone(), mailer.clone(), client.clone());
    let pause = Duration::from_millis((OsRng.next_u32() % (AFTER_ANSWER_JITTER_MS + 1)).into());
    tokio::spawn(async move {
        tokio::time::sleep(pause).await;
        if let Err(err) = send_link(&db, &mailer, &email, &client).await {
            tracing::warn!(error = %err, "password reset: could not queue the mail");
        }
    });
    Ok(())
}

async fn send_link(db: &Pool, mailer: &Mailer, email: &str, client: &Client) -> Result<(), sqlx::Error> {
    let Some(user) = db::users::find_enabled_by_email(db, email).await? else {
        tracing::info!("password reset requested for an address with no account");
        return Ok(());
    };
    let (token, now) = (one_time::new_token(), unix_now());
    let hash = one_time::hash(&token);
    let expires_at = now + RESET_LINK_SECS;
    let new = NewToken {
        token_hash: &hash,
        user_id: &user.id,
        purpose: Purpose::PasswordReset,
        email,
        now,
        expires_at,
    };
    // The link, its mail and the event: one commit, all or none.
    let mut tx = db::begin_write(db).await?;
    db::one_time_tokens::replace(&mut tx, new).await?;
    mailer.queue(&mut tx, email, templates::password_reset(&mailer.origin, &token)).await?;
    db::events::record(&mut *tx, client.event(&user.id, None, EventKind::PasswordResetRequested)).await?;
    tx.commit().await?;
    mailer.wake_sender();
    tracing::info!(user_id = %user.id, "password reset link queued");
    Ok(())
}

/// Sets a new password with a reset link's token: every session of the account ends, and this
/// browser gets a new one.
pub async fn confirm(
    db: &Pool,
    tokens: &Tokens,
    passwords: &Passwords,
    token: &str,
    new_password: String,
    client: Client,
) -> Result<Issued> {
    let hash = one_time::hash(token);
    let live = db::one_time_tokens::find_live(db, &hash, Purpose::PasswordReset, unix_now()).await?;
    let live = live.ok_or(Error::InvalidOrExpiredLink)?;
    let user = db::users::find_enabled(db, &live.user_id).await?.ok_or(Error::InvalidOrExpiredLink)?;
    // The strength rules first: a weak password must not use the link up.
    password::validate_new(&new_password, &user.email, "new_password")?;
    let password_hash = passwords.hash(new_password, Lane::SignIn).await?;
    let now = unix_now();
    let mut tx = db::begin_write(db).await?;
    if db::one_time_tokens::consume(&mut *tx, &hash, Purpose::PasswordReset, now).await?.is_none() {
        return Err(Error::InvalidOrExpiredLink); // used a moment ago
    }
    db::users::set_password(&mut *tx, &user.id, &password_hash, now).await?;
    db::users::mark_verified(&mut *tx, &user.id, &live.email, now).await?;
    let revoked = db::sessions::revoke_all_of_user(&mut *tx, &user.id, None, "password reset", now).await?;
    let event = NewEvent {
        detail: Some("through a link sent by mail"),
        ..client.event(&user.id, None, EventKind::PasswordReset)
    };
    db::events::record(&mut *tx, event).await?;
    tx.commit().await?;
    tokens.revoked.apply(Revocation::User { id: &user.id, not_before: now }, now);
    tokens.revoked.sessions(&revoked, now);
    tracing::info!(user_id = %user.id, revoked = revoked.len(), "password reset");
    let record = User { email_verified: true, ..user.public() };
    flow::start_session(db, tokens, record, now, SignedInWith::Password, client).await
}
