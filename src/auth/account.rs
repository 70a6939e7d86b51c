//! What a logged-in user can do about their sessions: list them, revoke one, revoke the others
//! or all, change the password (which revokes every other session), read the security events.
//! Each call is authenticated by the access token (`http/extract.rs`), then acts on the database
//! in statements that check, each in itself, that the bearer's session is still live: a token
//! whose session was revoked, whose user was disabled or whose password changed gets 401
//! `session_revoked` here, even on an instance that has not heard of the revocation yet. What
//! these calls revoke goes into this instance's revocation set before they answer
//! (`revoked.rs`), so the headless check refuses it at once too.

use super::limits::Limits;
use super::password::{self, Lane, Passwords};
use super::revoked::{Revocation, RevokedSet};
use super::tokens::AccessClaims;
use super::{short, unix_now, Client};
use crate::api::{ChainLink, EventKind, PasswordChange, Revoked, SecurityEvent, SessionChain, SessionInfo};
use crate::db::{self, events::NewEvent, Caller, Pool};
use crate::error::{Error, Result};

const EVENTS_SHOWN: i64 = 50;
/// The most sessions the list shows (the most recently active).
const SESSIONS_SHOWN: i64 = 100;

/// The bearer as the statements that check it see them (`db::live_caller!`).
fn caller(who: &AccessClaims) -> Caller<'_> {
    Caller { session_id: &who.sid, user_id: &who.sub, now: unix_now() }
}

/// Why a statement that checks its caller found nothing: the caller's session is no longer
/// live (`SessionRevoked`), or there was nothing (`otherwise`).
async fn nothing_or_revoked<T>(db: &Pool, who: &AccessClaims, otherwise: Result<T>) -> Result<T> {
    if db::sessions::caller_is_live(db, caller(who)).await? {
        otherwise
    } else {
        Err(Error::SessionRevoked)
    }
}

pub async fn sessions(db: &Pool, who: &AccessClaims) -> Result<Vec<SessionInfo>> {
    let rows = db::sessions::live_of_caller(db, caller(who), SESSIONS_SHOWN).await?;
    if rows.is_empty() {
        return Err(Error::SessionRevoked); // a live caller's own session is among them
    }
    Ok(rows
        .into_iter()
        .map(|row| SessionInfo {
            current: row.id == who.sid,
            id: row.id,
            created_at: row.created_at,
            last_refreshed_at: row.refreshed_at,
            expires_at: row.expires_at,
            user_agent: row.user_agent,
            ip: row.ip,
            signed_in_with: row.signed_in_with,
        })
        .collect())
}

pub async fn revoke_session(
    db: &Pool,
    revoked: &RevokedSet,
    who: &AccessClaims,
    session_id: &str,
    client: &Client,
) -> Result<()> {
    let caller = caller(who);
    if !db::sessions::revoke_owned(db, caller, session_id, "revoked by the user").await? {
        return nothing_or_revoked(db, who, Err(Error::SessionNotFound)).await;
    }
    let revoked_ids = [session_id.to_owned()];
    revoked.sessions(&revoked_ids, caller.now);
    record_revocations(db, who, &revoked_ids, client).await
}

/// Revokes every session of the user, or every one but the caller's.
pub async fn revoke_all(
    db: &Pool,
    revoked_set: &RevokedSet,
    who: &AccessClaims,
    keep_mine: bool,
    client: &Client,
) -> Result<Revoked> {
    let reason = if keep_mine { "logged out from another session" } else { "logged out everywhere" };
    let caller = caller(who);
    let revoked = db::sessions::revoke_all_of_caller(db, caller, keep_mine, reason).await?;
    revoked_set.sessions(&revoked, caller.now);
    match (revoked.is_empty(), keep_mine) {
        (true, true) => return nothing_or_revoked(db, who, Ok(Revoked { revoked: 0 })).await,
        // Everywhere includes the caller's own session: only a caller no longer live finds none.
        (true, false) => return Err(Error::SessionRevoked),
        (false, _) => {}
    }
    record_revocations(db, who, &revoked, client).await?;
    Ok(Revoked { revoked: revoked.len() })
}

