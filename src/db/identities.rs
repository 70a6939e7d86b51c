//! Every query on `identities`: the social-platform accounts linked to a user.

use super::{begin_write, query, query_as, query_scalar, Engine, Pool};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct IdentityRow {
    pub provider: String,
    pub email: Option<String>,
    pub linked_at: i64,
}

pub struct NewIdentity<'a> {
    pub provider: &'a str,
    pub subject: &'a str,
    pub user_id: &'a str,
    pub email: Option<&'a str>,
    pub now: i64,
}

/// The enabled user this identity is linked to, if any.
pub async fn find_user(pool: &Pool, provider: &str, subject: &str) -> Result<Option<String>, sqlx::Error> {
    query_scalar(
        "SELECT i.user_id FROM identities i JOIN users u ON u.id = i.user_id
         WHERE i.provider = $1 AND i.subject = $2 AND u.disabled_at IS NULL",
    )
    .bind(provider)
    .bind(subject)
    .fetch_optional(pool)
    .await
}

/// Links the identity; a second link of the same identity, or a second identity of the same
/// provider for the user, is a unique violation (`db::is_unique_violation`).
pub async fn insert(
    db: impl sqlx::any::AnyExecutor<'_>,
    identity: NewIdentity<'_>,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO identities (provider, subject, user_id, email, linked_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(identity.provider)
    .bind(identity.subject)
    .bind(identity.user_id)
    .bind(identity.email)
    .bind(identity.now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn of_user(pool: &Pool, user_id: &str) -> Result<Vec<IdentityRow>, sqlx::Error> {
    query_as("SELECT provider, email, linked_at FROM identities WHERE user_id = $1 ORDER BY linked_at")
        .bind(user_id)
        .fetch_all(pool)
        .await
}

/// What an unlink did.
#[derive(Debug, PartialEq, Eq)]
pub enum Unlinked {
    Done,
    NotLinked,
    /// It is the account's last way in: no password and no other identity.
    LastWayIn,
}

/// Unlinks the user's identity of `provider`, unless it is the account's last way in. On
/// PostgreSQL the user's row is locked first, so two unlinks of an account's last two
/// identities take turns and the second sees the first.
pub async fn unlink(pool: &Pool, user_id: &str, provider: &str) -> Result<Unlinked, sqlx::Error> {
    let mut tx = begin_write(pool).await?;
    let lock = match Engine::of_pool(pool) {
        Engine::Sqlite => "SELECT password_hash FROM users WHERE id = $1",
        Engine::Postgres => "SELECT password_hash FROM users WHERE id = $1 FOR UPDATE",
    };
    let password_hash: Option<String> = query_scalar(lock).bind(user_id).fetch_optional(&mut *tx).await?;
    let has_password = password_hash.as_deref().is_some_and(super::users::is_usable_password);
    let linked: Vec<String> = query_scalar("SELECT provider FROM identities WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await?;
    if !linked.iter().any(|linked| linked == provider) {
        return Ok(Unlinked::NotLinked);
    }
    if !has_password && linked.len() < 2 {
        return Ok(Unlinked::LastWayIn);
    }
    query("DELETE FROM identities WHERE user_id = $1 AND provider = $2")
        .bind(user_id)
        .bind(provider)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Unlinked::Done)
}
