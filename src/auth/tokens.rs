//! Signing and verifying the two kinds of JWT. Every check is set here explicitly rather than
//! left to library defaults: EdDSA only, the `typ` of the kind expected, a known `kid`, our
//! issuer and audience, `exp` and `nbf` with a small leeway, and a size cap before any parsing.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{decode, decode_header, encode, Algorithm, Header, Validation};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use super::claims::{
    AccessClaims, Confirmation, DeviceClaims, Lifetime, RefreshClaims, AUDIENCE, DEVICE_AUDIENCE, ISSUER,
    REFRESH_AUDIENCE,
};
use super::dpop::{Dpop, ProofError, Proven, Target};
use super::keys::{KeyError, Keys};
use super::revoked::{Refused, RevokedSet};
use super::verified::{Lookup, VerifiedTokens};
use crate::api::User;
use crate::config::Config;
use crate::db::Pool;

/// RFC 9068's media type for access tokens.
pub const ACCESS_TYP: &str = "at+jwt";
/// Our own type for refresh tokens, so neither kind is accepted where the other is expected.
pub const REFRESH_TYP: &str = "refresh+jwt";
/// Device cookies (`device.rs`): never accepted as either of the other two.
pub const DEVICE_TYP: &str = "device+jwt";
/// Clock skew tolerated between this server and another that issued or checks a token.
const LEEWAY_SECS: u64 = 5;
/// Longer tokens are refused before any base64 or signature work.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// A freshly signed token with the facts the caller stores or sends back.
pub struct Signed {
    pub token: String,
    pub jti: String,
    pub expires_at: i64,
}

