//! Every query on `users`.

use sqlx::any::AnyExecutor;

use super::{query, query_as, Caller, Pool};

/// The `password_hash` of an account without a password (made by a social login): no password
/// verifies it, as Django's and `/etc/shadow`'s `!` mark an unusable password.
pub const NO_PASSWORD: &str = "!";

/// Whether `password_hash` is a password's hash, not [`NO_PASSWORD`].
pub fn is_usable_password(password_hash: &str) -> bool {
    !password_hash.starts_with('!')
}

/// A user as a login sees it. `Debug` leaves the password hash out.
#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub password_changed_at: i64,
    pub email_verified_at: Option<i64>,
}

impl UserRow {
    /// The user as the wire and the access token name them.
    pub fn public(&self) -> crate::api::User {
        let email_verified = self.email_verified_at.is_some();
        crate::api::User { id: self.id.clone(), email: self.email.clone(), email_verified }
    }
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("password_hash", &crate::api::REDACTED)
            .field("password_changed_at", &self.password_changed_at)
            .field("email_verified_at", &self.email_verified_at)
            .finish()
    }
}

pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub now: i64,
    /// The address is known to be the user's already (a provider vouched for it).
    pub verified: bool,
}

/// Inserts the user; a taken email surfaces as a unique violation (see `db::is_unique_violation`).
pub async fn insert(db: impl AnyExecutor<'_>, user: NewUser<'_>) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO users (id, email, password_hash, created_at, password_changed_at, email_verified_at)
         VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(user.id)
    .bind(user.email)
    .bind(user.password_hash)
    .bind(user.now)
    .bind(user.verified.then_some(user.now))
    .execute(db)
    .await?;
    Ok(())
}

/// The enabled user with this (normalised) email, if any.
pub async fn find_enabled_by_email(pool: &Pool, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    query_as(
        "SELECT id, email, password_hash, password_changed_at, email_verified_at FROM users
         WHERE email = $1 AND disabled_at IS NULL",
    )
    .bind(email)
    .fetch_optional(pool)
    .await
}

/// The enabled user with this id, if any.
pub async fn find_enabled(pool: &Pool, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    query_as(
        "SELECT id, email, password_hash, password_changed_at, email_verified_at FROM users
         WHERE id = $1 AND disabled_at IS NULL",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The id of the account with this (normalised) email, enabled or not.
pub async fn id_of_email(pool: &Pool, email: &str) -> Result<Option<String>, sqlx::Error> {
    super::query_scalar("SELECT id FROM users WHERE email = $1").bind(email).fetch_optional(pool).await
}

/// The caller's user, if the caller's session is live.
pub async fn find_for_caller(pool: &Pool, caller: Caller<'_>) -> Result<Option<UserRow>, sqlx::Error> {
    query_as(concat!(
        "SELECT id, email, password_hash, password_changed_at, email_verified_at FROM users WHERE id = $2 AND ",
        live_caller!()
    ))
    .bind_caller(caller)
    .fetch_optional(pool)
    .await
}

pub async fn set_password(
    db: impl AnyExecutor<'_>,
    id: &str,
    password_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Marks `email` verified for user `id`, if it is still the user's address; whether it was.
pub async fn mark_verified(
    db: impl AnyExecutor<'_>,
    id: &str,
    email: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $3) WHERE id = $1 AND email = $2",
    )
    .bind(id)
    .bind(email)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() > 0)
}

/// Whether the user's address is verified.
pub async fn is_verified(pool: &Pool, id: &str) -> Result<bool, sqlx::Error> {
    let at: Option<Option<i64>> = super::query_scalar("SELECT email_verified_at FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(matches!(at, Some(Some(_))))
}

/// Disables (or re-enables) the account; its sessions stop refreshing at the next attempt.
pub async fn set_disabled(pool: &Pool, id: &str, disabled_at: Option<i64>) -> Result<(), sqlx::Error> {
    query("UPDATE users SET disabled_at = $1 WHERE id = $2").bind(disabled_at).bind(id).execute(pool).await?;
    Ok(())
}
