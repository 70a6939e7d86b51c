//! The sender: takes due mail from the outbox one at a time and delivers it, for as long as
//! the process runs. Woken at once by this instance's `Mailer::send`, and every second anyway
//! for mail another instance queued or a retry that came due.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::transport::Transport;
use crate::db::{self, Pool};

/// How long a claimed mail is this sender's alone; past it, another sender may try it.
const CLAIM_SECS: i64 = 60;
/// The longest wait between two attempts at one mail.
const LONGEST_BACKOFF_SECS: i64 = 300;
const POLL: Duration = Duration::from_secs(1);

/// Delivers due mail until the process ends.
pub async fn run(db: Pool, transport: Transport, wake: Arc<Notify>) {
    loop {
        match send_next(&db, &transport).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "mail outbox: the database failed; trying again"),
        }
        let _ = tokio::time::timeout(POLL, wake.notified()).await;
    }
}

/// Sends the next due mail, if any; whether there was one.
async fn send_next(db: &Pool, transport: &Transport) -> Result<bool, sqlx::Error> {
    let now = super::now();
    let Some(mail) = db::outbox::claim_next(db, now, now + CLAIM_SECS).await? else { return Ok(false) };
    match transport.deliver(&mail).await {
        Ok(()) => {
            db::outbox::delivered(db, mail.id).await?;
            tracing::info!(id = mail.id, attempts = mail.attempts, "mail delivered");
        }
        Err(problem) => {
            let wait = backoff(mail.attempts);
            tracing::warn!(id = mail.id, attempts = mail.attempts, retry_in_secs = wait, %problem, "mail not delivered; will retry");
            db::outbox::failed(db, mail.id, super::now() + wait, &problem).await?;
            return Ok(false);
        }
    }
    Ok(true)
}

/// 2 s after the first failure, doubling, at most 5 min.
fn backoff(attempts: i64) -> i64 {
    2_i64.saturating_pow(attempts.clamp(1, 20) as u32).min(LONGEST_BACKOFF_SECS)
}