/// Changes the password after checking the current one (or sets the first one of an account
/// made by a social login); every other session is revoked and this one stays, vouched for
/// by the new password.
pub async fn change_password(
    db: &Pool,
    revoked_set: &RevokedSet,
    passwords: &Passwords,
    limits: &Limits,
    who: &AccessClaims,
    change: PasswordChange,
    client: &Client,
) -> Result<Revoked> {
    // Before anything else: each attempt checks a guess at the current password.
    limits.password_change(&who.sub, client.rate_key).await?;
    password::validate_new(&change.new_password, &who.email, "new_password")?;
    let user = db::users::find_for_caller(db, caller(who)).await?.ok_or(Error::SessionRevoked)?;
    // An account made by a social login has no password to check: it sets its first one.
    let has_password = db::users::is_usable_password(&user.password_hash);
    if has_password
        && !passwords.verify(change.current_password, Some(user.password_hash), Lane::Account).await?
    {
        return Err(Error::WrongCurrentPassword);
    }
    let hash = passwords.hash(change.new_password, Lane::Account).await?;
    let now = unix_now();
    let mut tx = db::begin_write(db).await?;
    db::users::set_password(&mut *tx, &who.sub, &hash, now).await?;
    db::sessions::reconfirm_password(&mut *tx, &who.sid, now).await?;
    let revoked =
        db::sessions::revoke_all_of_user(&mut *tx, &who.sub, Some(&who.sid), "password changed", now).await?;
    db::events::record(&mut *tx, client.event(&who.sub, Some(&who.sid), EventKind::PasswordChanged)).await?;
    tx.commit().await?;
    revoked_set.apply(Revocation::User { id: &who.sub, not_before: now }, now);
    revoked_set.sessions(&revoked, now);
    record_revocations(db, who, &revoked, client).await?;
    Ok(Revoked { revoked: revoked.len() })
}

pub async fn events(db: &Pool, who: &AccessClaims) -> Result<Vec<SecurityEvent>> {
    let rows = db::events::recent_of_caller(db, caller(who), EVENTS_SHOWN).await?;
    if rows.is_empty() {
        return nothing_or_revoked(db, who, Ok(Vec::new())).await;
    }
    Ok(rows.into_iter().filter_map(security_event).collect())
}

/// The caller's session as the server sees it: the rotation chain and the decisions taken.
pub async fn chain(db: &Pool, who: &AccessClaims) -> Result<SessionChain> {
    let rows = db::sessions::chain_of_caller(db, caller(who)).await?;
    if rows.is_empty() {
        return Err(Error::SessionRevoked); // a live session always has its current token
    }
    let tokens = rows
        .into_iter()
        .map(|row| ChainLink {
            jti_prefix: short(&row.jti).to_owned(),
            parent_prefix: row.parent_jti.as_deref().map(|parent| short(parent).to_owned()),
            issued_at: row.issued_at,
            expires_at: row.expires_at,
            rotated_at: row.rotated_at,
        })
        .collect();
    let events = db::events::recent_of_session(db, &who.sub, &who.sid, EVENTS_SHOWN).await?;
    let decisions = events.into_iter().filter_map(security_event).collect();
    Ok(SessionChain { session_id: who.sid.clone(), tokens, decisions })
}

/// An event row as its owner sees it. Every kind this server writes is known; a row of a kind
/// it does not know (written by a newer version sharing the database) is left out, and logged.
fn security_event(row: db::events::EventRow) -> Option<SecurityEvent> {
    let Some(kind) = EventKind::from_name(&row.kind) else {
        tracing::warn!(kind = %row.kind, id = row.id, "security event of an unknown kind left out");
        return None;
    };
    Some(SecurityEvent {
        id: row.id,
        kind,
        session_id: row.session_id,
        detail: row.detail,
        ip: row.ip,
        user_agent: row.user_agent,
        at: row.created_at,
    })
}

async fn record_revocations(
    db: &Pool,
    who: &AccessClaims,
    revoked: &[String],
    client: &Client,
) -> Result<()> {
    let detail = format!("revoked from session {}", short(&who.sid));
    for session_id in revoked {
        let event = NewEvent {
            detail: Some(&detail),
            ..client.event(&who.sub, Some(session_id), EventKind::SessionRevoked)
        };
        db::events::record(db, event).await?;
    }
    Ok(())
}
