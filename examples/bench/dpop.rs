//! What binding tokens to a key costs per request (issue 18): `/api/me` with a DPoP proof, for
//! each allowed algorithm, against `/api/me` with the verified-token cache off (one signature
//! check per request). The proof is the one signature a bound request adds; the goal is that
//! it costs no more than that one check: CPU(DPoP) / CPU(cache off) ≤ 1.2.
//!
//! The load generator signs a fresh proof for every request (with the nonce the last answer
//! carried), on its own CPU; only the server's CPU is measured.

use std::sync::Arc;

use reqwest::Client;
use serde_json::{json, Value};

#[allow(dead_code, reason = "shared with the integration tests, which use all of it")]
#[path = "../../tests/api/proof_key.rs"]
mod proof_key;

use super::{round, Failure, Server, Work, PASSWORD};
pub use proof_key::ProofKey;

/// The phases, by algorithm.
pub const PHASES: [(&str, &str); 2] =
    [("ES256", "/api/me, DPoP ES256 (cache on)"), ("EdDSA", "/api/me, DPoP EdDSA (cache on)")];
use super::{ME as CACHE_ON, ME_CACHE_OFF as CACHE_OFF};

/// A connection's key and the URL its proofs name.
pub struct Signer {
    pub key: ProofKey,
    pub url: String,
}

impl Signer {
    /// A fresh proof for `GET /api/me` with `token` and `nonce`.
    pub fn proof(&self, nonce: &str, token: &str) -> String {
        self.key.proof("GET", &self.url, nonce, Some(token))
    }
}

/// A `/api/me` phase for each algorithm on `server`: a user registered with a proof by a key
/// of that algorithm, every connection sending its bound token with fresh proofs.
pub async fn phases(client: &Client, server: &Server) -> Result<Vec<(String, Work)>, Failure> {
    let mut phases = Vec::new();
    for ((alg, name), key) in PHASES.into_iter().zip([ProofKey::es256(), ProofKey::ed25519()]) {
        assert_eq!(key.alg(), alg);
        let signer = Arc::new(Signer { key, url: format!("{}/api/me", server.base) });
        let (token, nonce) = bound_registration(client, server, &signer.key).await?;
        phases.push((name.to_owned(), Work::GetBound { token, signer, nonce }));
    }
    Ok(phases)
}

/// Registers a new user with a proof by `key`: its bound access token, and the next nonce.
async fn bound_registration(
    client: &Client,
    server: &Server,
    key: &ProofKey,
) -> Result<(String, String), Failure> {
    let nonce_of = |response: &reqwest::Response| {
        response.headers().get("dpop-nonce").and_then(|v| v.to_str().ok()).map(str::to_owned)
    };
    let probe = client.get(format!("{}/healthz", server.base)).send().await?;
    let nonce = nonce_of(&probe).ok_or("no DPoP-Nonce: is DPoP off?")?;
    let url = format!("{}/api/auth/register", server.base);
    let email = format!("bench-{}@example.com", uuid::Uuid::new_v4().simple());
    let response = client
        .post(&url)
        .header("dpop", key.proof("POST", &url, &nonce, None))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await?;
    let nonce = nonce_of(&response).ok_or("no DPoP-Nonce")?;
    let body: Value = response.json().await?;
    if body["token_type"] != "DPoP" {
        return Err(format!("the registration was not bound: {body}").into());
    }
    let token = body["access_token"].as_str().ok_or("no access token")?.to_owned();
    Ok((token, nonce))
}

/// CPU(`/api/me` with DPoP) / CPU(`/api/me`, cache off), per algorithm: the goal. Beside it,
/// for reference, what the proof adds over `/api/me` with the cache on, against what one
/// access-token signature check adds (cache off minus cache on), both over the same floor.
pub fn goals(report: &Value) -> Value {
    let cpu = |phase: &str| report["phases"][phase]["cpu_us_per_request"].as_f64().unwrap_or(f64::NAN);
    let marginal = |phase: &str| report["marginal_cpu_us"][phase]["median"].as_f64().unwrap_or(f64::NAN);
    let signature_check = marginal(CACHE_OFF) - marginal(CACHE_ON);
    let mut goals = serde_json::Map::new();
    for (alg, phase) in PHASES {
        let alg = alg.to_lowercase();
        let ratio = cpu(phase) / cpu(CACHE_OFF);
        let goal =
            json!({ "value": round(ratio, 2), "goal": "<= 1.2", "met": ratio <= 1.2, "better": "lower" });
        goals.insert(format!("cpu_me_dpop_{alg}_over_me_cache_off"), goal);
        let proof = (marginal(phase) - marginal(CACHE_ON)) / signature_check;
        let reference = json!({ "value": round(proof, 2), "goal": "(for reference)", "met": null });
        goals.insert(format!("dpop_{alg}_proof_over_one_token_signature_check"), reference);
    }
    Value::Object(goals)
}
