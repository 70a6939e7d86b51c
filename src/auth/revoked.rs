//! Revocation that bites at once while verification stays headless: every instance keeps in
//! memory what was revoked within the last access-token lifetime, and the access-token check
//! (`tokens.rs`, cache hit or not) looks a token up in it in O(1), with no database query.
//!
//! - **What is kept**: the sessions revoked (logout, "log out everywhere", a detected replay, a
//!   new login in the same browser), and per user a "not before" (a disabled user, a changed
//!   password: tokens issued before it are refused). The database records each one as a row of
//!   `revocations`, written by triggers whoever revokes (`db/revocations.rs`).
//! - **How it arrives**: the revoking instance applies it before it answers; the others hear
//!   of it through PostgreSQL `LISTEN/NOTIFY`, and every instance reads the whole window at
//!   start-up and every 15 s, so a lost notification, a cut listener or a restarted instance
//!   heals by itself (`revocation_feed.rs`). On SQLite there is one server: it is in-process.
//! - **How long**: an entry matches only tokens issued before it, which expire within one
//!   access lifetime (plus the leeway) of it; then it leaves. So the set holds the revocations
//!   of one access lifetime, however long the app runs.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use super::claims::AccessClaims;
use crate::db::revocations::RevocationRow;

/// Why a token that passed every other check is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("its session was revoked")]
    Session,
    #[error("its user was disabled or changed password after it was issued")]
    User,
}

