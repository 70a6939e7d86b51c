//! Mail: what the app sends (`templates.rs`), the queue it goes through (`outbox.rs`, the
//! `mail_outbox` table), and how it leaves (`transport.rs`: SMTP through `lettre`, or the log
//! when `SMTP_URL` is not set).
//!
//! A flow that sends mail only *enqueues* it: one insert, then a wake-up for this instance's
//! sender. The sender claims due rows one at a time (so of several instances on PostgreSQL only
//! one sends a given mail), delivers, and deletes the row; a failure is retried with backoff
//! (2 s doubling to 5 min) for as long as the SMTP server stays down, across restarts, since
//! the queue is in the database. Delivery is at least once: a sender that stops after the SMTP
//! server accepted a mail and before it deleted the row leaves it to be sent again when its
//! claim lapses (a minute); nothing else sends a mail twice.

use std::sync::Arc;

use sqlx::AnyConnection;
use tokio::sync::Notify;

use crate::db::{self, outbox::NewMail, Pool};

pub mod outbox;
pub mod templates;
pub mod transport;

pub use templates::Mail;

/// What the flows hand mail to: the queue, the origin links point at, and whether an address
/// must answer its mail before the account logs in.
#[derive(Clone)]
pub struct Mailer {
    /// The browser app's origin: links are `{origin}/reset-password#token=…`.
    pub origin: String,
    /// `REQUIRE_VERIFIED_EMAIL`: a new account logs in only once verified, and sign-up answers
    /// alike for taken and free addresses (`auth/flow.rs`).
    pub verified_only: bool,
    wake: Arc<Notify>,
}

impl Mailer {
    pub fn new(origin: &str, verified_only: bool) -> Self {
        let origin = origin.trim_end_matches('/').to_owned();
        Self { origin, verified_only, wake: Arc::new(Notify::new()) }
    }

    /// Queues `mail` for `recipient` and wakes this instance's sender.
    pub async fn send(&self, db: &Pool, recipient: &str, mail: Mail) -> Result<(), sqlx::Error> {
        let mut tx = db::begin_write(db).await?;
        self.queue(&mut tx, recipient, mail).await?;
        tx.commit().await?;
        self.wake_sender();
        Ok(())
    }

    /// Queues `mail` for `recipient` in the caller's write transaction, with whatever else the
    /// mail must not go without (a link's token); [`Self::wake_sender`] once it has committed.
    pub async fn queue(
        &self,
        tx: &mut AnyConnection,
        recipient: &str,
        mail: Mail,
    ) -> Result<(), sqlx::Error> {
        let new = NewMail { recipient, subject: &mail.subject, body: &mail.body, now: now() };
        db::outbox::enqueue(tx, new).await
    }

    /// Tells this instance's sender a mail is waiting (it polls too, so a lost wake-up only
    /// delays the mail).
    pub fn wake_sender(&self) {
        self.wake.notify_one();
    }

    /// The wake-up the sender waits on (`outbox::run`).
    pub fn wake(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }
}

/// Unix seconds, the clock every row uses.
fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
