//! A DPoP key of either allowed algorithm, and proofs made the way the browser makes them (or,
//! for the forgery tests, any way the caller says). The integration tests use it
//! (`proof.rs`), and so does the benchmark's load generator (`examples/bench/dpop.rs`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub enum ProofKey {
    Es256(p256::ecdsa::SigningKey),
    EdDsa(ed25519_dalek::SigningKey),
}

fn random_bytes() -> [u8; 32] {
    Sha256::digest(uuid::Uuid::new_v4().as_bytes()).into()
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl ProofKey {
    pub fn es256() -> Self {
        Self::Es256(p256::ecdsa::SigningKey::from_slice(&random_bytes()).expect("a P-256 scalar"))
    }

    pub fn ed25519() -> Self {
        Self::EdDsa(ed25519_dalek::SigningKey::from_bytes(&random_bytes()))
    }

    /// One of each, to run a test with both algorithms.
    pub fn both() -> [Self; 2] {
        [Self::es256(), Self::ed25519()]
    }

    pub fn alg(&self) -> &'static str {
        match self {
            Self::Es256(_) => "ES256",
            Self::EdDsa(_) => "EdDSA",
        }
    }

    /// The public key as a JWK, its members in RFC 7638's order.
    pub fn jwk(&self) -> Value {
        match self {
            Self::Es256(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                let bytes = point.as_bytes();
                json!({ "crv": "P-256", "kty": "EC", "x": b64(&bytes[1..33]), "y": b64(&bytes[33..65]) })
            }
            Self::EdDsa(key) => {
                json!({ "crv": "Ed25519", "kty": "OKP", "x": b64(key.verifying_key().to_bytes()) })
            }
        }
    }

    /// RFC 7638's SHA-256 thumbprint, computed here independently of the server.
    pub fn thumbprint(&self) -> String {
        b64(Sha256::digest(self.jwk().to_string()))
    }

    pub fn header(&self) -> Value {
        json!({ "typ": "dpop+jwt", "alg": self.alg(), "jwk": self.jwk() })
    }

    /// Signs `header` and `claims` with this key, whatever they say.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let signature = match self {
            Self::Es256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
                signature.to_bytes().to_vec()
            }
            Self::EdDsa(key) => ed25519_dalek::Signer::sign(key, input.as_bytes()).to_bytes().to_vec(),
        };
        format!("{input}.{}", b64(signature))
    }

    /// A sound proof for `method` on `url`, with `nonce` and the `ath` of `token`.
    pub fn proof(&self, method: &str, url: &str, nonce: &str, token: Option<&str>) -> String {
        self.sign(&self.header(), &claims(method, url, nonce, token))
    }
}

/// A proof's claims as the browser makes them.
pub fn claims(method: &str, url: &str, nonce: &str, token: Option<&str>) -> Value {
    let mut claims = json!({
        "jti": uuid::Uuid::new_v4().to_string(),
        "htm": method,
        "htu": url,
        "iat": tokenpair::auth::unix_now(),
        "nonce": nonce,
    });
    if let Some(token) = token {
        claims["ath"] = b64(Sha256::digest(token.as_bytes())).into();
    }
    claims
}

/// The claims of a JWT, unverified.
pub fn payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}
