//! Every query on `sessions` and `refresh_tokens`: one session per login, and the chain of
//! refresh tokens it was issued.

use std::borrow::Cow;
use std::collections::HashMap;

use sqlx::any::AnyExecutor;
use sqlx::AnyConnection;

use super::{query, query_as, query_scalar, Caller, Engine, Pool};

pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub jti: &'a str,
    pub now: i64,
    pub expires_at: i64,
    pub max_expires_at: Option<i64>,
    pub password_changed_at: i64,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
    /// `password`, or the social-login provider's name.
    pub signed_in_with: &'a str,
    /// The DPoP key the session is bound to, if any (`auth/dpop.rs`).
    pub jkt: Option<&'a str>,
}

/// Inserts the session and its first refresh token, together or not at all.
pub async fn create(pool: &Pool, session: NewSession<'_>) -> Result<(), sqlx::Error> {
    let mut tx = super::begin_write(pool).await?;
    query(
        "INSERT INTO sessions (id, user_id, current_jti, created_at, refreshed_at, expires_at,
                               max_expires_at, password_changed_at, user_agent, ip, signed_in_with, jkt)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(session.id)
    .bind(session.user_id)
    .bind(session.jti)
    .bind(session.now)
    .bind(session.now)
    .bind(session.expires_at)
    .bind(session.max_expires_at)
    .bind(session.password_changed_at)
    .bind(session.user_agent)
    .bind(session.ip)
    .bind(session.signed_in_with)
    .bind(session.jkt)
    .execute(&mut *tx)
    .await?;
    insert_token(&mut tx, session.jti, session.id, None, session.now, session.expires_at).await?;
    tx.commit().await
}

async fn insert_token(
    tx: &mut AnyConnection,
    jti: &str,
    session_id: &str,
    parent_jti: Option<&str>,
    issued_at: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO refresh_tokens (jti, session_id, parent_jti, issued_at, expires_at, generation)
         VALUES ($1, $2, $3, $4, $5,
                 COALESCE((SELECT generation FROM refresh_tokens WHERE jti = $3), -1) + 1)",
    )
    .bind(jti)
    .bind(session_id)
    .bind(parent_jti)
    .bind(issued_at)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A session with what a refresh must check about it and its user.
#[derive(Debug, sqlx::FromRow)]
pub struct SessionForRefresh {
    pub user_id: String,
    pub email: String,
    pub email_verified_at: Option<i64>,
    pub current_jti: String,
    pub expires_at: i64,
    pub max_expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub user_disabled_at: Option<i64>,
    pub session_password_changed_at: i64,
    pub user_password_changed_at: i64,
    /// The DPoP key the session is bound to, if any.
    pub jkt: Option<String>,
}

/// Reads the session a refresh presents, in a transaction from [`super::begin_write`]. On PostgreSQL
/// it locks the session's row until the transaction ends, so concurrent refreshes of one
/// session take turns (SQLite's write lock already serialises them).
pub async fn find_for_refresh(
    tx: &mut AnyConnection,
    session_id: &str,
) -> Result<Option<SessionForRefresh>, sqlx::Error> {
    const SELECT: &str =
        "SELECT s.user_id, u.email, u.email_verified_at, s.current_jti, s.expires_at, s.max_expires_at, s.revoked_at,
                u.disabled_at AS user_disabled_at,
                s.password_changed_at AS session_password_changed_at,
                u.password_changed_at AS user_password_changed_at, s.jkt
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1";
    let sql = match Engine::of(tx) {
        Engine::Sqlite => Cow::Borrowed(SELECT),
        Engine::Postgres => Cow::Owned(format!("{SELECT} FOR UPDATE OF s")),
    };
    query_as(&sql).bind(session_id).fetch_optional(&mut *tx).await
}

/// One link of a session's rotation chain.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TokenRow {
    pub jti: String,
    pub parent_jti: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
}

/// The refresh token `jti` of session `session_id`, if it was ever issued.
pub async fn find_token(
    tx: &mut AnyConnection,
    session_id: &str,
    jti: &str,
) -> Result<Option<TokenRow>, sqlx::Error> {
    query_as(
        "SELECT jti, parent_jti, issued_at, expires_at, rotated_at FROM refresh_tokens
         WHERE jti = $1 AND session_id = $2",
    )
    .bind(jti)
    .bind(session_id)
    .fetch_optional(&mut *tx)
    .await
}

