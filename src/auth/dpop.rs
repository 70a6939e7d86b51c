//! Sender-constrained tokens: OAuth 2.0 Demonstrating Proof of Possession (RFC 9449). The
//! browser holds a key pair it can sign with but cannot export (`client/dpop.rs`); every
//! request that logs in, refreshes or uses an access token carries a fresh proof, a small JWT
//! signed by that key, and a token issued against a proof is bound to the key: worthless to
//! whoever copies it without it. The decisions, all made here:
//!
//! - **What a proof is.** A compact JWS of `typ: dpop+jwt`, `alg` ES256 or EdDSA (nothing
//!   else: no `none`, no HMAC, no RSA), a public `jwk` of that algorithm's kind and curve (one
//!   with a private member is refused), and the claims `jti`, `htm`, `htu`, `iat`, `nonce`,
//!   and `ath` (the SHA-256 of the access token) wherever an access token comes with it.
//! - **What it must match.** `htm` is the request's method and `htu` its URL (scheme, host and
//!   path; the query and fragment are ignored, §4.3), built from the `Host` the request names
//!   and the scheme of the `APP_ORIGIN` with that host.
//! - **Fresh.** `iat` within [`IAT_WINDOW_SECS`] of the server's clock either way; a `nonce`
//!   the server issued lately (`nonce.rs`: any instance issues and accepts the same ones); a
//!   `jti` not seen before on this instance while the proof could pass (`replay.rs`).
//! - **Bound.** A key's name is its RFC 7638 SHA-256 thumbprint: `cnf.jkt` in the access
//!   token and the refresh token, and `sessions.jkt`. A bound access token needs the
//!   `DPoP` scheme and a proof by its key; presented as a bearer it is refused (no
//!   downgrade). A bound session's refresh needs a proof by its key (`rotation.rs`).
//! - **The setting** `DPOP` ([`Mode`]): `optional` binds what is issued against a proof and
//!   leaves other tokens plain bearer tokens; `required` refuses to issue or accept a plain one;
//!   `off` accepts no proof and refuses any bound token.
//! - **Cost.** The access token's signature stays cached (`verified.rs`); a proof's is the one
//!   signature checked per request, and nothing here reads the database.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters, EllipticCurveKeyType,
    Jwk, OctetKeyPairParameters, OctetKeyPairType, ThumbprintHash,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::Url;

use super::keys::KeyRing;

pub mod nonce;
pub mod replay;

pub use nonce::Nonces;
pub use replay::SeenProofs;

/// The `typ` of a DPoP proof (§4.2).
pub const PROOF_TYP: &str = "dpop+jwt";
/// How far a proof's `iat` may be from the server's clock, either way.
pub const IAT_WINDOW_SECS: i64 = 60;
/// Longer proofs are refused before any parsing (ours are about 600 bytes).
pub const MAX_PROOF_BYTES: usize = 4096;
/// The longest `jti` taken (ours are 22 characters).
const MAX_JTI_BYTES: usize = 128;
/// The algorithms a proof may use, as `DPoP-Nonce` challenges name them.
pub const ALGORITHMS: &str = "ES256 EdDSA";

/// The `DPOP` setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// No proofs: every token is a bearer token, and a bound one is refused.
    Off,
    /// Bind what is issued against a proof; plain bearer tokens for clients that send none.
    #[default]
    Optional,
    /// No token without a key: login, registration and refresh need a proof.
    Required,
}

impl Mode {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "off" => Some(Self::Off),
            "optional" => Some(Self::Optional),
            "required" => Some(Self::Required),
            _ => None,
        }
    }
}

/// The request a proof came with, which it must describe.
pub struct Target<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The request's URL without query or fragment.
    pub url: &'a Url,
    /// The access token presented with the proof (resource requests); `ath` must hash it.
    pub access_token: Option<&'a str>,
}

/// Why a proof was refused; logged, and told to the client only as one of two codes.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("more than one DPoP header")]
    Repeated,
    #[error("proof longer than {MAX_PROOF_BYTES} bytes")]
    TooLong,
    #[error("unreadable proof header: {0}")]
    Header(String),
    #[error("typ is {0:?}, expected {PROOF_TYP}")]
    WrongType(Option<String>),
    #[error("alg {0:?} is not one of {ALGORITHMS}")]
    Algorithm(String),
    #[error("the jwk is not a public key of the kind its alg names")]
    WrongKey,
    #[error("the jwk holds a private key")]
    PrivateKey,
    #[error("crit header: an extension this server does not implement")]
    Critical,
    #[error("signature: {0}")]
    Invalid(jsonwebtoken::errors::Error),
    #[error("unreadable claims: {0}")]
    Claims(String),
    #[error("htm {0:?} is not the request's method")]
    Method(String),
    #[error("htu {0:?} is not the request's URL")]
    Url(String),
    #[error("iat is {0} s from now")]
    Stale(i64),
    #[error("ath missing or not the presented access token's hash")]
    AccessTokenHash,
    #[error("jti empty or longer than {MAX_JTI_BYTES} bytes")]
    Jti,
    #[error("jti seen before")]
    Replayed,
    /// Answered with `use_dpop_nonce` and a fresh `DPoP-Nonce`: the client retries.
    #[error("nonce missing or no longer accepted")]
    Nonce,
}

