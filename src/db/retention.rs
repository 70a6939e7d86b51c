//! What is deleted, and when: the periodic job the start-up module runs (`server.rs`'s upkeep).
//! Every statement is idempotent, so several instances may run it at once.
//!
//! | rows                                   | deleted when                                   |
//! |----------------------------------------|------------------------------------------------|
//! | a session and its refresh tokens       | expired or revoked `SESSION_RETENTION` ago (30 days) |
//! | a security event                       | older than `EVENT_RETENTION` (90 days), or beyond its user's newest 500 |
//! | a rate-limit counter                   | fully replenished (`auth/limits.rs`)            |
//! | a revocation                           | no token it matches can be live (one access lifetime) |
//! | a social login under way (`oidc_flows`) | expired (10 minutes after it began)            |
//! | a mailed link (`one_time_tokens`)      | expired (used or not: a used one stays till then, so its reuse says "expired") |
//!
//! Two bounds hold between runs, at every rotation (`db/sessions.rs`, `db/events.rs`): a
//! session keeps its newest 20 refresh tokens (never the current one or its parent) and its
//! newest 20 routine refresh events.

use std::time::Duration;

use super::{events, oidc_flows, one_time_tokens, revocations, sessions, Pool};

/// The most events kept per user.
pub const EVENTS_PER_USER: i64 = 500;

/// The most rows one statement deletes, so that even a first run on a large backlog stays well
/// inside the statement time limit; a run repeats its statements until a batch comes back short.
const BATCH: i64 = 1000;

/// How long ended sessions and old events are kept.
#[derive(Clone, Copy, Debug)]
pub struct Retention {
    pub sessions: Duration,
    pub events: Duration,
    /// How long a revocation may still match a live token (`auth/revoked.rs`).
    pub revocations: Duration,
}

/// What one run deleted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Deleted {
    pub sessions: u64,
    pub events: u64,
    pub revocations: u64,
    pub oidc_flows: u64,
    pub one_time_tokens: u64,
}

/// Deletes what `retention` no longer keeps, as of `now` (Unix seconds).
pub async fn run(pool: &Pool, retention: Retention, now: i64) -> Result<Deleted, sqlx::Error> {
    let before = |kept: Duration| now - kept.as_secs() as i64;
    let mut deleted = Deleted::default();
    loop {
        let sessions = sessions::delete_ended(pool, before(retention.sessions), BATCH).await?;
        let events = events::delete_old(pool, before(retention.events), EVENTS_PER_USER, BATCH).await?;
        let revocations = revocations::delete_before(pool, before(retention.revocations), BATCH).await?;
        deleted.sessions += sessions;
        deleted.events += events;
        let flows = oidc_flows::delete_expired(pool, now, BATCH).await?;
        let links = one_time_tokens::delete_expired(pool, now, BATCH).await?;
        deleted.revocations += revocations;
        deleted.oidc_flows += flows;
        deleted.one_time_tokens += links;
        if [sessions, events, revocations, flows, links].iter().all(|&deleted| deleted < BATCH as u64) {
            return Ok(deleted);
        }
    }
}
