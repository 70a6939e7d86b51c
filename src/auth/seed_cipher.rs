//! Signing-key seeds at rest. Without `SIGNING_KEY_ENCRYPTION_KEY_FILE` a seed is stored as its
//! 32 bytes, and whoever reads the database (a backup, a replica, a leaked dump) holds a key
//! that signs tokens for any user. With it, each seed is sealed with AES-256-GCM (RustCrypto's
//! `aes-gcm`) under that key, kept outside the database:
//!
//! - stored form: `tpk1` ‖ a random 96-bit nonce ‖ the ciphertext and its 128-bit tag (64 bytes);
//! - the key id is the associated data, so a sealed seed moved to another row does not open;
//! - a database with both forms is fine: plain seeds are sealed in place at start-up
//!   (`keys.rs`), and a sealed seed without the key, or with another key, stops the server
//!   with a message saying so, rather than signing with nothing.
//!
//! The key file holds 32 random bytes, in base64 or hex (`openssl rand -base64 32`); its bytes
//! never appear in a log or in `Debug` output.

use std::path::Path;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use zeroize::Zeroizing;

/// What a sealed seed starts with (and a plain 32-byte seed, by its length, cannot be).
const MAGIC: &[u8; 4] = b"tpk1";
const NONCE_BYTES: usize = 12;
const SEED_BYTES: usize = 32;
const SEALED_BYTES: usize = MAGIC.len() + NONCE_BYTES + SEED_BYTES + 16;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("SIGNING_KEY_ENCRYPTION_KEY_FILE: cannot read {0}: {1}")]
    Unreadable(String, #[source] std::io::Error),
    #[error(
        "SIGNING_KEY_ENCRYPTION_KEY_FILE: {0} must hold 32 bytes in base64 or hex (openssl rand -base64 32)"
    )]
    Malformed(String),
    #[error(
        "signing key {0} is stored encrypted: set SIGNING_KEY_ENCRYPTION_KEY_FILE to the key it was sealed with"
    )]
    NeedsKey(String),
    #[error("signing key {0} does not open with this SIGNING_KEY_ENCRYPTION_KEY_FILE (another key, or a damaged row)")]
    WrongKey(String),
    #[error("signing key {0} in the database is neither a seed nor a sealed seed")]
    Unrecognised(String),
}

/// Seals and opens seeds, or passes them through when no key is configured.
pub struct SeedCipher {
    cipher: Option<Aes256Gcm>,
}

impl std::fmt::Debug for SeedCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedCipher").field("encrypts", &self.encrypts()).finish()
    }
}

impl SeedCipher {
    /// Seeds stored as they are.
    pub fn plain() -> Self {
        Self { cipher: None }
    }

    /// The cipher of the key in `path`, or plain when there is none.
    pub fn from_key_file(path: Option<&Path>) -> Result<Self, SealError> {
        let Some(path) = path else { return Ok(Self::plain()) };
        let shown = path.display().to_string();
        let text = Zeroizing::new(
            std::fs::read_to_string(path).map_err(|err| SealError::Unreadable(shown.clone(), err))?,
        );
        let key = decode_key(text.trim()).ok_or(SealError::Malformed(shown))?;
        Ok(Self::with_key(&key))
    }

