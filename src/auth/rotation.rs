//! Refresh-token rotation with reuse detection: the one place that decides what a presented
//! refresh token gets. The README has this as a table.
//!
//! | the presented token is…                                       | answer                                   |
//! |---------------------------------------------------------------|------------------------------------------|
//! | the session's current one                                     | rotate: a new pair; it becomes the parent |
//! | the current one's parent, rotated less than the grace ago     | the SAME current child again, no rotation |
//! | any older one, or the parent after the grace window           | reuse: revoke the session, 401            |
//!
//! Before any of that, the thorough check: the session exists, is not revoked or expired, and
//! its user is enabled and has not changed password since the session was vouched for.

use std::time::Duration;

use super::flow::Client;
use super::tokens::{RefreshClaims, Signed, Tokens};
use crate::db::sessions::{Rotation, SessionForRefresh, TokenRow};
use crate::db::{self, events::NewEvent, Pool};
use crate::error::{Error, Result};

/// What a refresh request leads to.
pub enum Outcome {
    /// The presented token was current: here is its successor, now the current one.
    Rotated(Renewal),
    /// A benign race (two tabs, a lost response): the successor already issued, again.
    Repeated(Renewal),
    /// An old token came back: someone holds a copy. The whole session is now revoked.
    ReuseDetected,
    /// No new tokens; the reason is logged, the client only learns "log in again".
    Refused(Refusal),
}

pub struct Renewal {
    pub user_id: String,
    pub email: String,
    pub refresh: Signed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownSession,
    Revoked,
    Expired,
    UserDisabled,
    /// The password changed after this session was last vouched for.
    PasswordChanged,
}

/// The decision, before anything is written.
#[derive(Debug, PartialEq)]
enum Decision {
    Rotate,
    RepeatCurrent,
    Reuse,
    Refuse(Refusal),
}

fn decide(
    session: &SessionForRefresh,
    presented: &RefreshClaims,
    presented_row: Option<&TokenRow>,
    current_row: Option<&TokenRow>,
    now: i64,
    grace: Duration,
) -> Decision {
    if session.user_id != presented.sub {
        return Decision::Refuse(Refusal::UnknownSession);
    }
    if session.revoked_at.is_some() {
        return Decision::Refuse(Refusal::Revoked);
    }
    if session.expires_at <= now || session.max_expires_at.is_some_and(|cap| cap <= now) {
        return Decision::Refuse(Refusal::Expired);
    }
    if session.user_disabled_at.is_some() {
        return Decision::Refuse(Refusal::UserDisabled);
    }
    if session.user_password_changed_at != session.session_password_changed_at {
        return Decision::Refuse(Refusal::PasswordChanged);
    }
    if presented.jti == session.current_jti {
        return Decision::Rotate;
    }
    let is_parent_of_current =
        current_row.and_then(|c| c.parent_jti.as_deref()) == Some(presented.jti.as_str());
    let rotated_recently =
        presented_row.and_then(|p| p.rotated_at).is_some_and(|at| now - at < grace.as_secs() as i64);
    if is_parent_of_current && rotated_recently {
        Decision::RepeatCurrent
    } else {
        Decision::Reuse
    }
}

