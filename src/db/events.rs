//! Every query on `security_events`: the account history shown to its owner.

use sqlx::any::AnyExecutor;

use super::{query, query_as, Caller, Pool};
use crate::api::EventKind;

pub struct NewEvent<'a> {
    /// `None` for a failed login naming no account: recorded, shown to nobody.
    pub user_id: Option<&'a str>,
    pub session_id: Option<&'a str>,
    pub kind: EventKind,
    pub detail: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub now: i64,
}

pub async fn record(db: impl AnyExecutor<'_>, event: NewEvent<'_>) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO security_events (user_id, session_id, kind, detail, ip, user_agent, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(event.user_id)
    .bind(event.session_id)
    .bind(event.kind.name())
    .bind(event.detail)
    .bind(event.ip)
    .bind(event.user_agent)
    .bind(event.now)
    .execute(db)
    .await?;
    Ok(())
}

/// The routine kinds (a rotation, a repeated answer in the grace window): of these, a session
/// keeps its newest [`ROUTINE_KEPT_PER_SESSION`]. Every other kind is kept until retention.
const ROUTINE_KINDS: [EventKind; 2] = [EventKind::Refresh, EventKind::RefreshRepeated];
pub const ROUTINE_KEPT_PER_SESSION: i64 = 20;

/// Deletes the session's routine events beyond the newest [`ROUTINE_KEPT_PER_SESSION`], so an
/// active session's history stays the same size however long it lives.
pub async fn prune_routine(db: impl AnyExecutor<'_>, session_id: &str) -> Result<(), sqlx::Error> {
    let [rotated, repeated] = ROUTINE_KINDS.map(EventKind::name);
    query(
        "DELETE FROM security_events
         WHERE session_id = $1 AND kind IN ($2, $3) AND id NOT IN (
             SELECT id FROM security_events WHERE session_id = $1 AND kind IN ($2, $3)
             ORDER BY id DESC LIMIT $4)",
    )
    .bind(session_id)
    .bind(rotated)
    .bind(repeated)
    .bind(ROUTINE_KEPT_PER_SESSION)
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes at most `batch` events that are older than `before` or beyond their user's newest
/// `per_user`; returns how many it deleted.
pub async fn delete_old(pool: &Pool, before: i64, per_user: i64, batch: i64) -> Result<u64, sqlx::Error> {
    let aged = query(
        "DELETE FROM security_events WHERE id IN (
             SELECT id FROM security_events WHERE created_at < $1 LIMIT $2)",
    )
    .bind(before)
    .bind(batch)
    .execute(pool)
    .await?;
    let surplus = query(
        "DELETE FROM security_events WHERE id IN (
             SELECT id FROM (
                 SELECT id, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY id DESC) AS newer
                 FROM security_events) ranked
             WHERE newer > $1 LIMIT $2)",
    )
    .bind(per_user)
    .bind(batch)
    .execute(pool)
    .await?;
    Ok(aged.rows_affected() + surplus.rows_affected())
}

#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub session_id: Option<String>,
    pub kind: String,
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: i64,
}

/// The caller's user's most recent events, newest first; empty too when the caller is not live.
pub async fn recent_of_caller(
    pool: &Pool,
    caller: Caller<'_>,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    query_as(concat!(
        "SELECT id, session_id, kind, detail, ip, user_agent, created_at FROM security_events
         WHERE user_id = $2 AND ",
        live_caller!(),
        " ORDER BY id DESC LIMIT $4"
    ))
    .bind_caller(caller)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One session's most recent events, newest first.
pub async fn recent_of_session(
    pool: &Pool,
    user_id: &str,
    session_id: &str,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    query_as(
        "SELECT id, session_id, kind, detail, ip, user_agent, created_at FROM security_events
         WHERE user_id = $1 AND session_id = $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(user_id)
    .bind(session_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}
