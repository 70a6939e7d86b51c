//! Every query on `revocations`, and the PostgreSQL channel that announces each new row. The
//! rows are written by triggers (`migrations/*/0003_revocations.sql`) whenever a session is
//! revoked, a user disabled or a password changed, so no statement here inserts one except
//! for a revoked signing key (`keys.rs`).

use sqlx::postgres::{PgListener, PgNotification};

use super::{query, query_as, Pool};

/// The channel the insert trigger notifies on PostgreSQL.
pub const CHANNEL: &str = "tokenpair_revocations";

/// What a row refuses: see the migration for the meaning of `at` in each kind.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RevocationRow {
    pub kind: String,
    pub subject: String,
    pub at: i64,
}

impl RevocationRow {
    /// A notification's payload, `"kind subject at"`, as the trigger writes it.
    pub fn from_payload(payload: &str) -> Option<Self> {
        let mut parts = payload.split(' ');
        let (kind, subject, at) = (parts.next()?, parts.next()?, parts.next()?.parse().ok()?);
        parts.next().is_none().then(|| Self { kind: kind.into(), subject: subject.into(), at })
    }
}

/// Every revocation at or after `since`: what may still match a live token.
pub async fn since(pool: &Pool, since: i64) -> Result<Vec<RevocationRow>, sqlx::Error> {
    query_as("SELECT kind, subject, at FROM revocations WHERE at >= $1").bind(since).fetch_all(pool).await
}

/// Deletes up to `batch` revocations from before `before`, which no live token can match.
pub async fn delete_before(pool: &Pool, before: i64, batch: i64) -> Result<u64, sqlx::Error> {
    let result =
        query("DELETE FROM revocations WHERE id IN (SELECT id FROM revocations WHERE at < $1 LIMIT $2)")
            .bind(before)
            .bind(batch)
            .execute(pool)
            .await?;
    Ok(result.rows_affected())
}

/// A connection of its own that listens on [`CHANNEL`] (LISTEN holds a session, so `url` must
/// reach PostgreSQL directly, not through a pooler in transaction mode). sqlx reconnects it
/// after a lost connection and says so with `Ok(None)` from `try_recv`, since what was
/// announced meanwhile is lost.
pub async fn listen(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// The row a notification announces, if it is one the trigger wrote.
pub fn announced(notification: &PgNotification) -> Option<RevocationRow> {
    RevocationRow::from_payload(notification.payload())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_three_words_and_nothing_else() {
        let row = RevocationRow::from_payload("session 1b2c 1700000000").expect("parsed");
        assert_eq!(row, RevocationRow { kind: "session".into(), subject: "1b2c".into(), at: 1_700_000_000 });
        for bad in ["", "session", "session 1b2c", "session 1b2c soon", "session 1b2c 1 extra"] {
            assert_eq!(RevocationRow::from_payload(bad), None, "{bad:?}");
        }
    }
}
