//! Every query on `signing_keys`.

use super::Pool;

#[derive(Debug, sqlx::FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub private_key: Vec<u8>,
    pub public_key: Vec<u8>,
    pub retired_at: Option<i64>,
}

/// All keys, newest first.
pub async fn all(pool: &Pool) -> Result<Vec<KeyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kid, private_key, public_key, retired_at FROM signing_keys
         ORDER BY created_at DESC, kid DESC",
    )
    .fetch_all(pool)
    .await
}

pub async fn insert(
    pool: &Pool,
    kid: &str,
    private_key: &[u8],
    public_key: &[u8],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO signing_keys (kid, private_key, public_key, created_at) VALUES (?, ?, ?, ?)")
        .bind(kid)
        .bind(private_key)
        .bind(public_key)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}
