//! The Ed25519 key ring. Keys are generated at first start and kept in the database, so a
//! restart logs nobody out and there is no key or secret in the code or the environment.
//!
//! Rotation (`tokenpair keys rotate`) publishes a new key at once and lets it sign only from
//! `ACTIVATION_DELAY` later: by then every running instance has reloaded the ring and can
//! verify what it signs. The old key is retired at that moment but keeps verifying until every
//! token it signed has expired, so rotating logs nobody out.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ed25519_dalek::pkcs8::{EncodePrivateKey, KeypairBytes};
use ed25519_dalek::SigningKey;
use jsonwebtoken::jwk::{CommonParameters, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rand_core::OsRng;

use crate::auth::unix_now;
use crate::db::{self, keys::NewKey, Pool};

/// How long a rotated-in key is published before it signs.
pub const ACTIVATION_DELAY: Duration = Duration::from_secs(60);
/// How often a running server reloads the ring from the database.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(15);

// Every instance must have reloaded (with a reload to spare) before a new key starts signing.
const _: () = assert!(2 * RELOAD_INTERVAL.as_secs() < ACTIVATION_DELAY.as_secs());

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or store signing keys: {0}")]
    Database(#[from] sqlx::Error),
    #[error("signing key {kid} in the database is not a valid Ed25519 key")]
    Corrupt { kid: String },
    #[error("cannot encode a signing key: {0}")]
    Encode(String),
    #[error("there is no signing key yet")]
    Empty,
}

struct Signer {
    kid: String,
    key: EncodingKey,
    activates_at: i64,
}

/// One loaded snapshot of the keys.
pub struct KeyRing {
    /// Newest activation first.
    signers: Vec<Signer>,
    verifying: HashMap<String, DecodingKey>,
    jwks: JwkSet,
}

impl KeyRing {
    async fn load(pool: &Pool) -> Result<Self, KeyError> {
        let mut signers = Vec::new();
        let mut verifying = HashMap::new();
        let mut jwks = JwkSet { keys: Vec::new() };
        for row in db::keys::all(pool).await? {
            let corrupt = || KeyError::Corrupt { kid: row.kid.clone() };
            let seed: [u8; 32] = row.private_key.as_slice().try_into().map_err(|_| corrupt())?;
            let key = SigningKey::from_bytes(&seed);
            if key.verifying_key().as_bytes() != row.public_key.as_slice() {
                return Err(corrupt());
            }
            verifying.insert(row.kid.clone(), DecodingKey::from_ed_der(&row.public_key));
            jwks.keys.push(public_jwk(&key, Some(row.kid.clone()))?);
            if row.retired_at.is_none_or(|retired| retired > row.activates_at) {
                signers.push(Signer {
                    kid: row.kid,
                    key: encoding_key(&key)?,
                    activates_at: row.activates_at,
                });
            }
        }
        Ok(Self { signers, verifying, jwks })
    }

    /// The key id and key that sign a token now: the newest key already active.
    pub fn signer(&self, now: i64) -> Option<(&str, &EncodingKey)> {
        let active = self.signers.iter().find(|s| s.activates_at <= now).or(self.signers.last())?;
        Some((&active.kid, &active.key))
    }

    /// The key that verifies tokens carrying this `kid`, if we know it.
    pub fn verifier(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.get(kid)
    }

    /// The public keys, as published at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }
}

/// What a reload changed.
pub struct Reloaded {
    /// A key that verified tokens before is gone.
    pub removed_any: bool,
}

/// The shared, reloadable key ring.
pub struct Keys {
    ring: RwLock<Arc<KeyRing>>,
}

impl Keys {
    /// Loads the keys, generating the first one if the database has none.
    pub async fn load_or_create(pool: &Pool) -> Result<Self, KeyError> {
        let first = NewKeyPair::generate()?;
        if db::keys::insert_first(pool, first.row(unix_now())).await? {
            tracing::info!(kid = %first.kid, "generated the first Ed25519 signing key");
        }
        let ring = KeyRing::load(pool).await?;
        if ring.signers.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(Self { ring: RwLock::new(Arc::new(ring)) })
    }

    /// The current snapshot.
    pub fn ring(&self) -> Arc<KeyRing> {
        match self.ring.read() {
            Ok(ring) => Arc::clone(&ring),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Re-reads the keys from the database (another instance or the CLI may have rotated).
    pub async fn reload(&self, pool: &Pool) -> Result<Reloaded, KeyError> {
        let fresh = Arc::new(KeyRing::load(pool).await?);
        let previous = match self.ring.write() {
            Ok(mut ring) => std::mem::replace(&mut *ring, fresh),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), fresh),
        };
        let current = self.ring();
        let removed_any = previous.verifying.keys().any(|kid| current.verifier(kid).is_none());
        Ok(Reloaded { removed_any })
    }
}

/// Adds a new key that signs from `activates_at`, retiring the current one at that moment, and
/// deletes keys retired so long ago that no token they signed can still be valid.
pub async fn rotate(pool: &Pool, longest_token_lifetime: Duration) -> Result<(String, i64), KeyError> {
    let now = unix_now();
    let activates_at = now + ACTIVATION_DELAY.as_secs() as i64;
    let pair = NewKeyPair::generate()?;
    db::keys::insert_and_retire_older(pool, pair.row(activates_at)).await?;
    let kid = pair.kid;
    let pruned = db::keys::delete_retired_before(pool, now - longest_token_lifetime.as_secs() as i64).await?;
    tracing::info!(%kid, activates_at, pruned, "rotated the signing key");
    Ok((kid, activates_at))
}

/// A freshly generated key pair, named by its RFC 7638 thumbprint.
struct NewKeyPair {
    kid: String,
    seed: [u8; 32],
    public_key: [u8; 32],
}

impl NewKeyPair {
    fn generate() -> Result<Self, KeyError> {
        let key = SigningKey::generate(&mut OsRng);
        let kid = public_jwk(&key, None)?.thumbprint(ThumbprintHash::SHA256).map_err(encode_error)?;
        Ok(Self { kid, seed: key.to_bytes(), public_key: key.verifying_key().to_bytes() })
    }

    fn row(&self, activates_at: i64) -> NewKey<'_> {
        NewKey {
            kid: &self.kid,
            private_key: &self.seed,
            public_key: &self.public_key,
            now: unix_now(),
            activates_at,
        }
    }
}

fn encoding_key(key: &SigningKey) -> Result<EncodingKey, KeyError> {
    // PKCS#8 v1, the 48-byte form jsonwebtoken's Ed25519 signer reads.
    let pkcs8 = KeypairBytes { secret_key: key.to_bytes(), public_key: None };
    let der = pkcs8.to_pkcs8_der().map_err(encode_error)?;
    Ok(EncodingKey::from_ed_der(der.as_bytes()))
}

/// The public half as a JWK: `kty` OKP, `crv` Ed25519, `use` sig, `alg` EdDSA.
fn public_jwk(key: &SigningKey, kid: Option<String>) -> Result<Jwk, KeyError> {
    let mut jwk = Jwk::from_encoding_key(&encoding_key(key)?, Algorithm::EdDSA).map_err(encode_error)?;
    jwk.common = CommonParameters {
        public_key_use: Some(PublicKeyUse::Signature),
        key_algorithm: Some(KeyAlgorithm::EdDSA),
        key_id: kid,
        ..CommonParameters::default()
    };
    Ok(jwk)
}

fn encode_error(err: impl std::fmt::Display) -> KeyError {
    KeyError::Encode(err.to_string())
}
