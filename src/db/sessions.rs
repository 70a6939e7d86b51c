//! Every query on `sessions`: one row per login, holding which refresh token is current.

use super::{Pool, Transaction};

pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub jti: &'a str,
    pub now: i64,
    pub expires_at: i64,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
}

pub async fn insert(pool: &Pool, session: NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, current_jti, created_at, refreshed_at, expires_at,
                               user_agent, ip)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(session.id)
    .bind(session.user_id)
    .bind(session.jti)
    .bind(session.now)
    .bind(session.now)
    .bind(session.expires_at)
    .bind(session.user_agent)
    .bind(session.ip)
    .execute(pool)
    .await?;
    Ok(())
}

/// A session with what a refresh must check about its user.
#[derive(Debug, sqlx::FromRow)]
pub struct SessionForRefresh {
    pub user_id: String,
    pub email: String,
    pub current_jti: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub user_disabled_at: Option<i64>,
    pub password_changed_at: i64,
}

/// Starts a write transaction that holds SQLite's write lock from its first statement, so the
/// read-decide-write of a rotation cannot interleave with another. Dropping it rolls back.
pub async fn begin_rotation(pool: &Pool) -> Result<Transaction, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

pub async fn find_for_refresh(
    tx: &mut Transaction,
    session_id: &str,
) -> Result<Option<SessionForRefresh>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.user_id, u.email, s.current_jti, s.created_at, s.expires_at, s.revoked_at,
                u.disabled_at AS user_disabled_at, u.password_changed_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = ?",
    )
    .bind(session_id)
    .fetch_optional(&mut **tx)
    .await
}

pub struct Rotation<'a> {
    pub session_id: &'a str,
    pub presented_jti: &'a str,
    pub new_jti: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

/// Makes `new_jti` current, but only if `presented_jti` still is: the guard that makes a
/// rotation happen at most once. Returns whether it did.
pub async fn rotate(tx: &mut Transaction, rotation: Rotation<'_>) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE sessions SET current_jti = ?, refreshed_at = ?, expires_at = ?
         WHERE id = ? AND current_jti = ? AND revoked_at IS NULL",
    )
    .bind(rotation.new_jti)
    .bind(rotation.now)
    .bind(rotation.expires_at)
    .bind(rotation.session_id)
    .bind(rotation.presented_jti)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes the session (idempotent: the first reason recorded stays).
pub async fn revoke(pool: &Pool, session_id: &str, reason: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = ?, revoked_reason = ?
         WHERE id = ? AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(session_id)
    .execute(pool)
    .await?;
    Ok(())
}
