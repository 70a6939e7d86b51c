//! Every query on `one_time_tokens`: the links sent by mail (`auth/recovery.rs`, `auth/verify.rs`).

use sqlx::any::AnyExecutor;
use sqlx::AnyConnection;

use super::{query, query_as, Pool};

/// What a link is for. Stored as its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    PasswordReset,
    VerifyEmail,
}

impl Purpose {
    pub fn name(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::VerifyEmail => "verify_email",
        }
    }
}

pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub purpose: Purpose,
    pub email: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

/// Stores a new link and voids every earlier unused one of the same account and purpose, in
/// the caller's write transaction (with the mail that carries the link: both or neither).
pub async fn replace(tx: &mut AnyConnection, token: NewToken<'_>) -> Result<(), sqlx::Error> {
    query("UPDATE one_time_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL")
        .bind(token.now)
        .bind(token.user_id)
        .bind(token.purpose.name())
        .execute(&mut *tx)
        .await?;
    query(
        "INSERT INTO one_time_tokens (token_hash, user_id, purpose, email, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token.token_hash)
    .bind(token.user_id)
    .bind(token.purpose.name())
    .bind(token.email)
    .bind(token.now)
    .bind(token.expires_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A live link: unused, unexpired, of `purpose`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LiveToken {
    pub user_id: String,
    pub email: String,
}

/// The live link with this hash, without using it.
pub async fn find_live(
    db: impl AnyExecutor<'_>,
    token_hash: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<LiveToken>, sqlx::Error> {
    query_as(
        "SELECT user_id, email FROM one_time_tokens
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose.name())
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Uses the live link with this hash; `None` if it is not live (so of two uses, one wins).
pub async fn consume(
    db: impl AnyExecutor<'_>,
    token_hash: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<LiveToken>, sqlx::Error> {
    query_as(
        "UPDATE one_time_tokens SET used_at = $3
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
         RETURNING user_id, email",
    )
    .bind(token_hash)
    .bind(purpose.name())
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Deletes at most `batch` links that expired before `before`; returns how many.
pub async fn delete_expired(pool: &Pool, before: i64, batch: i64) -> Result<u64, sqlx::Error> {
    let result = query(
        "DELETE FROM one_time_tokens WHERE token_hash IN
             (SELECT token_hash FROM one_time_tokens WHERE expires_at < $1 LIMIT $2)",
    )
    .bind(before)
    .bind(batch)
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}