/// One revocation, as the set keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revocation<'a> {
    /// Every token of this session, revoked at `at`.
    Session { id: &'a str, at: i64 },
    /// Every token of this user issued before `not_before`.
    User { id: &'a str, not_before: i64 },
    /// A signing key: its tokens fail once the key ring is reloaded (`keys.rs`).
    Key { kid: &'a str, at: i64 },
}

impl<'a> Revocation<'a> {
    pub fn of_row(row: &'a RevocationRow) -> Option<Self> {
        let (id, at) = (row.subject.as_str(), row.at);
        match row.kind.as_str() {
            "session" => Some(Self::Session { id, at }),
            "user" => Some(Self::User { id, not_before: at }),
            "key" => Some(Self::Key { kid: id, at }),
            _ => None,
        }
    }

    fn at(self) -> i64 {
        match self {
            Self::Session { at, .. } | Self::Key { at, .. } => at,
            Self::User { not_before, .. } => not_before,
        }
    }
}

/// The set. Reads (every authenticated request) share a read lock; writes are revocations.
pub struct RevokedSet {
    entries: RwLock<Entries>,
    /// How long after its time an entry may still match a live token, in seconds.
    window: i64,
}

#[derive(Default)]
struct Entries {
    /// Session id -> when it was revoked.
    sessions: HashMap<Box<str>, i64>,
    /// User id -> tokens issued before this second are refused.
    users: HashMap<Box<str>, i64>,
}

impl RevokedSet {
    /// A set for access tokens that live `access_ttl`, checked with `leeway_secs` of clock skew.
    pub fn new(access_ttl: Duration, leeway_secs: i64) -> Self {
        Self { entries: RwLock::default(), window: access_ttl.as_secs() as i64 + leeway_secs }
    }

    /// Refuses a token whose session or user was revoked after it was issued.
    pub fn check(&self, claims: &AccessClaims) -> Result<(), Refused> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        if entries.sessions.contains_key(claims.sid.as_str()) {
            return Err(Refused::Session);
        }
        match entries.users.get(claims.sub.as_str()) {
            Some(&not_before) if claims.iat < not_before => Err(Refused::User),
            _ => Ok(()),
        }
    }

    /// Takes a revocation in, unless every token it could match has expired by `now`. A signing
    /// key is left to the key ring (`revocation_feed.rs` reloads it while it still holds the key).
    pub fn apply(&self, revocation: Revocation<'_>, now: i64) {
        if revocation.at() + self.window < now {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        match revocation {
            Revocation::Session { id, at } => {
                let kept = entries.sessions.entry(id.into()).or_insert(at);
                *kept = (*kept).max(at);
            }
            Revocation::User { id, not_before } => {
                let kept = entries.users.entry(id.into()).or_insert(not_before);
                *kept = (*kept).max(not_before);
            }
            Revocation::Key { .. } => {}
        }
    }

    /// The sessions of `ids`, revoked at `at`.
    pub fn sessions(&self, ids: &[String], at: i64) {
        for id in ids {
            self.apply(Revocation::Session { id, at }, at);
        }
    }

    /// Lets go of the entries no live token can match any more.
    pub fn prune(&self, now: i64) {
        let live = |at: &mut i64| *at + self.window >= now;
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        entries.sessions.retain(|_, at| live(at));
        entries.users.retain(|_, at| live(at));
    }

    /// Whether no token is refused: nothing was revoked within the window.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many entries the set holds (shown by the inspector).
    pub fn len(&self) -> usize {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.sessions.len() + entries.users.len()
    }

    /// How long after its time a revocation may still match a live token.
    pub fn window(&self) -> Duration {
        Duration::from_secs(self.window as u64)
    }

    /// The earliest time whose revocations may still matter at `now`.
    pub fn oldest_relevant(&self, now: i64) -> i64 {
        now - self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sub: &str, sid: &str, iat: i64) -> AccessClaims {
        AccessClaims {
            sub: sub.into(),
            sid: sid.into(),
            email: "a@example.com".into(),
            email_verified: false,
            iat,
            nbf: iat,
            exp: iat + 900,
            iss: "tokenpair".into(),
            aud: "tokenpair".into(),
            jti: "jti".into(),
            cnf: None,
        }
    }

    fn set() -> RevokedSet {
        RevokedSet::new(Duration::from_secs(900), 5)
    }

    #[test]
    fn a_revoked_session_refuses_its_tokens_and_no_other() {
        let revoked = set();
        revoked.apply(Revocation::Session { id: "s1", at: 1000 }, 1000);
        assert_eq!(revoked.check(&claims("u", "s1", 990)), Err(Refused::Session));
        assert_eq!(revoked.check(&claims("u", "s2", 990)), Ok(()));
    }

    #[test]
    fn a_user_not_before_refuses_older_tokens_only() {
        let revoked = set();
        revoked.apply(Revocation::User { id: "u", not_before: 1000 }, 1000);
        assert_eq!(revoked.check(&claims("u", "s", 999)), Err(Refused::User));
        assert_eq!(revoked.check(&claims("u", "s", 1000)), Ok(()), "issued after the change");
        assert_eq!(revoked.check(&claims("v", "s", 999)), Ok(()));
        revoked.apply(Revocation::User { id: "u", not_before: 900 }, 1000);
        assert_eq!(revoked.check(&claims("u", "s", 999)), Err(Refused::User), "the later one holds");
    }

    #[test]
    fn entries_leave_when_every_token_they_match_has_expired() {
        let revoked = set();
        revoked.apply(Revocation::Session { id: "s1", at: 1000 }, 1000);
        revoked.apply(Revocation::User { id: "u", not_before: 1100 }, 1100);
        revoked.prune(1000 + 905);
        assert_eq!(revoked.len(), 2, "a token issued at 1000 lives until 1900 plus leeway");
        revoked.prune(1000 + 906);
        assert_eq!(revoked.len(), 1);
        revoked.apply(Revocation::Session { id: "s2", at: 1000 }, 1906);
        assert_eq!(revoked.len(), 1, "a stale revocation is not taken in");
    }

    #[test]
    fn a_key_is_left_to_the_key_ring() {
        let revoked = set();
        revoked.apply(Revocation::Key { kid: "k", at: 1000 }, 1000);
        assert_eq!(revoked.len(), 0);
    }
}
