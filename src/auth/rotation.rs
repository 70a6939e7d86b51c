//! Refresh-token rotation: the thorough check the design article puts at every refresh, and
//! the swap of the session's current refresh token, in one database transaction.

use super::tokens::{RefreshClaims, Signed, Tokens};
use crate::db::{self, sessions::Rotation, Pool};
use crate::error::{Error, Result};

/// What a refresh request leads to.
pub enum Outcome {
    /// The presented token was current: here is its successor, now the current one.
    Rotated { user_id: String, email: String, refresh: Signed },
    /// No new tokens; the reason is logged, the client only learns "log in again".
    Refused(Refusal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownSession,
    Revoked,
    Expired,
    /// A refresh token that was already rotated away (or belongs to another session).
    NotCurrent,
    UserDisabled,
    /// The password changed after this session began.
    PasswordChanged,
}

/// Checks `presented` against its session and, if everything holds, makes a new refresh token
/// current. The session's lifetime slides forward by the refresh lifetime.
pub async fn rotate(pool: &Pool, tokens: &Tokens, presented: &RefreshClaims, now: i64) -> Result<Outcome> {
    // From here to `commit` we hold SQLite's write lock; returning early drops `tx`, which
    // rolls back and releases it.
    let mut tx = db::sessions::begin_rotation(pool).await?;
    let Some(session) = db::sessions::find_for_refresh(&mut tx, &presented.sid).await? else {
        return Ok(Outcome::Refused(Refusal::UnknownSession));
    };
    let refusal = if session.user_id != presented.sub {
        Some(Refusal::NotCurrent)
    } else if session.revoked_at.is_some() {
        Some(Refusal::Revoked)
    } else if session.expires_at <= now {
        Some(Refusal::Expired)
    } else if session.user_disabled_at.is_some() {
        Some(Refusal::UserDisabled)
    } else if session.password_changed_at > session.created_at {
        Some(Refusal::PasswordChanged)
    } else if session.current_jti != presented.jti {
        Some(Refusal::NotCurrent)
    } else {
        None
    };
    if let Some(refusal) = refusal {
        return Ok(Outcome::Refused(refusal));
    }

    let expires_at = now + tokens.refresh_ttl.as_secs() as i64;
    let refresh =
        tokens.sign_refresh(&session.user_id, &presented.sid, now, expires_at).map_err(Error::internal)?;
    let rotation = Rotation {
        session_id: &presented.sid,
        presented_jti: &presented.jti,
        new_jti: &refresh.jti,
        now,
        expires_at,
    };
    // The write lock makes this guard redundant on SQLite; it keeps the swap correct on an
    // engine whose isolation is weaker.
    if !db::sessions::rotate(&mut tx, rotation).await? {
        return Ok(Outcome::Refused(Refusal::NotCurrent));
    }
    tx.commit().await?;
    Ok(Outcome::Rotated { user_id: session.user_id, email: session.email, refresh })
}