impl ProofError {
    /// Whether the client should retry with the nonce sent along (`use_dpop_nonce`).
    pub fn wants_nonce(&self) -> bool {
        matches!(self, Self::Nonce)
    }
}

/// A proof that passed every check: the thumbprint of the key that signed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proven {
    pub jkt: String,
}

#[derive(Deserialize)]
struct ProofHeader {
    typ: Option<String>,
    alg: String,
    jwk: ProofJwk,
    crit: Option<serde::de::IgnoredAny>,
}

/// The members of the header's `jwk` that an ES256 or EdDSA public key has, and `d`, the
/// private part of either: there, it means a client that leaks keys.
#[derive(Deserialize)]
struct ProofJwk {
    kty: String,
    crv: String,
    x: String,
    y: Option<String>,
    d: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
    ath: Option<String>,
    nonce: Option<String>,
}

/// The proof checks, with their per-instance state.
pub struct Dpop {
    pub mode: Mode,
    pub nonces: Nonces,
    seen: SeenProofs,
}

impl Dpop {
    pub fn new(mode: Mode) -> Self {
        Self { mode, nonces: Nonces::default(), seen: SeenProofs::new(2 * IAT_WINDOW_SECS) }
    }

    /// Every check of `proof` against the request it came with, at `now`; the ring issues
    /// the nonces (`nonce.rs`). A proof that passes is remembered, so it passes only once.
    pub fn check(
        &self,
        proof: &str,
        target: &Target,
        ring: &KeyRing,
        now: i64,
    ) -> Result<Proven, ProofError> {
        let (jkt, claims) = signed_claims(proof)?;
        if claims.htm != target.method {
            return Err(ProofError::Method(claims.htm));
        }
        if !same_url(&claims.htu, target.url) {
            return Err(ProofError::Url(claims.htu));
        }
        if let Some(token) = target.access_token {
            if claims.ath.as_deref() != Some(access_token_hash(token).as_str()) {
                return Err(ProofError::AccessTokenHash);
            }
        }
        if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_BYTES {
            return Err(ProofError::Jti);
        }
        // Before `iat`: a client whose clock is wrong learns the server's time from the answer
        // that hands it the nonce (its `Date`), and its retry then passes.
        if !claims.nonce.as_deref().is_some_and(|nonce| self.nonces.accepts(ring, nonce, now)) {
            return Err(ProofError::Nonce);
        }
        if (claims.iat - now).abs() > IAT_WINDOW_SECS {
            return Err(ProofError::Stale(claims.iat - now));
        }
        if !self.seen.first_use(&jkt, &claims.jti, now) {
            return Err(ProofError::Replayed);
        }
        Ok(Proven { jkt })
    }
}

/// The proof's claims, once its header passed and its signature checked out, and the
/// thumbprint of its key. The proof is taken apart here, once: jsonwebtoken's `decode` would
/// read the header (and its key) again and the claims twice, and none of its claim checks
/// apply to a proof, which has no `exp`.
fn signed_claims(proof: &str) -> Result<(String, ProofClaims), ProofError> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(ProofError::TooLong);
    }
    let not_compact = || ProofError::Header("not a compact JWS".to_owned());
    let (message, signature) = proof.rsplit_once('.').ok_or_else(not_compact)?;
    let (header, payload) = message.split_once('.').ok_or_else(not_compact)?;
    let (key, jkt, alg) = proof_key(header)?;
    match jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, alg) {
        Ok(true) => {}
        Ok(false) => return Err(ProofError::Invalid(ErrorKind::InvalidSignature.into())),
        Err(err) => return Err(ProofError::Invalid(err)),
    }
    let json = URL_SAFE_NO_PAD.decode(payload).map_err(|err| ProofError::Claims(err.to_string()))?;
    let claims = serde_json::from_slice(&json).map_err(|err| ProofError::Claims(err.to_string()))?;
    Ok((jkt, claims))
}

