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
//!
//! A session bound to a DPoP key (`dpop.rs`) rotates or repeats only for a request that proved
//! it holds that key: anything else is refused and recorded (`dpop_key_mismatch`), and the
//! session goes on for the browser that has the key. An old token is reuse whoever presents it.
//! A session not yet bound (a social login's, begun by a navigation that can carry no proof)
//! is bound by its first refresh with a proof.

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
    /// The DPoP key the renewed pair is bound to, if any.
    pub jkt: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownSession,
    Revoked,
    Expired,
    UserDisabled,
    /// The password changed after this session was last vouched for.
    PasswordChanged,
    /// The session is bound to a DPoP key the request did not prove it holds.
    WrongKey,
}

impl Refusal {
    pub fn name(self) -> &'static str {
        match self {
            Self::UnknownSession => "unknown_session",
            Self::Revoked => "session_revoked",
            Self::Expired => "session_expired",
            Self::UserDisabled => "user_disabled",
            Self::PasswordChanged => "password_changed",
            Self::WrongKey => "dpop_key_mismatch",
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

/// What the decision is made on besides the session: the presented token and its row, the
/// current one's, and the DPoP key the request proved it holds.
struct Presented<'a> {
    claims: &'a RefreshClaims,
    row: Option<&'a TokenRow>,
    current_row: Option<&'a TokenRow>,
    key: Option<&'a str>,
}

fn decide(session: &SessionForRefresh, presented: &Presented, now: i64, grace: Duration) -> Decision {
    let decision = decide_by_token(session, presented, now, grace);
    let holds_key = session.jkt.is_none() || session.jkt.as_deref() == presented.key;
    match decision {
        Decision::Rotate | Decision::RepeatCurrent if !holds_key => Decision::Refuse(Refusal::WrongKey),
        decision => decision,
    }
}

fn decide_by_token(
    session: &SessionForRefresh,
    presented: &Presented,
    now: i64,
    grace: Duration,
) -> Decision {
    let Presented { claims: presented, row: presented_row, current_row, .. } = *presented;
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
    let facts = Presented {
        claims: presented,
        row: presented_row.as_ref(),
        current_row: current_row.as_ref(),
        key: client.dpop_key.as_deref(),
    };
    let decision = decide(&session, &facts, now, tokens.reuse_grace);
    let step = Step { tokens, session: &session, presented, now, client };
    let outcome = match decision {
        Decision::Refuse(Refusal::WrongKey) => step.refuse_without_key(&mut tx).await?,
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

    /// The key the session is bound to after this refresh: its own, or the request's if it
    /// had none.
    fn key(&self) -> Option<&str> {
        self.session.jkt.as_deref().or(self.client.dpop_key.as_deref())
    }

    fn renewal(&self, refresh: Signed) -> Renewal {
        let session = &self.session;
        let email_verified = session.email_verified_at.is_some();
        Renewal {
            user: User { id: session.user_id.clone(), email: session.email.clone(), email_verified },
            refresh,
            jkt: self.key().map(str::to_owned),
        }
    }

    /// The session's current token without the session's key: a copied cookie. Refused and
    /// recorded; the session goes on for the browser holding the key.
    async fn refuse_without_key(&self, tx: &mut WriteTransaction) -> Result<Outcome> {
        let detail = match self.client.dpop_key {
            Some(_) => "a refresh of a key-bound session with a proof by another key",
            None => "a refresh of a key-bound session with no proof of its key",
        };
        let event = NewEvent { detail: Some(detail), ..self.event(EventKind::DpopKeyMismatch) };
        db::events::record(&mut **tx, event).await?;
        tracing::warn!("refresh refused: the session's DPoP key was not proved");
        Ok(Outcome::Refused(Refusal::WrongKey))
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
        let claims = RefreshClaims::new(user, sid, &current.jti, current.issued_at, current.expires_at)
            .bound_to(self.key());
        let refresh = self.tokens.sign_refresh(&claims).map_err(Error::internal)?;
        db::events::record(&mut **tx, self.event(EventKind::RefreshRepeated)).await?;
        tracing::info!("refresh repeated inside the grace window");
        Ok(Outcome::Repeated(self.renewal(refresh)))
    }

    /// The current token: issue its successor and make that the current one.
    async fn rotate(&self, tx: &mut WriteTransaction) -> Result<Outcome> {
        let expires_at = self.tokens.session_expiry(self.now, self.session.max_expires_at);
        let (user, sid) = (&self.session.user_id, &self.presented.sid);
        let claims = RefreshClaims::new(user, sid, &new_id(), self.now, expires_at).bound_to(self.key());
        let refresh = self.tokens.sign_refresh(&claims).map_err(Error::internal)?;
        let rotation = Rotation {
            session_id: &self.presented.sid,
            presented_jti: &self.presented.jti,
            new_jti: &refresh.jti,
            now: self.now,
            expires_at,
            jkt: self.key(),
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
            jkt: None,
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
        decide_with_key(jti, rotated_ago, session, None)
    }

    fn decide_with_key(
        jti: &str,
        rotated_ago: i64,
        session: &SessionForRefresh,
        key: Option<&str>,
    ) -> Decision {
        let parent = row("parent", Some("grandparent"), Some(NOW - rotated_ago));
        let child = row("child", Some("parent"), None);
        let presented_row = match jti {
            "parent" => Some(parent),
            "child" => Some(child.clone()),
            _ => Some(row(jti, None, Some(NOW - 1000))),
        };
        let claims = presented(jti);
        let facts =
            Presented { claims: &claims, row: presented_row.as_ref(), current_row: Some(&child), key };
        decide(session, &facts, NOW, GRACE)
    }

    #[test]
    fn a_bound_session_rotates_or_repeats_only_for_its_key_and_reuse_is_reuse_for_anyone() {
        let bound = SessionForRefresh { jkt: Some("key".into()), ..session() };
        assert_eq!(decide_with_key("child", 0, &bound, Some("key")), Decision::Rotate);
        assert_eq!(decide_with_key("child", 0, &bound, None), Decision::Refuse(Refusal::WrongKey));
        assert_eq!(decide_with_key("child", 0, &bound, Some("other")), Decision::Refuse(Refusal::WrongKey));
        assert_eq!(decide_with_key("parent", 9, &bound, None), Decision::Refuse(Refusal::WrongKey));
        assert_eq!(decide_with_key("parent", 10, &bound, None), Decision::Reuse);
        assert_eq!(
            decide_with_key("child", 0, &session(), Some("any")),
            Decision::Rotate,
            "binds on the way"
        );
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