pub struct Rotation<'a> {
    pub session_id: &'a str,
    pub presented_jti: &'a str,
    pub new_jti: &'a str,
    pub now: i64,
    pub expires_at: i64,
    /// The key the session is bound to from now on: its own, or the one a refresh of an
    /// unbound session proved.
    pub jkt: Option<&'a str>,
}

/// Makes `new_jti` current, but only if `presented_jti` still is: the guard that makes a
/// rotation happen at most once. Returns whether it did.
pub async fn rotate(tx: &mut AnyConnection, rotation: Rotation<'_>) -> Result<bool, sqlx::Error> {
    let swapped = query(
        "UPDATE sessions SET current_jti = $1, refreshed_at = $2, expires_at = $3, jkt = $6
         WHERE id = $4 AND current_jti = $5 AND revoked_at IS NULL",
    )
    .bind(rotation.new_jti)
    .bind(rotation.now)
    .bind(rotation.expires_at)
    .bind(rotation.session_id)
    .bind(rotation.presented_jti)
    .bind(rotation.jkt)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !swapped {
        return Ok(false);
    }
    query("UPDATE refresh_tokens SET rotated_at = $1 WHERE jti = $2")
        .bind(rotation.now)
        .bind(rotation.presented_jti)
        .execute(&mut *tx)
        .await?;
    let (jti, sid) = (rotation.new_jti, rotation.session_id);
    insert_token(tx, jti, sid, Some(rotation.presented_jti), rotation.now, rotation.expires_at).await?;
    prune_chain(tx, sid, jti, rotation.presented_jti).await?;
    Ok(true)
}

/// How many of a session's refresh tokens are kept: the current one and its parent are what
/// the decision table reads; the rest are the inspector's recent history. An older token that
/// comes back is still caught (it is not current, nor the current one's parent: reuse).
pub const TOKENS_KEPT_PER_SESSION: i64 = 20;

