//! Email verification: a link by mail to `/verify-email#token=…` (24 hours, once; a newer one
//! voids it) whose page posts the token back. It marks the address the link went to, and only
//! while that is still the account's. Sign-up sends the first (`flow::register`).

use super::limits::Limits;
use super::{one_time, unix_now, Client};
use crate::api::EventKind;
use crate::db::{
    self,
    one_time_tokens::{NewToken, Purpose},
    Pool,
};
use crate::error::{Error, Result};
use crate::mail::{templates, Mailer};

/// How long a verification link works.
pub const VERIFY_LINK_SECS: i64 = 24 * 3600;

/// Queues a verification mail to `email`, the address of user `user_id`.
pub async fn send(db: &Pool, mailer: &Mailer, user_id: &str, email: &str) -> Result<(), sqlx::Error> {
    let (token, now) = (one_time::new_token(), unix_now());
    let hash = one_time::hash(&token);
    let expires_at = now + VERIFY_LINK_SECS;
    let new = NewToken { token_hash: &hash, user_id, purpose: Purpose::VerifyEmail, email, now, expires_at };
    let mut tx = db::begin_write(db).await?;
    db::one_time_tokens::replace(&mut tx, new).await?;
    mailer.queue(&mut tx, email, templates::verify_email(&mailer.origin, &token)).await?;
    tx.commit().await?;
    mailer.wake_sender();
    Ok(())
}

/// The logged-in user asks for the mail again (counted like a reset request). An address that
/// is verified already gets no mail.
pub async fn resend(
    db: &Pool,
    limits: &Limits,
    mailer: &Mailer,
    user_id: &str,
    client: &Client,
) -> Result<()> {
    let user = db::users::find_enabled(db, user_id).await?.ok_or(Error::InvalidAccessToken)?;
    limits.mail_request(&user.email, client.rate_key).await?;
    if user.email_verified_at.is_none() {
        send(db, mailer, &user.id, &user.email).await?;
    }
    Ok(())
}

/// Marks the address of a verification link's token as verified.
pub async fn confirm(db: &Pool, token: &str, client: &Client) -> Result<()> {
    let now = unix_now();
    let live = db::one_time_tokens::consume(db, &one_time::hash(token), Purpose::VerifyEmail, now).await?;
    let live = live.ok_or(Error::InvalidOrExpiredLink)?;
    if !db::users::mark_verified(db, &live.user_id, &live.email, now).await? {
        return Err(Error::InvalidOrExpiredLink); // the account's address changed since
    }
    db::events::record(db, client.event(&live.user_id, None, EventKind::EmailVerified)).await?;
    tracing::info!(user_id = %live.user_id, "email verified");
    Ok(())
}