/// Checks `presented` against its session and acts on the decision, in one transaction.
pub async fn rotate(
    pool: &Pool,
    tokens: &Tokens,
    presented: &RefreshClaims,
    grace: Duration,
    now: i64,
    client: &Client,
) -> Result<Outcome> {
    // From here to `commit` we hold SQLite's write lock; returning early drops `tx`, which
    // rolls back and releases it.
    let mut tx = db::begin_write(pool).await?;
    let sid = presented.sid.as_str();
    let Some(session) = db::sessions::find_for_refresh(&mut tx, sid).await? else {
        return Ok(Outcome::Refused(Refusal::UnknownSession));
    };
    let presented_row = db::sessions::find_token(&mut tx, sid, &presented.jti).await?;
    let current_row = db::sessions::find_token(&mut tx, sid, &session.current_jti).await?;
    let decision = decide(&session, presented, presented_row.as_ref(), current_row.as_ref(), now, grace);
    let event = |kind, detail| NewEvent { detail, ..client.event(&session.user_id, Some(sid), kind) };
    let outcome = match decision {
        Decision::Refuse(refusal) => return Ok(Outcome::Refused(refusal)),
        Decision::Reuse => {
            let detail = format!("refresh token {} presented again after rotation", short(&presented.jti));
            db::sessions::revoke(&mut *tx, sid, "refresh token reuse detected", now).await?;
            db::events::record(&mut *tx, event("reuse_detected", Some(&detail))).await?;
            Outcome::ReuseDetected
        }
        Decision::RepeatCurrent => {
            let current = current_row.ok_or_else(|| Error::internal("current refresh token row missing"))?;
            let claims = RefreshClaims::new(
                &session.user_id,
                sid,
                &current.jti,
                current.issued_at,
                current.expires_at,
            );
            let refresh = tokens.sign_refresh(&claims).map_err(Error::internal)?;
            db::events::record(&mut *tx, event("refresh_repeated", None)).await?;
            Outcome::Repeated(Renewal {
                user_id: session.user_id.clone(),
                email: session.email.clone(),
                refresh,
            })
        }
        Decision::Rotate => {
            let slid = now + tokens.refresh_ttl.as_secs() as i64;
            let expires_at = session.max_expires_at.map_or(slid, |cap| slid.min(cap));
            let claims = RefreshClaims::new(&session.user_id, sid, &super::new_id(), now, expires_at);
            let refresh = tokens.sign_refresh(&claims).map_err(Error::internal)?;
            let rotation = Rotation {
                session_id: sid,
                presented_jti: &presented.jti,
                new_jti: &refresh.jti,
                now,
                expires_at,
            };
            // Under the write lock this cannot fail; on an engine with weaker isolation this
            // conditional update is what keeps a rotation from happening twice.
            if !db::sessions::rotate(&mut tx, rotation).await? {
                return Ok(Outcome::Refused(Refusal::Revoked));
            }
            db::events::record(&mut *tx, event("refresh", None)).await?;
            Outcome::Rotated(Renewal {
                user_id: session.user_id.clone(),
                email: session.email.clone(),
                refresh,
            })
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// The first 8 characters of an id: enough to tell tokens apart in a log or event.
pub fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;
    const GRACE: Duration = Duration::from_secs(10);

    fn session() -> SessionForRefresh {
        SessionForRefresh {
            user_id: "u".into(),
            email: "u@example.com".into(),
            current_jti: "child".into(),
            expires_at: NOW + 100,
            max_expires_at: None,
            revoked_at: None,
            user_disabled_at: None,
            session_password_changed_at: 5,
            user_password_changed_at: 5,
        }
    }

    fn row(jti: &str, parent: Option<&str>, rotated_at: Option<i64>) -> TokenRow {
        TokenRow {
            jti: jti.into(),
            parent_jti: parent.map(Into::into),
            issued_at: 0,
            expires_at: NOW + 100,
            rotated_at,
        }
    }

    fn presented(jti: &str) -> RefreshClaims {
        RefreshClaims::new("u", "s", jti, 0, NOW + 100)
    }

    fn decide_for(jti: &str, rotated_ago: i64, session: &SessionForRefresh) -> Decision {
        let parent = row("parent", Some("grandparent"), Some(NOW - rotated_ago));
        let child = row("child", Some("parent"), None);
        let presented_row = match jti {
            "parent" => Some(parent),
            "child" => Some(child.clone()),
            _ => Some(row(jti, None, Some(NOW - 1000))),
        };
        decide(session, &presented(jti), presented_row.as_ref(), Some(&child), NOW, GRACE)
    }

    #[test]
    fn the_current_token_rotates() {
        assert_eq!(decide_for("child", 0, &session()), Decision::Rotate);
    }

    #[test]
    fn the_parent_inside_the_grace_window_gets_the_current_child_again() {
        assert_eq!(decide_for("parent", 9, &session()), Decision::RepeatCurrent);
    }

    #[test]
    fn the_parent_after_the_grace_window_is_reuse() {
        assert_eq!(decide_for("parent", 10, &session()), Decision::Reuse);
    }

    #[test]
    fn an_older_token_is_reuse_even_inside_the_window() {
        assert_eq!(decide_for("grandparent", 0, &session()), Decision::Reuse);
    }

    #[test]
    fn the_thorough_checks_come_before_anything_else() {
        let mut revoked = session();
        revoked.revoked_at = Some(NOW - 1);
        assert_eq!(decide_for("child", 0, &revoked), Decision::Refuse(Refusal::Revoked));
        let mut expired = session();
        expired.expires_at = NOW;
        assert_eq!(decide_for("child", 0, &expired), Decision::Refuse(Refusal::Expired));
        let mut capped = session();
        capped.max_expires_at = Some(NOW - 1);
        assert_eq!(decide_for("child", 0, &capped), Decision::Refuse(Refusal::Expired));
        let mut disabled = session();
        disabled.user_disabled_at = Some(1);
        assert_eq!(decide_for("child", 0, &disabled), Decision::Refuse(Refusal::UserDisabled));
        let mut new_password = session();
        new_password.user_password_changed_at = 6;
        assert_eq!(decide_for("child", 0, &new_password), Decision::Refuse(Refusal::PasswordChanged));
    }
}