/// Deletes the session's tokens more than [`TOKENS_KEPT_PER_SESSION`] generations older than
/// `current`, never `current` or its `parent` themselves.
async fn prune_chain(
    tx: &mut AnyConnection,
    session_id: &str,
    current: &str,
    parent: &str,
) -> Result<(), sqlx::Error> {
    query(
        "DELETE FROM refresh_tokens
         WHERE session_id = $1 AND jti <> $2 AND jti <> $3
           AND generation <= (SELECT generation FROM refresh_tokens WHERE jti = $2) - $4",
    )
    .bind(session_id)
    .bind(current)
    .bind(parent)
    .bind(TOKENS_KEPT_PER_SESSION)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Revokes the session (idempotent: the first reason recorded stays). Returns whether it was live.
pub async fn revoke(
    db: impl AnyExecutor<'_>,
    session_id: &str,
    reason: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = query(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(session_id)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes the user's live sessions except `keep`; returns the ids revoked.
pub async fn revoke_all_of_user(
    db: impl AnyExecutor<'_>,
    user_id: &str,
    keep: Option<&str>,
    reason: &str,
    now: i64,
) -> Result<Vec<String>, sqlx::Error> {
    query_scalar(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
         WHERE user_id = $3 AND revoked_at IS NULL AND id IS DISTINCT FROM $4
         RETURNING id",
    )
    .bind(now)
    .bind(reason)
    .bind(user_id)
    .bind(keep)
    .fetch_all(db)
    .await
}

/// Marks the session as vouched for by the user's current password (after a password change).
pub async fn reconfirm_password(
    db: impl AnyExecutor<'_>,
    session_id: &str,
    password_changed_at: i64,
) -> Result<(), sqlx::Error> {
    query("UPDATE sessions SET password_changed_at = $1 WHERE id = $2")
        .bind(password_changed_at)
        .bind(session_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes at most `batch` sessions (their refresh tokens go with them) that were revoked or
/// expired before `before`; returns how many it deleted.
pub async fn delete_ended(pool: &Pool, before: i64, batch: i64) -> Result<u64, sqlx::Error> {
    let deleted = query(
        "DELETE FROM sessions WHERE id IN (
             SELECT id FROM sessions WHERE revoked_at < $1 OR expires_at < $1 OR max_expires_at < $1
             LIMIT $2)",
    )
    .bind(before)
    .bind(batch)
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected())
}

/// A session as its owner sees it in the sessions list.
#[derive(Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub created_at: i64,
    pub refreshed_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub signed_in_with: String,
}

/// The caller's user's live sessions, most recently active first; at most `limit`. Empty when
/// the caller's own session is not live (it would be among them).
pub async fn live_of_caller(
    pool: &Pool,
    caller: Caller<'_>,
    limit: i64,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    query_as(concat!(
        "SELECT id, created_at, refreshed_at, expires_at, user_agent, ip, signed_in_with FROM sessions
         WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $3 AND ",
        live_caller!(),
        " ORDER BY refreshed_at DESC, created_at DESC LIMIT $4"
    ))
    .bind_caller(caller)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Whether the caller's session is live: asked only to tell why a checked statement found
/// nothing.
pub async fn caller_is_live(pool: &Pool, caller: Caller<'_>) -> Result<bool, sqlx::Error> {
    let live: i64 = query_scalar(concat!("SELECT COUNT(*) FROM sessions WHERE id = $1 AND ", live_caller!()))
        .bind_caller(caller)
        .fetch_one(pool)
        .await?;
    Ok(live > 0)
}

/// Revokes `session_id` if it is a live session of the caller's user and the caller is live;
/// true if it did.
pub async fn revoke_owned(
    pool: &Pool,
    caller: Caller<'_>,
    session_id: &str,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let result = query(concat!(
        "UPDATE sessions SET revoked_at = $3, revoked_reason = $4
         WHERE id = $5 AND user_id = $2 AND revoked_at IS NULL AND ",
        live_caller!()
    ))
    .bind_caller(caller)
    .bind(reason)
    .bind(session_id)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes every session of the caller's user, or every one but the caller's, if the caller is
/// live; returns the ids revoked.
pub async fn revoke_all_of_caller(
    pool: &Pool,
    caller: Caller<'_>,
    keep_mine: bool,
    reason: &str,
) -> Result<Vec<String>, sqlx::Error> {
    query_scalar(concat!(
        "UPDATE sessions SET revoked_at = $3, revoked_reason = $4
         WHERE user_id = $2 AND revoked_at IS NULL AND ($5 = 0 OR id <> $1) AND ",
        live_caller!(),
        " RETURNING id"
    ))
    .bind_caller(caller)
    .bind(reason)
    .bind(i64::from(keep_mine))
    .fetch_all(pool)
    .await
}

/// The caller's session's rotation chain, oldest first. Empty when the caller is not live (a
/// live session always has its current token).
pub async fn chain_of_caller(pool: &Pool, caller: Caller<'_>) -> Result<Vec<TokenRow>, sqlx::Error> {
    let rows: Vec<TokenRow> = query_as(concat!(
        "SELECT t.jti, t.parent_jti, t.issued_at, t.expires_at, t.rotated_at
         FROM refresh_tokens t WHERE t.session_id = $1 AND ",
        live_caller!(),
        " ORDER BY t.generation, t.issued_at"
    ))
    .bind_caller(caller)
    .fetch_all(pool)
    .await?;
    Ok(parents_first(rows))
}

/// Orders a chain by its links (several rotations can share one `issued_at` second): the
/// oldest token kept (whose parent was pruned, or the first one), then its child, and so on.
/// Rows off the chain, if any, follow in the order they were issued.
fn parents_first(rows: Vec<TokenRow>) -> Vec<TokenRow> {
    let mut ordered = Vec::with_capacity(rows.len());
    let kept: std::collections::HashSet<String> = rows.iter().map(|row| row.jti.clone()).collect();
    let oldest = rows.iter().find(|row| row.parent_jti.as_ref().is_none_or(|p| !kept.contains(p)));
    let mut parent = oldest.and_then(|row| row.parent_jti.clone());
    let mut by_parent: HashMap<Option<String>, TokenRow> =
        rows.into_iter().map(|row| (row.parent_jti.clone(), row)).collect();
    while let Some(row) = by_parent.remove(&parent) {
        parent = Some(row.jti.clone());
        ordered.push(row);
    }
    // A HashMap iterates in no particular order: sort what is left.
    let mut rest: Vec<TokenRow> = by_parent.into_values().collect();
    rest.sort_by(|a, b| (a.issued_at, &a.jti).cmp(&(b.issued_at, &b.jti)));
    ordered.extend(rest);
    ordered
}

/// For the benchmark's per-request session lookup (`--features bench` only): the id, email and
/// verification time of the enabled user whose live session this is.
#[cfg(feature = "bench")]
pub async fn owner_of_live_session(
    pool: &Pool,
    session_id: &str,
    now: i64,
) -> Result<Option<(String, String, Option<i64>)>, sqlx::Error> {
    query_as(
        "SELECT u.id, u.email, u.email_verified_at FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.disabled_at IS NULL",
    )
    .bind(session_id)
    .bind(now)
    .fetch_optional(pool)
    .await
}
