//! The Ed25519 key ring. Keys are generated at first start and kept in the database, so a
//! restart logs nobody out and there is no key or secret in the code or the environment.
//!
//! Rotation (`tokenpair keys rotate`) publishes a new key at once and lets it sign only from
//! `ACTIVATION_DELAY` later: by then every running instance has reloaded the ring and can
//! verify what it signs. The old key is retired at that moment but keeps verifying what it
//! signed before, for as long as that can live: an access token until `retired_at` plus the
//! access lifetime, a refresh token until its own expiry. So rotating logs nobody out.
//!
//! Revocation (`tokenpair keys revoke <kid>`, for a key that may have leaked) deletes the key:
//! every token it signed is refused at once on every instance (the revocation row's
//! notification reloads each ring, `revocation_feed.rs`), and a key that signs now takes its
//! place if it was the one signing. Its users log in again: that is what a leaked key costs.
//!
//! Seeds are stored sealed when `SIGNING_KEY_ENCRYPTION_KEY_FILE` is set (`seed_cipher.rs`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ed25519_dalek::pkcs8::{EncodePrivateKey, KeypairBytes};
use ed25519_dalek::SigningKey;
use jsonwebtoken::jwk::{CommonParameters, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rand_core::OsRng;

use super::seed_cipher::{SealError, SeedCipher};
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
    #[error(transparent)]
    Sealed(#[from] SealError),
    #[error("there is no signing key {0} (the JWKS at /.well-known/jwks.json lists the key ids)")]
    Unknown(String),
}

struct Signer {
    kid: String,
    key: EncodingKey,
    activates_at: i64,
    retired_at: Option<i64>,
}

/// A key that verifies, and when it stopped signing, if it did.
pub struct Verifier {
    pub key: DecodingKey,
    pub retired_at: Option<i64>,
}

/// One loaded snapshot of the keys.
pub struct KeyRing {
    /// Newest activation first.
    signers: Vec<Signer>,
    verifying: HashMap<String, Verifier>,
    jwks: JwkSet,
}

impl KeyRing {
    async fn load(pool: &Pool, cipher: &SeedCipher) -> Result<Self, KeyError> {
        let mut signers = Vec::new();
        let mut verifying = HashMap::new();
        let mut jwks = JwkSet { keys: Vec::new() };
        for row in db::keys::all(pool).await? {
            let seed = cipher.open(&row.kid, &row.private_key)?;
            let key = SigningKey::from_bytes(&seed);
            if key.verifying_key().as_bytes() != row.public_key.as_slice() {
                return Err(KeyError::Corrupt { kid: row.kid });
            }
            let verifier =
                Verifier { key: DecodingKey::from_ed_der(&row.public_key), retired_at: row.retired_at };
            verifying.insert(row.kid.clone(), verifier);
            jwks.keys.push(public_jwk(&key, Some(row.kid.clone()))?);
            if row.retired_at.is_none_or(|retired| retired > row.activates_at) {
                signers.push(Signer {
                    kid: row.kid,
                    key: encoding_key(&key)?,
                    activates_at: row.activates_at,
                    retired_at: row.retired_at,
                });
            }
        }
        Ok(Self { signers, verifying, jwks })
    }

    /// The key id and key that sign a token now: the newest key already active and not yet
    /// retired (or, should none be, the oldest that may sign).
    pub fn signer(&self, now: i64) -> Option<(&str, &EncodingKey)> {
        let signs_now =
            |s: &&Signer| s.activates_at <= now && s.retired_at.is_none_or(|retired| retired > now);
        let active = self.signers.iter().find(signs_now).or(self.signers.last())?;
        Some((&active.kid, &active.key))
    }

    /// The key that verifies tokens carrying this `kid`, if we know it.
    pub fn verifier(&self, kid: &str) -> Option<&Verifier> {
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
    /// A key's retirement moved earlier: tokens it verified may no longer pass.
    retired_earlier: bool,
}

impl Reloaded {
    /// Whether a token verified before the reload may be refused after it.
    pub fn narrowed(&self) -> bool {
        self.removed_any || self.retired_earlier
    }
}

/// The shared, reloadable key ring.
pub struct Keys {
    ring: RwLock<Arc<KeyRing>>,
    cipher: SeedCipher,
}

impl Keys {
    /// Loads the keys, generating the first one if the database has none, and seals any seed
    /// stored plain if `cipher` encrypts.
    pub async fn load_or_create(pool: &Pool, cipher: SeedCipher) -> Result<Self, KeyError> {
        let first = NewKeyPair::generate()?;
        if db::keys::insert_first(pool, first.row(unix_now(), &cipher)).await? {
            tracing::info!(kid = %first.kid, "generated the first Ed25519 signing key");
        }
        seal_plain_seeds(pool, &cipher).await?;
        let ring = KeyRing::load(pool, &cipher).await?;
        if ring.signers.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(Self { ring: RwLock::new(Arc::new(ring)), cipher })
    }

    /// How this ring's seeds are stored.
    pub fn cipher(&self) -> &SeedCipher {
        &self.cipher
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
        let fresh = Arc::new(KeyRing::load(pool, &self.cipher).await?);
        let previous = match self.ring.write() {
            Ok(mut ring) => std::mem::replace(&mut *ring, fresh),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), fresh),
        };
        let current = self.ring();
        let removed_any = previous.verifying.keys().any(|kid| current.verifier(kid).is_none());
        let retired_earlier = previous.verifying.iter().any(|(kid, before)| {
            let after = current.verifier(kid).and_then(|verifier| verifier.retired_at);
            after.is_some_and(|after| before.retired_at.is_none_or(|before| after < before))
        });
        Ok(Reloaded { removed_any, retired_earlier })
    }
}

