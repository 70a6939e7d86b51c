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

use super::revoked::Revocation;
use super::tokens::{RefreshClaims, Signed, Tokens};
use super::{new_id, short, Client};
use crate::api::{EventKind, User};
use crate::db::sessions::{Rotation, SessionForRefresh, TokenRow};
use crate::db::{self, events::NewEvent, Pool, WriteTransaction};
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
    pub user: User,
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

impl Refusal {
    pub fn name(self) -> &'static str {
        match self {
            Self::UnknownSession => "unknown_session",
            Self::Revoked => "session_revoked",
            Self::Expired => "session_expired",
            Self::UserDisabled => "user_disabled",
            Self::PasswordChanged => "password_changed",
        }
    }
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
#[tracing::instrument(name = "rotate", skip_all, fields(session_id = %presented.sid, jti = short(&presented.jti)))]
pub async fn rotate(
    pool: &Pool,
    tokens: &Tokens,
    presented: &RefreshClaims,
    now: i64,
    client: &Client,
) -> Result<Outcome> {
    // From here to `commit` we hold SQLite's write lock; returning early drops `tx`, which
    // rolls back and releases it.
    let mut tx = db::begin_write(pool).await?;
    let sid = presented.sid.as_str();
    let Some(session) = db::sessions::find_for_refresh(&mut tx, sid).await? else {
        tracing::info!("refresh refused: no such session");
        return Ok(Outcome::Refused(Refusal::UnknownSession));
    };
    let presented_row = db::sessions::find_token(&mut tx, sid, &presented.jti).await?;
    let current_row = db::sessions::find_token(&mut tx, sid, &session.current_jti).await?;
    let decision =
        decide(&session, presented, presented_row.as_ref(), current_row.as_ref(), now, tokens.reuse_grace);
    let step = Step { tokens, session: &session, presented, now, client };
    let outcome = match decision {
        Decision::Refuse(refusal) => {
            tracing::info!(?refusal, "refresh refused");
            return Ok(Outcome::Refused(refusal));
        }
        Decision::Reuse => step.revoke_for_reuse(&mut tx).await?,
        Decision::RepeatCurrent => step.repeat_current(&mut tx, current_row).await?,
        Decision::Rotate => step.rotate(&mut tx).await?,
    };
    tx.commit().await?;
    if matches!(outcome, Outcome::ReuseDetected) {
        tokens.revoked.apply(Revocation::Session { id: sid, at: now }, now);
    }
    Ok(outcome)
}

/// What acting on a decision needs besides the open transaction: the facts it was made on.
struct Step<'a> {
    tokens: &'a Tokens,
    session: &'a SessionForRefresh,
    presented: &'a RefreshClaims,
    now: i64,
    client: &'a Client,
}

impl Step<'_> {
    fn event(&self, kind: EventKind) -> NewEvent<'_> {
        self.client.event(&self.session.user_id, Some(&self.presented.sid), kind)
    }

    fn renewal(&self, refresh: Signed) -> Renewal {
        let session = &self.session;
        let email_verified = session.email_verified_at.is_some();
        Renewal {
            user: User { id: session.user_id.clone(), email: session.email.clone(), email_verified },
            refresh,
        }
    }

    /// An old token came back: someone holds a copy. Revoke the whole session.
    async fn revoke_for_reuse(&self, tx: &mut WriteTransaction) -> Result<Outcome> {
        let detail = format!("refresh token {} presented again after rotation", short(&self.presented.jti));
        db::sessions::revoke(&mut **tx, &self.presented.sid, "refresh token reuse detected", self.now)
            .await?;
        let event = NewEvent { detail: Some(&detail), ..self.event(EventKind::ReuseDetected) };
        db::events::record(&mut **tx, event).await?;
        tracing::warn!("refresh token reuse: session revoked");
        Ok(Outcome::ReuseDetected)
    }

    /// The parent again, inside the grace window: the current child again, byte for byte.
    async fn repeat_current(
        &self,
        tx: &mut WriteTransaction,
        current_row: Option<TokenRow>,
    ) -> Result<Outcome> {
        let current = current_row.ok_or_else(|| Error::internal("current refresh token row missing"))?;
        let (user, sid) = (&self.session.user_id, &self.presented.sid);
        let claims = RefreshClaims::new(user, sid, &current.jti, current.issued_at, current.expires_at);
        let refresh = self.tokens.sign_refresh(&claims).map_err(Error::internal)?;
        db::events::record(&mut **tx, self.event(EventKind::RefreshRepeated)).await?;
        tracing::info!("refresh repeated inside the grace window");
        Ok(Outcome::Repeated(self.renewal(refresh)))
    }

    /// The current token: issue its successor and make that the current one.
    async fn rotate(&self, tx: &mut WriteTransaction) -> Result<Outcome> {
        let expires_at = self.tokens.session_expiry(self.now, self.session.max_expires_at);
        let claims =
            RefreshClaims::new(&self.session.user_id, &self.presented.sid, &new_id(), self.now, expires_at);
        let refresh = self.tokens.sign_refresh(&claims).map_err(Error::internal)?;
        let rotation = Rotation {
            session_id: &self.presented.sid,
            presented_jti: &self.presented.jti,
            new_jti: &refresh.jti,
            now: self.now,
            expires_at,
        };
        // Under the write lock this cannot fail; on an engine with weaker isolation this
        // conditional update is what keeps a rotation from happening twice.
        if !db::sessions::rotate(tx, rotation).await? {
            return Ok(Outcome::Refused(Refusal::Revoked));
        }
        db::events::record(&mut **tx, self.event(EventKind::Refresh)).await?;
        db::events::prune_routine(&mut **tx, &self.presented.sid).await?;
        tracing::info!(new_jti = short(&refresh.jti), "refresh token rotated");
        Ok(Outcome::Rotated(self.renewal(refresh)))
    }
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
            email_verified_at: None,
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
