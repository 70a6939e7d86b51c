//! How revocations reach this instance's set (`revoked.rs`) from the database: the whole
//! window read at start-up, every 15 s and after the listener reconnects ([`catch_up`]), and on
//! PostgreSQL each new one the moment its transaction commits ([`follow`], `LISTEN/NOTIFY`
//! through sqlx's `PgListener`). A revoked signing key reloads the key ring at once.

use std::time::Duration;

use super::revoked::Revocation;
use super::tokens::Tokens;
use super::unix_now;
use crate::db::revocations;
use crate::db::Pool;

/// Reads every revocation of the window from the database into `tokens`' set and lets go of
/// the expired ones: at start-up, every 15 s, and whenever the listener had to reconnect.
/// Reloads the key ring when a key was revoked.
pub async fn catch_up(tokens: &Tokens, pool: &Pool) -> Result<(), sqlx::Error> {
    let now = unix_now();
    let rows = revocations::since(pool, tokens.revoked.oldest_relevant(now)).await?;
    let mut key_revoked = false;
    for revocation in rows.iter().filter_map(Revocation::of_row) {
        key_revoked |= still_in_the_ring(tokens, revocation);
        tokens.revoked.apply(revocation, now);
    }
    tokens.revoked.prune(now);
    if key_revoked {
        reload_keys(tokens, pool).await;
    }
    Ok(())
}

/// How long the listener waits before connecting again after a failure: doubling from 1 s.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// Listens for revocations announced on PostgreSQL (at `listen_url`) and applies each at
/// once, for the life of the process. A connection that is lost and comes back may have
/// missed some, so each (re)connection is followed by a [`catch_up`]; while it cannot connect,
/// the periodic catch-up alone keeps the set within 15 s of the truth.
pub async fn follow(tokens: &Tokens, pool: &Pool, listen_url: &str) {
    let mut retry = RETRY_FIRST;
    loop {
        match revocations::listen(listen_url).await {
            Ok(mut listener) => {
                retry = RETRY_FIRST;
                tracing::info!("listening for revocations from other instances");
                caught_up(tokens, pool).await;
                while let Ok(announced) = listener.try_recv().await {
                    match announced {
                        Some(notification) => take_announced(tokens, pool, &notification).await,
                        None => caught_up(tokens, pool).await, // reconnected: some may be lost
                    }
                }
                tracing::warn!("the revocation listener lost its connection; reconnecting");
            }
            Err(err) => tracing::warn!(error = %err, "cannot listen for revocations; retrying"),
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(RETRY_MAX);
    }
}

async fn take_announced(tokens: &Tokens, pool: &Pool, notification: &sqlx::postgres::PgNotification) {
    let Some(row) = revocations::announced(notification) else {
        tracing::warn!(payload = notification.payload(), "an announcement that is not a revocation");
        return;
    };
    let Some(revocation) = Revocation::of_row(&row) else { return };
    tokens.revoked.apply(revocation, unix_now());
    if still_in_the_ring(tokens, revocation) {
        reload_keys(tokens, pool).await;
    }
}

/// Whether `revocation` names a signing key this instance still verifies with: the catch-up
/// reads the same row for 15 minutes, and only the first reading needs to reload the ring.
fn still_in_the_ring(tokens: &Tokens, revocation: Revocation<'_>) -> bool {
    matches!(revocation, Revocation::Key { kid, .. } if tokens.keys.ring().verifier(kid).is_some())
}

async fn caught_up(tokens: &Tokens, pool: &Pool) {
    if let Err(err) = catch_up(tokens, pool).await {
        tracing::warn!(error = %err, "could not read revocations; trying again in 15 s");
    }
}

async fn reload_keys(tokens: &Tokens, pool: &Pool) {
    if let Err(err) = tokens.reload_keys(pool).await {
        tracing::warn!(error = %err, "could not reload signing keys after a key was revoked");
    }
}
