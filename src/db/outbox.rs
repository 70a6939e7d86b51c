//! Every query on `mail_outbox`: mail accepted and not yet delivered (`mail/outbox.rs`). Each
//! write goes through [`super::begin_write`] (a mail is queued in its flow's own transaction),
//! so on SQLite it waits its turn with the refreshes instead of sleeping in SQLite's busy
//! handler while they queue behind it; the sender's poll is a read, and writes only when a mail
//! is due.

use sqlx::AnyConnection;

use super::{query, query_as, Pool};

pub struct NewMail<'a> {
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub now: i64,
}

/// A mail claimed for sending. `Debug` leaves the body (and its link) out.
#[derive(Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

impl std::fmt::Debug for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimed").field("id", &self.id).field("attempts", &self.attempts).finish()
    }
}

/// Queues a mail in the caller's write transaction.
pub async fn enqueue(tx: &mut AnyConnection, mail: NewMail<'_>) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO mail_outbox (recipient, subject, body, created_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(mail.recipient)
    .bind(mail.subject)
    .bind(mail.body)
    .bind(mail.now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Claims the oldest mail that is due and not claimed by a live sender, until `until`. The
/// conditions are repeated outside the subquery: on PostgreSQL, of two senders racing for one
/// row the second re-checks them on the row the first updated, and claims nothing.
pub async fn claim_next(pool: &Pool, now: i64, until: i64) -> Result<Option<Claimed>, sqlx::Error> {
    let due: Vec<i64> = super::query_scalar(
        "SELECT id FROM mail_outbox
         WHERE next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) LIMIT 1",
    )
    .bind(now)
    .fetch_all(pool)
    .await?;
    if due.is_empty() {
        return Ok(None);
    }
    let mut tx = super::begin_write(pool).await?;
    let claimed: Vec<Claimed> = query_as(
        "UPDATE mail_outbox SET claimed_until = $2, attempts = attempts + 1
         WHERE id = (SELECT id FROM mail_outbox
                     WHERE next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1)
                     ORDER BY id LIMIT 1)
           AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1)
         RETURNING id, recipient, subject, body, attempts",
    )
    .bind(now)
    .bind(until)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(claimed.into_iter().next())
}

/// Delivered: the row goes, and the link in it.
pub async fn delivered(pool: &Pool, id: i64) -> Result<(), sqlx::Error> {
    let mut tx = super::begin_write(pool).await?;
    query("DELETE FROM mail_outbox WHERE id = $1").bind(id).execute(&mut *tx).await?;
    tx.commit().await
}

/// Not delivered: tried again at `next_attempt_at`.
pub async fn failed(pool: &Pool, id: i64, next_attempt_at: i64, error: &str) -> Result<(), sqlx::Error> {
    let mut tx = super::begin_write(pool).await?;
    query("UPDATE mail_outbox SET claimed_until = NULL, next_attempt_at = $2, last_error = $3 WHERE id = $1")
        .bind(id)
        .bind(next_attempt_at)
        .bind(error)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// How many mails wait.
pub async fn pending(pool: &Pool) -> Result<i64, sqlx::Error> {
    super::query_scalar("SELECT COUNT(*) FROM mail_outbox").fetch_one(pool).await
}
