//! Access tokens this server has already verified, so the next request carrying the same token
//! skips the Ed25519 signature check (about 50 µs of CPU, most of what `/api/me` costs).
//!
//! - Keyed by the SHA-256 of the whole token: changing any byte of it misses the cache, and
//!   nobody can make another string collide with a cached token.
//! - Only tokens that passed every check get in, and a hit is still refused once the token's
//!   `exp` has passed (with the same leeway as the full check), so the cache never extends a
//!   token's life. `nbf` needs no second look: it had passed, and time only moves on.
//! - Bounded (`VERIFIED_TOKEN_CACHE` entries, a few hundred bytes each; 0 turns it off), with
//!   quick_cache's S3-FIFO eviction.
//! - Emptied whenever a verifying key disappears from the ring or retires (`Tokens::reload_keys`),
//!   so a revoked key stops working here no later than it would without the cache.
//! - A hit still goes through the revocation set (`revoked.rs`): the cache remembers signatures,
//!   not that a session is live.

use std::sync::Arc;

use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};

use super::claims::AccessClaims;

type Key = [u8; 32];

pub struct VerifiedTokens {
    /// `None` when the cache is off.
    cache: Option<Cache<Key, Arc<AccessClaims>>>,
    leeway_secs: i64,
}

impl VerifiedTokens {
    pub fn new(capacity: usize, leeway_secs: i64) -> Self {
        Self { cache: (capacity > 0).then(|| Cache::new(capacity)), leeway_secs }
    }

    /// The claims of `token` if it was verified before and has not expired by `now`, with the
    /// key under which to remember it otherwise.
    pub fn get(&self, token: &str, now: i64) -> Lookup {
        let Some(cache) = &self.cache else { return Lookup::Off };
        let key: Key = Sha256::digest(token.as_bytes()).into();
        match cache.get(&key) {
            Some(claims) if claims.exp >= now - self.leeway_secs => Lookup::Hit(claims),
            _ => Lookup::Miss(key),
        }
    }

    /// Remembers the claims of a token that just passed every check.
    pub fn insert(&self, key: Key, claims: Arc<AccessClaims>) {
        if let Some(cache) = &self.cache {
            cache.insert(key, claims);
        }
    }

    /// Forgets everything (a key was revoked).
    pub fn clear(&self) {
        if let Some(cache) = &self.cache {
            cache.clear();
        }
    }
}

pub enum Lookup {
    Hit(Arc<AccessClaims>),
    Miss(Key),
    Off,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Arc<AccessClaims> {
        Arc::new(AccessClaims {
            sub: "user".into(),
            sid: "session".into(),
            email: "a@example.com".into(),
            email_verified: false,
            iat: exp - 900,
            nbf: exp - 900,
            exp,
            iss: "tokenpair".into(),
            aud: "tokenpair".into(),
            jti: "jti".into(),
            cnf: None,
        })
    }

    fn remember(cache: &VerifiedTokens, token: &str, exp: i64) {
        let Lookup::Miss(key) = cache.get(token, 0) else { panic!("a new token misses") };
        cache.insert(key, claims(exp));
    }

    #[test]
    fn a_remembered_token_hits_until_its_exp_plus_leeway_and_no_later() {
        let cache = VerifiedTokens::new(100, 5);
        remember(&cache, "a.b.c", 1000);
        assert!(matches!(cache.get("a.b.c", 999), Lookup::Hit(c) if c.exp == 1000));
        assert!(matches!(cache.get("a.b.c", 1005), Lookup::Hit(_)));
        assert!(matches!(cache.get("a.b.c", 1006), Lookup::Miss(_)), "expired: the full check decides");
    }

    #[test]
    fn any_other_string_misses() {
        let cache = VerifiedTokens::new(100, 5);
        remember(&cache, "a.b.c", 1000);
        for other in ["a.b.d", "a.b.c ", "A.b.c", ""] {
            assert!(matches!(cache.get(other, 0), Lookup::Miss(_)), "{other:?}");
        }
    }

    #[test]
    fn clearing_forgets_and_capacity_zero_is_off() {
        let cache = VerifiedTokens::new(100, 5);
        remember(&cache, "a.b.c", 1000);
        cache.clear();
        assert!(matches!(cache.get("a.b.c", 0), Lookup::Miss(_)));
        assert!(matches!(VerifiedTokens::new(0, 5).get("a.b.c", 0), Lookup::Off));
    }
}
