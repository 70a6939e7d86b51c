//! How much the database grows per 1,000 refreshes of one session (issue 14's bound, in the
//! benchmark since issue 19): the token rows kept per session and the routine events are
//! bounded, so a long-lived, busy session must not grow the database without end. The same
//! measure as `tests/api/growth.rs`, on the benchmark's own servers.

use reqwest::Client;
use serde_json::{json, Value};

use super::instructions::send;
use super::{register, Failure, Server, Work};

const REFRESHES: u64 = 1000;
/// Refreshes before the first measure, so the session's bounded chain is already full.
const SETTLING: u64 = 50;

/// The database's size before and after [`REFRESHES`] refreshes of one new session.
pub async fn per_thousand_refreshes(server: &Server, client: &Client) -> Result<Value, Failure> {
    let pool = sqlx::AnyPool::connect(&server.url).await?;
    let postgres = server.url.starts_with("postgres");
    let mut work = Work::Refresh { cookie: register(client, server).await?.refresh };
    send(server, &mut work, SETTLING).await?;
    if postgres {
        // The first VACUUM also creates each table's free-space and visibility maps.
        sqlx::query("VACUUM").execute(&pool).await?;
    }
    let before = bytes(&pool, postgres).await?;
    for _ in 0..10 {
        send(server, &mut work, REFRESHES / 10).await?;
        if postgres {
            // What autovacuum does by itself a minute later: mark deleted rows' space reusable.
            sqlx::query("VACUUM").execute(&pool).await?;
        }
    }
    let after = bytes(&pool, postgres).await?;
    pool.close().await;
    Ok(
        json!({ "refreshes": REFRESHES, "before_bytes": before, "after_bytes": after, "grown_bytes": after - before }),
    )
}

/// The bytes the database's tables and indexes take (SQLite: after a WAL checkpoint).
async fn bytes(pool: &sqlx::AnyPool, postgres: bool) -> Result<i64, Failure> {
    if postgres {
        return Ok(sqlx::query_scalar("SELECT CAST(pg_database_size(current_database()) AS BIGINT)")
            .fetch_one(pool)
            .await?);
    }
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
    Ok(sqlx::query_scalar("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
        .fetch_one(pool)
        .await?)
}