/// Reads the proof's header: its `typ`, `alg` and public key, and that key's thumbprint.
fn proof_key(header: &str) -> Result<(DecodingKey, String, Algorithm), ProofError> {
    let json = URL_SAFE_NO_PAD.decode(header).map_err(|err| ProofError::Header(err.to_string()))?;
    let header: ProofHeader =
        serde_json::from_slice(&json).map_err(|err| ProofError::Header(err.to_string()))?;
    if header.typ.as_deref() != Some(PROOF_TYP) {
        return Err(ProofError::WrongType(header.typ));
    }
    if header.crit.is_some() {
        return Err(ProofError::Critical);
    }
    let alg = match header.alg.as_str() {
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        _ => return Err(ProofError::Algorithm(header.alg)),
    };
    let ProofJwk { kty, crv, x, y, d } = header.jwk;
    if d.is_some() {
        return Err(ProofError::PrivateKey);
    }
    let parameters = match (alg, kty.as_str(), crv.as_str(), y) {
        (Algorithm::ES256, "EC", "P-256", Some(y)) => {
            AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve: EllipticCurve::P256,
                x,
                y,
            })
        }
        (Algorithm::EdDSA, "OKP", "Ed25519", None) => {
            AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x,
            })
        }
        _ => return Err(ProofError::WrongKey),
    };
    let jwk = Jwk { common: CommonParameters::default(), algorithm: parameters };
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| ProofError::WrongKey)?;
    let jkt = jwk.thumbprint(ThumbprintHash::SHA256).map_err(|_| ProofError::WrongKey)?;
    Ok((key, jkt, alg))
}

/// `htu` names `url`: the same scheme, host, port and path once both are normalised (RFC 3986
/// §6: case, default ports, dot segments), whatever query or fragment `htu` adds.
fn same_url(htu: &str, url: &Url) -> bool {
    let Ok(mut htu) = Url::parse(htu) else { return false };
    htu.set_query(None);
    htu.set_fragment(None);
    &htu == url
}

/// `ath`: the base64url SHA-256 of the access token's ASCII (§4.2).
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// What a resource request must prove, from the setting, the token's binding and the scheme
/// it came in.
#[derive(Debug, PartialEq, Eq)]
pub enum Needs<'a> {
    /// A plain bearer token, taken as one.
    Nothing,
    /// A proof by the key of this thumbprint.
    ProofBy(&'a str),
    /// Refused: a bound token as a bearer or under DPoP with the setting off, an unbound one
    /// under `DPoP` or with `required`.
    Refused(&'static str),
}

pub fn resource_needs(mode: Mode, bound_to: Option<&str>, dpop_scheme: bool) -> Needs<'_> {
    match (bound_to, dpop_scheme) {
        (Some(_), _) if mode == Mode::Off => Needs::Refused("a bound token, and DPoP is off"),
        (Some(jkt), true) => Needs::ProofBy(jkt),
        (Some(_), false) => Needs::Refused("a bound token presented as a bearer token"),
        (None, true) => Needs::Refused("an unbound token under the DPoP scheme"),
        (None, false) if mode == Mode::Required => Needs::Refused("a bearer token, and DPoP is required"),
        (None, false) => Needs::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_token_needs_its_key_and_never_passes_as_a_bearer() {
        use Mode::*;
        assert_eq!(resource_needs(Optional, Some("k"), true), Needs::ProofBy("k"));
        assert_eq!(resource_needs(Required, Some("k"), true), Needs::ProofBy("k"));
        assert!(matches!(resource_needs(Optional, Some("k"), false), Needs::Refused(_)));
        assert!(matches!(resource_needs(Off, Some("k"), true), Needs::Refused(_)));
        assert!(matches!(resource_needs(Optional, None, true), Needs::Refused(_)));
        assert!(matches!(resource_needs(Required, None, false), Needs::Refused(_)));
        assert_eq!(resource_needs(Optional, None, false), Needs::Nothing);
        assert_eq!(resource_needs(Off, None, false), Needs::Nothing);
    }

    #[test]
    fn htu_ignores_query_and_fragment_but_not_path_host_or_scheme() {
        let url = Url::parse("https://auth.example.com/api/me").expect("url");
        assert!(same_url("https://auth.example.com/api/me", &url));
        assert!(same_url("https://AUTH.example.com:443/api/me?x=1#y", &url));
        assert!(!same_url("http://auth.example.com/api/me", &url));
        assert!(!same_url("https://auth.example.com/api/me/", &url));
        assert!(!same_url("https://evil.example.com/api/me", &url));
        assert!(!same_url("/api/me", &url));
    }

    #[test]
    fn ath_is_the_base64url_sha256_of_the_token() {
        // RFC 9449 §7.1's example token and its `ath`.
        let token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
        assert_eq!(access_token_hash(token), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
    }
}
