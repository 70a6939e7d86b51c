//! The Ed25519 key ring. Keys are generated at first start and kept in the database, so a
//! restart logs nobody out and there is no key or secret in the code or the environment.

use std::collections::HashMap;

use ed25519_dalek::pkcs8::{EncodePrivateKey, KeypairBytes};
use ed25519_dalek::SigningKey;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rand_core::OsRng;

use crate::db::{self, Pool};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or store signing keys: {0}")]
    Database(#[from] sqlx::Error),
    #[error("signing key {kid} in the database is not a valid Ed25519 key")]
    Corrupt { kid: String },
    #[error("cannot encode a new signing key: {0}")]
    Encode(String),
}

/// The key that signs new tokens, and every key that may verify one.
pub struct KeyRing {
    signing_kid: String,
    signing_key: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
}

impl KeyRing {
    /// Loads the keys from the database, generating the first one if there is none.
    pub async fn load_or_create(pool: &Pool) -> Result<Self, KeyError> {
        let mut rows = db::keys::all(pool).await?;
        if !rows.iter().any(|row| row.retired_at.is_none()) {
            let key = SigningKey::generate(&mut OsRng);
            let kid = kid_of(&key)?;
            let seed = key.to_bytes();
            let public = key.verifying_key().to_bytes();
            db::keys::insert(pool, &kid, &seed, &public, crate::auth::unix_now()).await?;
            tracing::info!(%kid, "generated a new Ed25519 signing key");
            rows = db::keys::all(pool).await?;
        }

        let mut signing = None;
        let mut verifying = HashMap::new();
        for row in rows {
            let corrupt = || KeyError::Corrupt { kid: row.kid.clone() };
            let seed: [u8; 32] = row.private_key.as_slice().try_into().map_err(|_| corrupt())?;
            let key = SigningKey::from_bytes(&seed);
            if key.verifying_key().as_bytes() != row.public_key.as_slice() {
                return Err(corrupt());
            }
            verifying.insert(row.kid.clone(), DecodingKey::from_ed_der(&row.public_key));
            // Rows come newest first: the first unretired key signs.
            if signing.is_none() && row.retired_at.is_none() {
                signing = Some((row.kid, encoding_key(&key)?));
            }
        }
        let (signing_kid, signing_key) =
            signing.ok_or_else(|| KeyError::Encode("no active signing key".into()))?;
        Ok(Self { signing_kid, signing_key, verifying })
    }

    /// The key id and key that sign new tokens.
    pub fn signer(&self) -> (&str, &EncodingKey) {
        (&self.signing_kid, &self.signing_key)
    }

    /// The key that verifies tokens carrying this `kid`, if we know it.
    pub fn verifier(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.get(kid)
    }
}

fn encoding_key(key: &SigningKey) -> Result<EncodingKey, KeyError> {
    // PKCS#8 v1 (the 48-byte form, without the public key) is what jsonwebtoken's JWK
    // helpers expect; signing accepts either.
    let pkcs8 = KeypairBytes { secret_key: key.to_bytes(), public_key: None };
    let der = pkcs8.to_pkcs8_der().map_err(|err| KeyError::Encode(err.to_string()))?;
    Ok(EncodingKey::from_ed_der(der.as_bytes()))
}

/// The RFC 7638 thumbprint of the public key: a `kid` that names the key by its content.
fn kid_of(key: &SigningKey) -> Result<String, KeyError> {
    let jwk = Jwk::from_encoding_key(&encoding_key(key)?, Algorithm::EdDSA)
        .map_err(|err| KeyError::Encode(err.to_string()))?;
    jwk.thumbprint(ThumbprintHash::SHA256).map_err(|err| KeyError::Encode(err.to_string()))
}