/// Why a token was refused; logged, never sent to the client.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    #[error("token longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    #[error("unreadable header: {0}")]
    Header(jsonwebtoken::errors::Error),
    #[error("typ is {0:?}, expected {1}")]
    WrongType(Option<String>, &'static str),
    #[error("unknown or missing kid")]
    UnknownKey,
    #[error("{0}")]
    Invalid(jsonwebtoken::errors::Error),
    /// RFC 7515 §4.1.11: a recipient must refuse extensions it does not understand, and we
    /// understand none.
    #[error("crit header: an extension this server does not implement")]
    Critical,
    #[error("issued {0} s in the future")]
    IssuedInTheFuture(i64),
    #[error("lives {0} s, longer than its kind may")]
    LivesTooLong(i64),
    #[error("{0}")]
    Revoked(#[from] Refused),
    #[error("signed by a key retired too long ago for a token of this kind, or after it retired")]
    RetiredKey,
}

/// How long a device cookie's token lives (`device.rs`).
pub const DEVICE_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

pub struct Tokens {
    pub keys: Keys,
    verified: VerifiedTokens,
    /// What was revoked within the last access lifetime (`revoked.rs`).
    pub revoked: RevokedSet,
    validation: Validation,
    /// The same checks without `exp`: for the expired access token a refresh may carry.
    validation_ignoring_expiry: Validation,
    /// The same checks for the audiences of refresh and device tokens.
    refresh_validation: Validation,
    device_validation: Validation,
    pub access_ttl: Duration,
    /// How far each refresh slides a session's expiry.
    pub refresh_ttl: Duration,
    /// The absolute cap on a session, however active, if one is set.
    pub session_max_lifetime: Option<Duration>,
    /// How long a just-rotated refresh token still gets its successor again (`rotation.rs`).
    pub reuse_grace: Duration,
    /// DPoP proofs and nonces (`dpop.rs`).
    pub dpop: Dpop,
}

impl Tokens {
    pub fn new(keys: Keys, config: &Config) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let mut validation_ignoring_expiry = validation.clone();
        validation_ignoring_expiry.validate_exp = false;
        let for_audience = |audience: &str| {
            let mut other = validation.clone();
            other.set_audience(&[audience]);
            other
        };
        let (refresh_validation, device_validation) =
            (for_audience(REFRESH_AUDIENCE), for_audience(DEVICE_AUDIENCE));
        Self {
            keys,
            verified: VerifiedTokens::new(config.verified_token_cache, LEEWAY_SECS as i64),
            revoked: RevokedSet::new(config.access_token_ttl, LEEWAY_SECS as i64),
            validation,
            validation_ignoring_expiry,
            refresh_validation,
            device_validation,
            access_ttl: config.access_token_ttl,
            refresh_ttl: config.refresh_token_ttl,
            session_max_lifetime: config.session_max_lifetime,
            reuse_grace: config.refresh_reuse_grace,
            dpop: Dpop::new(config.dpop),
        }
    }

    /// When a session started (`None`) or refreshed at `now` expires: one refresh lifetime on,
    /// never past its cap.
    pub fn session_expiry(&self, now: i64, max_expires_at: Option<i64>) -> i64 {
        let slid = now + self.refresh_ttl.as_secs() as i64;
        max_expires_at.map_or(slid, |cap| slid.min(cap))
    }

    /// The cap of a session that starts at `now`, if `SESSION_MAX_LIFETIME` sets one.
    pub fn session_cap(&self, now: i64) -> Option<i64> {
        self.session_max_lifetime.map(|cap| now + cap.as_secs() as i64)
    }

    /// Signs an access token for `user` in session `sid`, bound to the DPoP key of thumbprint
    /// `jkt` if there is one (`dpop.rs`).
    pub fn sign_access(
        &self,
        user: &User,
        sid: &str,
        jkt: Option<&str>,
        now: i64,
    ) -> Result<Signed, jsonwebtoken::errors::Error> {
        let jti = super::new_id();
        let exp = now + self.access_ttl.as_secs() as i64;
        let claims = AccessClaims {
            sub: user.id.clone(),
            sid: sid.into(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            iat: now,
            nbf: now,
            exp,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            jti: jti.clone(),
            cnf: jkt.map(|jkt| Confirmation { jkt: jkt.into() }),
        };
        Ok(Signed { token: self.sign(ACCESS_TYP, &claims)?, jti, expires_at: exp })
    }

    /// Signs a refresh token. Ed25519 signatures are deterministic, so the same claims give
    /// the same token again: that is how a grace-window answer repeats the current one.
    pub fn sign_refresh(&self, claims: &RefreshClaims) -> Result<Signed, jsonwebtoken::errors::Error> {
        let token = self.sign(REFRESH_TYP, claims)?;
        Ok(Signed { token, jti: claims.jti.clone(), expires_at: claims.exp })
    }

    /// Verifies an access token, or finds it among those verified before (see `verified.rs`),
    /// and refuses it if its session or user was revoked since (`revoked.rs`): the whole check,
    /// with no database query.
    pub fn verify_access(&self, token: &str) -> Result<Arc<AccessClaims>, Rejected> {
        let claims = self.verify_access_signature(token)?;
        self.revoked.check(&claims)?;
        Ok(claims)
    }

    fn verify_access_signature(&self, token: &str) -> Result<Arc<AccessClaims>, Rejected> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Rejected::TooLong);
        }
        let remember = match self.verified.get(token, super::unix_now()) {
            Lookup::Hit(claims) => return Ok(claims),
            Lookup::Miss(key) => Some(key),
            Lookup::Off => None,
        };
        let claims = Arc::new(self.verify(token, ACCESS_TYP, self.access_ttl)?);
        if let Some(key) = remember {
            self.verified.insert(key, Arc::clone(&claims));
        }
        Ok(claims)
    }

    /// Checks a DPoP proof against the request it came with (`dpop.rs`).
    pub fn check_proof(&self, proof: &str, target: &Target) -> Result<Proven, ProofError> {
        self.dpop.check(proof, target, &self.keys.ring(), super::unix_now())
    }

    /// The DPoP nonce to hand out now (`dpop/nonce.rs`), unless DPoP is off.
    pub fn dpop_nonce(&self) -> Option<String> {
        if self.dpop.mode == super::dpop::Mode::Off {
            return None;
        }
        self.dpop.nonces.current(&self.keys.ring(), super::unix_now())
    }

    /// Re-reads the key ring from the database; if a key that verified tokens is gone (it was
    /// revoked, or pruned after its tokens expired) or retired, forgets every verified token.
    pub async fn reload_keys(&self, pool: &Pool) -> Result<(), KeyError> {
        if self.keys.reload(pool).await?.narrowed() {
            self.verified.clear();
        }
        Ok(())
    }

    /// Signs a device cookie's token for `user_id`, valid from `now` for `lifetime`.
    pub fn sign_device(
        &self,
        user_id: &str,
        now: i64,
        lifetime: Duration,
    ) -> Result<Signed, jsonwebtoken::errors::Error> {
        let jti = super::new_id();
        let exp = now + lifetime.as_secs() as i64;
        let claims = DeviceClaims {
            sub: user_id.into(),
            iat: now,
            nbf: now,
            exp,
            iss: ISSUER.into(),
            aud: DEVICE_AUDIENCE.into(),
            jti: jti.clone(),
        };
        Ok(Signed { token: self.sign(DEVICE_TYP, &claims)?, jti, expires_at: exp })
    }

    pub fn verify_device(&self, token: &str) -> Result<DeviceClaims, Rejected> {
        self.verify_with(token, DEVICE_TYP, &self.device_validation, DEVICE_LIFETIME)
    }

    pub fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, Rejected> {
        self.verify_with(token, REFRESH_TYP, &self.refresh_validation, self.refresh_ttl)
    }

    /// Verifies an access token's signature and claims but accepts it expired: a refresh
    /// request may carry the token it replaces, to prove the two belong together.
    pub fn verify_access_ignoring_expiry(&self, token: &str) -> Result<AccessClaims, Rejected> {
        self.verify_with(token, ACCESS_TYP, &self.validation_ignoring_expiry, self.access_ttl)
    }

    fn sign(&self, typ: &str, claims: &impl Serialize) -> Result<String, jsonwebtoken::errors::Error> {
        let ring = self.keys.ring();
        let (kid, key) = ring.signer(super::unix_now()).ok_or_else(|| {
            jsonwebtoken::errors::Error::from(jsonwebtoken::errors::ErrorKind::InvalidEddsaKey)
        })?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(typ.into());
        header.kid = Some(kid.into());
        encode(&header, claims, key)
    }

    fn verify<C: DeserializeOwned + Lifetime>(
        &self,
        token: &str,
        typ: &'static str,
        longest: Duration,
    ) -> Result<C, Rejected> {
        self.verify_with(token, typ, &self.validation, longest)
    }

    /// Every check of a token of kind `typ`, which lives at most `longest`.
    fn verify_with<C: DeserializeOwned + Lifetime>(
        &self,
        token: &str,
        typ: &'static str,
        validation: &Validation,
        longest: Duration,
    ) -> Result<C, Rejected> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Rejected::TooLong);
        }
        // The header is read only to pick the key; `jku`, `jwk` and `x5u` are never followed,
        // and `decode` below checks `alg` against the allow-list again.
        let header = decode_header(token).map_err(Rejected::Header)?;
        if header.typ.as_deref() != Some(typ) {
            return Err(Rejected::WrongType(header.typ, typ));
        }
        let ring = self.keys.ring();
        let verifier =
            header.kid.as_deref().and_then(|kid| ring.verifier(kid)).ok_or(Rejected::UnknownKey)?;
        if names_critical_extensions(token) {
            return Err(Rejected::Critical);
        }
        let claims = decode::<C>(token, &verifier.key, validation)
            .map(|data| data.claims)
            .map_err(Rejected::Invalid)?;
        if let Some(retired_at) = verifier.retired_at {
            outlived_its_key(&claims, retired_at, longest)?;
        }
        let ahead = claims.issued_at() - super::unix_now();
        if ahead > LEEWAY_SECS as i64 {
            return Err(Rejected::IssuedInTheFuture(ahead));
        }
        let lives = claims.expires_at() - claims.issued_at();
        if lives > (longest.as_secs() + LEEWAY_SECS) as i64 {
            return Err(Rejected::LivesTooLong(lives));
        }
        Ok(claims)
    }
}

/// A retired key signed nothing after `retired_at`, and what it signed before lives at most
/// `longest`: past that, or issued later (a forgery with a leaked old key), it is refused.
fn outlived_its_key(claims: &impl Lifetime, retired_at: i64, longest: Duration) -> Result<(), Rejected> {
    let leeway = LEEWAY_SECS as i64;
    let now = super::unix_now();
    if claims.issued_at() > retired_at + leeway || now > retired_at + longest.as_secs() as i64 + leeway {
        return Err(Rejected::RetiredKey);
    }
    Ok(())
}

/// Whether the token's header has a `crit` member (jsonwebtoken's `Header` drops it unread).
fn names_critical_extensions(token: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        crit: Option<serde::de::IgnoredAny>,
    }
    use base64::Engine;
    let header = token.split('.').next().unwrap_or_default();
    let Ok(json) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header) else { return true };
    serde_json::from_slice::<Probe>(&json).map_or(true, |probe| probe.crit.is_some())
}
