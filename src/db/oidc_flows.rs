//! Every query on `oidc_flows`: the social logins under way (`auth/oidc/flow_state.rs`).

use super::{query, query_as, Pool};

/// One authorization request: what its callback must check and use. `Debug` leaves the PKCE
/// verifier out.
#[derive(Clone, sqlx::FromRow)]
pub struct FlowRow {
    pub id_hash: String,
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: Option<String>,
    pub link_user_id: Option<String>,
    pub link_session_id: Option<String>,
    pub expires_at: i64,
}

impl std::fmt::Debug for FlowRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowRow")
            .field("provider", &self.provider)
            .field("return_to", &self.return_to)
            .field("link_user_id", &self.link_user_id)
            .field("pkce_verifier", &crate::api::REDACTED)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

pub async fn insert(pool: &Pool, flow: &FlowRow) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO oidc_flows (id_hash, provider, state, nonce, pkce_verifier, return_to,
                                 link_user_id, link_session_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&flow.id_hash)
    .bind(&flow.provider)
    .bind(&flow.state)
    .bind(&flow.nonce)
    .bind(&flow.pkce_verifier)
    .bind(&flow.return_to)
    .bind(&flow.link_user_id)
    .bind(&flow.link_session_id)
    .bind(flow.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes the flow and returns it, if it existed and had not expired: of two callbacks with
/// the same cookie, on any instance, only one gets it.
pub async fn take(pool: &Pool, id_hash: &str, now: i64) -> Result<Option<FlowRow>, sqlx::Error> {
    let taken: Option<FlowRow> = query_as(
        "DELETE FROM oidc_flows WHERE id_hash = $1
         RETURNING id_hash, provider, state, nonce, pkce_verifier, return_to, link_user_id,
                   link_session_id, expires_at",
    )
    .bind(id_hash)
    .fetch_optional(pool)
    .await?;
    Ok(taken.filter(|flow| flow.expires_at > now))
}

/// Deletes at most `batch` flows that expired before `now`; returns how many.
pub async fn delete_expired(pool: &Pool, now: i64, batch: i64) -> Result<u64, sqlx::Error> {
    let result = query(
        "DELETE FROM oidc_flows WHERE id_hash IN
             (SELECT id_hash FROM oidc_flows WHERE expires_at <= $1 LIMIT $2)",
    )
    .bind(now)
    .bind(batch)
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}
