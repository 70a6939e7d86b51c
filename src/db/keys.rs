//! Every query on `signing_keys`.

use sqlx::AnyConnection;

use super::{query, query_as, query_scalar, Engine, Pool, WriteTransaction};

/// A stored key. `Debug` leaves the private key seed out.
#[derive(sqlx::FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub private_key: Vec<u8>,
    pub public_key: Vec<u8>,
    pub activates_at: i64,
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRow")
            .field("kid", &self.kid)
            .field("private_key", &crate::api::REDACTED)
            .field("activates_at", &self.activates_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// All keys, newest activation first.
pub async fn all(pool: &Pool) -> Result<Vec<KeyRow>, sqlx::Error> {
    query_as(
        "SELECT kid, private_key, public_key, activates_at, retired_at FROM signing_keys
         ORDER BY activates_at DESC, kid DESC",
    )
    .fetch_all(pool)
    .await
}

pub struct NewKey<'a> {
    pub kid: &'a str,
    pub private_key: &'a [u8],
    pub public_key: &'a [u8],
    pub now: i64,
    pub activates_at: i64,
}

/// Adds the first key, unless the database has one already: several instances starting at
/// once against an empty database end up with exactly one key. Returns whether it was added.
pub async fn insert_first(pool: &Pool, key: NewKey<'_>) -> Result<bool, sqlx::Error> {
    let mut tx = begin_keys_write(pool).await?;
    let existing: i64 = query_scalar("SELECT COUNT(*) FROM signing_keys").fetch_one(&mut *tx).await?;
    if existing > 0 {
        return Ok(false);
    }
    insert(&mut tx, &key).await?;
    tx.commit().await?;
    Ok(true)
}

/// Adds a key that signs from `activates_at` on, and retires the keys before it at that moment.
pub async fn insert_and_retire_older(pool: &Pool, key: NewKey<'_>) -> Result<(), sqlx::Error> {
    let mut tx = begin_keys_write(pool).await?;
    query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
        .bind(key.activates_at)
        .execute(&mut *tx)
        .await?;
    insert(&mut tx, &key).await?;
    tx.commit().await
}

/// A transaction in which writers of keys take turns (on PostgreSQL a table lock that
/// readers do not wait for; on SQLite the write lock).
async fn begin_keys_write(pool: &Pool) -> Result<WriteTransaction, sqlx::Error> {
    let mut tx = super::begin_write(pool).await?;
    if Engine::of(&tx) == Engine::Postgres {
        query("LOCK TABLE signing_keys IN EXCLUSIVE MODE").execute(&mut *tx).await?;
    }
    Ok(tx)
}

async fn insert(tx: &mut AnyConnection, key: &NewKey<'_>) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO signing_keys (kid, private_key, public_key, created_at, activates_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(key.kid)
    .bind(key.private_key)
    .bind(key.public_key)
    .bind(key.now)
    .bind(key.activates_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Replaces the stored seed of `kid` with `sealed`, if it still holds `plain`; whether it did.
pub async fn replace_private_key(
    pool: &Pool,
    kid: &str,
    plain: &[u8],
    sealed: &[u8],
) -> Result<bool, sqlx::Error> {
    let result = query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2 AND private_key = $3")
        .bind(sealed)
        .bind(kid)
        .bind(plain)
        .execute(pool)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Deletes the key `kid` and records its revocation (which notifies every instance on
/// PostgreSQL); with a `replacement`, first retires every key and adds it, signing from its
/// `activates_at`. One transaction: nothing or all of it happens.
pub async fn revoke(
    pool: &Pool,
    kid: &str,
    replacement: Option<NewKey<'_>>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = begin_keys_write(pool).await?;
    if let Some(key) = replacement {
        query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL OR retired_at > $1")
            .bind(key.activates_at)
            .execute(&mut *tx)
            .await?;
        insert(&mut tx, &key).await?;
    }
    query("DELETE FROM signing_keys WHERE kid = $1").bind(kid).execute(&mut *tx).await?;
    query("INSERT INTO revocations (kind, subject, at) VALUES ('key', $1, $2)")
        .bind(kid)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Deletes keys retired before `cutoff`: every token they signed has expired by then.
pub async fn delete_retired_before(pool: &Pool, cutoff: i64) -> Result<u64, sqlx::Error> {
    let result = query("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1")
        .bind(cutoff)
        .execute(pool)
        .await?;
    Ok(result.rows_affected())
}