    /// The cipher of a 32-byte key.
    pub fn with_key(key: &[u8; 32]) -> Self {
        Self { cipher: Some(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))) }
    }

    /// Whether seeds are stored sealed.
    pub fn encrypts(&self) -> bool {
        self.cipher.is_some()
    }

    /// The stored form of `seed` for the key `kid`.
    pub fn seal(&self, kid: &str, seed: &[u8; SEED_BYTES]) -> Vec<u8> {
        let Some(cipher) = &self.cipher else { return seed.to_vec() };
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload { msg: seed, aad: kid.as_bytes() };
        // Encrypting 32 bytes into a Vec cannot fail (the limit is 64 GiB).
        let sealed = cipher.encrypt(&nonce, payload).unwrap_or_default();
        [MAGIC.as_slice(), nonce.as_slice(), &sealed].concat()
    }

    /// The seed of a stored form, sealed or plain.
    pub fn open(&self, kid: &str, stored: &[u8]) -> Result<Zeroizing<[u8; SEED_BYTES]>, SealError> {
        if let Ok(seed) = <[u8; SEED_BYTES]>::try_from(stored) {
            return Ok(Zeroizing::new(seed));
        }
        if stored.len() != SEALED_BYTES || !stored.starts_with(MAGIC) {
            return Err(SealError::Unrecognised(kid.into()));
        }
        let cipher = self.cipher.as_ref().ok_or_else(|| SealError::NeedsKey(kid.into()))?;
        let (nonce, sealed) = stored[MAGIC.len()..].split_at(NONCE_BYTES);
        let payload = Payload { msg: sealed, aad: kid.as_bytes() };
        let opened = Zeroizing::new(
            cipher.decrypt(Nonce::from_slice(nonce), payload).map_err(|_| SealError::WrongKey(kid.into()))?,
        );
        let seed =
            <[u8; SEED_BYTES]>::try_from(opened.as_slice()).map_err(|_| SealError::WrongKey(kid.into()))?;
        Ok(Zeroizing::new(seed))
    }

    /// Whether `stored` is a plain seed that this cipher would seal.
    pub fn would_seal(&self, stored: &[u8]) -> bool {
        self.encrypts() && stored.len() == SEED_BYTES
    }
}

fn decode_key(text: &str) -> Option<[u8; 32]> {
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()).collect::<Option<Vec<u8>>>()?
    } else {
        base64::engine::general_purpose::STANDARD.decode(text).ok()?
    };
    let bytes = Zeroizing::new(bytes);
    <[u8; 32]>::try_from(bytes.as_slice()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: [u8; 32] = [7; 32];

    #[test]
    fn a_sealed_seed_opens_with_its_key_and_kid_only() {
        let cipher = SeedCipher::with_key(&[1; 32]);
        let sealed = cipher.seal("kid-a", &SEED);
        assert_eq!(sealed.len(), SEALED_BYTES);
        assert!(!sealed.windows(SEED.len()).any(|window| window == SEED), "the seed is not in it");
        assert_eq!(*cipher.open("kid-a", &sealed).expect("opens"), SEED);
        assert!(matches!(cipher.open("kid-b", &sealed), Err(SealError::WrongKey(_))), "another row");
        let other = SeedCipher::with_key(&[2; 32]);
        assert!(matches!(other.open("kid-a", &sealed), Err(SealError::WrongKey(_))), "another key");
        assert!(matches!(SeedCipher::plain().open("kid-a", &sealed), Err(SealError::NeedsKey(_))));
        assert_ne!(cipher.seal("kid-a", &SEED), sealed, "a fresh nonce each time");
    }

    #[test]
    fn plain_seeds_pass_through_and_garbage_is_refused() {
        let plain = SeedCipher::plain();
        assert_eq!(plain.seal("k", &SEED), SEED.to_vec());
        assert_eq!(*plain.open("k", &SEED).expect("plain"), SEED);
        assert!(SeedCipher::with_key(&[1; 32]).would_seal(&SEED));
        assert!(!plain.would_seal(&SEED));
        assert!(matches!(plain.open("k", &[0; 40]), Err(SealError::Unrecognised(_))));
    }

    #[test]
    fn the_key_file_is_base64_or_hex_of_32_bytes() {
        assert_eq!(decode_key(&"ab".repeat(32)), Some([0xab; 32]));
        let b64 = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
        assert_eq!(decode_key(&b64), Some([9; 32]));
        for bad in
            ["", "abcd", &"zz".repeat(32), &base64::engine::general_purpose::STANDARD.encode([1u8; 31])]
        {
            assert_eq!(decode_key(bad), None, "{bad:?}");
        }
        assert_eq!(format!("{:?}", SeedCipher::with_key(&[1; 32])), "SeedCipher { encrypts: true }");
    }
}
