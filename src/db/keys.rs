//! Every query on `signing_keys`.

use super::{query, query_as, Pool};

#[derive(Debug, sqlx::FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub private_key: Vec<u8>,
    pub public_key: Vec<u8>,
    pub activates_at: i64,
    pub retired_at: Option<i64>,
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

/// Adds a key that signs from `activates_at` on, and retires the keys before it at that moment.
pub async fn insert_and_retire_older(pool: &Pool, key: NewKey<'_>) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    query("UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL")
        .bind(key.activates_at)
        .execute(&mut *tx)
        .await?;
    query(
        "INSERT INTO signing_keys (kid, private_key, public_key, created_at, activates_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(key.kid)
    .bind(key.private_key)
    .bind(key.public_key)
    .bind(key.now)
    .bind(key.activates_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Deletes keys retired before `cutoff`: every token they signed has expired by then.
pub async fn delete_retired_before(pool: &Pool, cutoff: i64) -> Result<u64, sqlx::Error> {
    let result = query("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?")
        .bind(cutoff)
        .execute(pool)
        .await?;
    Ok(result.rows_affected())
}
