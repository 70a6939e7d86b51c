//! A DPoP client for the tests: `proof_key.rs`'s keys and proofs, and the calls that use them.

use crate::helpers::TestApp;
pub use crate::proof_key::{b64, claims, payload, ProofKey};

impl TestApp {
    /// The server's current DPoP nonce, from any API answer.
    pub async fn nonce(&self) -> String {
        let response = self.plain.get(self.url("/healthz")).send().await.expect("sent");
        let nonce = response.headers().get("dpop-nonce").expect("a DPoP-Nonce header");
        nonce.to_str().expect("ASCII").to_owned()
    }

    /// A sound proof by `key` for `method` on `path`.
    pub async fn proof(&self, key: &ProofKey, method: &str, path: &str, token: Option<&str>) -> String {
        key.proof(method, &self.url(path), &self.nonce().await, token)
    }

    /// `GET /api/me` with `token` under the DPoP scheme and `proof`, if any.
    pub async fn me_with_proof(&self, token: &str, proof: Option<&str>) -> reqwest::Response {
        let request = self.plain.get(self.url("/api/me")).header("authorization", format!("DPoP {token}"));
        let request = match proof {
            Some(proof) => request.header("dpop", proof),
            None => request,
        };
        request.send().await.expect("sent")
    }
}