/// Seals, in place, every seed still stored plain (a database from before the key file was
/// set). Each row is replaced only if it still holds the plain seed, so instances starting at
/// once seal each seed once.
async fn seal_plain_seeds(pool: &Pool, cipher: &SeedCipher) -> Result<(), KeyError> {
    for row in db::keys::all(pool).await?.into_iter().filter(|row| cipher.would_seal(&row.private_key)) {
        let seed = cipher.open(&row.kid, &row.private_key)?;
        let sealed = cipher.seal(&row.kid, &seed);
        if db::keys::replace_private_key(pool, &row.kid, &row.private_key, &sealed).await? {
            tracing::info!(kid = %row.kid, "sealed a signing key stored in plain");
        }
    }
    Ok(())
}

/// Adds a new key that signs from `activates_at`, retiring the current one at that moment, and
/// deletes keys retired so long ago that no token they signed can still be valid.
pub async fn rotate(
    pool: &Pool,
    cipher: &SeedCipher,
    longest_token_lifetime: Duration,
) -> Result<(String, i64), KeyError> {
    let now = unix_now();
    let activates_at = now + ACTIVATION_DELAY.as_secs() as i64;
    let pair = NewKeyPair::generate()?;
    db::keys::insert_and_retire_older(pool, pair.row(activates_at, cipher)).await?;
    let kid = pair.kid;
    let pruned = db::keys::delete_retired_before(pool, now - longest_token_lifetime.as_secs() as i64).await?;
    tracing::info!(%kid, activates_at, pruned, "rotated the signing key");
    Ok((kid, activates_at))
}

/// What revoking a key did.
#[derive(Debug)]
pub struct KeyRevoked {
    /// The key that signs in its place, when it was the one signing.
    pub replaced_by: Option<String>,
}

/// Deletes the key `kid` and records its revocation, in one transaction: every instance drops
/// it from its ring at the notification (or within 15 s), and every token it signed is refused.
/// If no other key could sign, a new one signs at once (no activation delay: the instances learn
/// it from the same notification, and a leaked key must not sign a minute longer).
pub async fn revoke(pool: &Pool, cipher: &SeedCipher, kid: &str) -> Result<KeyRevoked, KeyError> {
    let now = unix_now();
    let rows = db::keys::all(pool).await?;
    if !rows.iter().any(|row| row.kid == kid) {
        return Err(KeyError::Unknown(kid.into()));
    }
    let another_signs = rows.iter().any(|row| row.kid != kid && row.retired_at.is_none_or(|at| at > now));
    let replacement = if another_signs { None } else { Some(NewKeyPair::generate()?) };
    let row = replacement.as_ref().map(|pair| pair.row(now, cipher));
    db::keys::revoke(pool, kid, row, now).await?;
    let replaced_by = replacement.map(|pair| pair.kid.clone());
    tracing::warn!(%kid, ?replaced_by, "revoked a signing key: every token it signed is refused");
    Ok(KeyRevoked { replaced_by })
}

/// A freshly generated key pair, named by its RFC 7638 thumbprint.
struct NewKeyPair {
    kid: String,
    seed: zeroize::Zeroizing<[u8; 32]>,
    public_key: [u8; 32],
    /// The seed as stored, filled in by `row`.
    stored: std::sync::OnceLock<Vec<u8>>,
}

impl NewKeyPair {
    fn generate() -> Result<Self, KeyError> {
        let key = SigningKey::generate(&mut OsRng);
        let kid = public_jwk(&key, None)?.thumbprint(ThumbprintHash::SHA256).map_err(encode_error)?;
        Ok(Self {
            kid,
            seed: zeroize::Zeroizing::new(key.to_bytes()),
            public_key: key.verifying_key().to_bytes(),
            stored: std::sync::OnceLock::new(),
        })
    }

    /// The row to insert, its seed sealed by `cipher` (or plain).
    fn row(&self, activates_at: i64, cipher: &SeedCipher) -> NewKey<'_> {
        let stored = self.stored.get_or_init(|| cipher.seal(&self.kid, &self.seed));
        NewKey {
            kid: &self.kid,
            private_key: stored,
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
