//! Which code checks a JWT's signature. jsonwebtoken leaves its cryptography to a provider,
//! and this one checks the two algorithms we verify on every request with ring (already in
//! the build: rustls uses it): EdDSA, the access and refresh tokens' algorithm and the browser
//! key's where it has Ed25519, and ES256, the browser key's elsewhere. RustCrypto's P-256
//! verification, jsonwebtoken's default, took three times as long as ring's, which made a
//! DPoP proof by an ES256 key cost more than the rest of the request. Signing, and every
//! algorithm we never accept, stay with RustCrypto.

use std::sync::{LazyLock, Once};

use jsonwebtoken::crypto::{rust_crypto, CryptoProvider, JwtVerifier};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{Error, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use ring::signature::{UnparsedPublicKey, VerificationAlgorithm, ECDSA_P256_SHA256_FIXED, ED25519};

static PROVIDER: LazyLock<CryptoProvider> = LazyLock::new(|| CryptoProvider {
    verifier_factory: new_verifier,
    ..rust_crypto::DEFAULT_PROVIDER.clone()
});

/// Makes this the process's provider. Call it before the first JWT or JWK is handled
/// (`server::build_state` does, first thing): the first use fixes jsonwebtoken's default for
/// good.
pub fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        if LazyLock::force(&PROVIDER).install_default().is_err() {
            tracing::warn!("a JWT was handled before the signature provider was installed");
        }
    });
}

/// Whether this is the process's provider.
pub fn installed() -> bool {
    CryptoProvider::try_get_default()
        .is_some_and(|provider| std::ptr::eq(provider, LazyLock::force(&PROVIDER)))
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    let (verification, family): (&'static dyn VerificationAlgorithm, _) = match algorithm {
        Algorithm::EdDSA => (&ED25519, AlgorithmFamily::Ed),
        Algorithm::ES256 => (&ECDSA_P256_SHA256_FIXED, AlgorithmFamily::Ec),
        _ => return (rust_crypto::DEFAULT_PROVIDER.verifier_factory)(algorithm, key),
    };
    if key.family() != family {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    let public_key = key.try_get_as_bytes()?.to_vec();
    Ok(Box::new(RingVerifier {
        algorithm: *algorithm,
        key: UnparsedPublicKey::new(verification, public_key),
    }))
}

/// A public key (Ed25519's 32 bytes, or P-256's uncompressed point) and what it signs with.
struct RingVerifier {
    algorithm: Algorithm,
    key: UnparsedPublicKey<Vec<u8>>,
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> std::result::Result<(), Error> {
        self.key.verify(message, signature).map_err(|_| Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

#[cfg(test)]
mod tests {
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

    use super::*;

    const MESSAGE: &[u8] = b"header.claims";

    fn checks(algorithm: Algorithm, key: &DecodingKey, signature: &[u8]) -> bool {
        new_verifier(&algorithm, key).expect("a verifier").verify(MESSAGE, &signature.to_vec()).is_ok()
    }

    #[test]
    fn ed25519_signatures_are_checked_by_ring() {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("key");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("key");
        let key = DecodingKey::from_ed_der(pair.public_key().as_ref());
        let mut signature = pair.sign(MESSAGE).as_ref().to_vec();

        assert!(checks(Algorithm::EdDSA, &key, &signature));
        signature[0] ^= 1;
        assert!(!checks(Algorithm::EdDSA, &key, &signature), "a changed signature fails");
    }

    #[test]
    fn p256_signatures_are_checked_by_ring() {
        let random = SystemRandom::new();
        let signing = &ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &random).expect("key");
        let pair = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &random).expect("key");
        let key = DecodingKey::from_ec_der(pair.public_key().as_ref());
        let mut signature = pair.sign(&random, MESSAGE).expect("signed").as_ref().to_vec();

        assert!(checks(Algorithm::ES256, &key, &signature));
        signature[40] ^= 1;
        assert!(!checks(Algorithm::ES256, &key, &signature), "a changed signature fails");
    }

    #[test]
    fn a_key_of_another_family_is_refused() {
        let key = DecodingKey::from_ed_der(&[7; 32]);
        assert!(new_verifier(&Algorithm::ES256, &key).is_err());
    }

    #[test]
    fn other_algorithms_go_to_rust_crypto() {
        let key = DecodingKey::from_secret(b"a shared secret").expect("a key");
        assert_eq!(new_verifier(&Algorithm::HS256, &key).expect("a verifier").algorithm(), Algorithm::HS256);
    }
}
