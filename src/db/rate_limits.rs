//! The shared rate-limit counters (`rate_limits`): the generic cell rate algorithm (GCRA), one
//! row per key, decided in the database in one statement, so any number of instances share a
//! limit exactly. Times are Unix milliseconds.
//!
//! A key is allowed a request at `now` while its theoretical arrival time `tat` is at most
//! `tolerance` ahead of `now`; each allowed request moves `tat` on by `interval` from
//! `max(tat, now)`. With `interval = period / n` and `tolerance = interval * (n - 1)` that lets
//! a burst of `n` through, then one more every `interval`.

use sqlx::any::AnyExecutor;

use super::{query, query_scalar, Pool};

/// One limit's shape, in milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct Cell {
    pub interval: i64,
    pub tolerance: i64,
}

/// Counts a request for `key` if the limit allows it. `None`: allowed and counted;
/// `Some(wait)`: refused, and how many milliseconds until a request would be allowed.
pub async fn take(pool: &Pool, key: &str, now: i64, cell: Cell) -> Result<Option<i64>, sqlx::Error> {
    // The UPSERT locks the key's row (PostgreSQL) or the database (SQLite) for its one
    // statement: concurrent requests for one key, from any instance, are counted one by one.
    let taken: Option<i64> = query_scalar(
        "INSERT INTO rate_limits (key, tat) VALUES ($1, $2 + $3)
         ON CONFLICT (key) DO UPDATE
             SET tat = (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3
             WHERE rate_limits.tat - $2 <= $4
         RETURNING tat",
    )
    .bind(key)
    .bind(now)
    .bind(cell.interval)
    .bind(cell.tolerance)
    .fetch_optional(pool)
    .await?;
    match taken {
        Some(_) => Ok(None),
        None => Ok(Some(wait(pool, key, now, cell).await?.unwrap_or(1))),
    }
}

/// Whether a request for `key` would be refused now, without counting one: `Some(wait)` if so.
pub async fn wait(
    db: impl AnyExecutor<'_>,
    key: &str,
    now: i64,
    cell: Cell,
) -> Result<Option<i64>, sqlx::Error> {
    let tat: Option<i64> =
        query_scalar("SELECT tat FROM rate_limits WHERE key = $1").bind(key).fetch_optional(db).await?;
    Ok(tat.map(|tat| tat - now - cell.tolerance).filter(|wait| *wait > 0))
}

/// Deletes the keys that have fully replenished: they would allow a full burst anyway.
pub async fn forget_replenished(pool: &Pool, now: i64) -> Result<u64, sqlx::Error> {
    Ok(query("DELETE FROM rate_limits WHERE tat < $1").bind(now).execute(pool).await?.rows_affected())
}
