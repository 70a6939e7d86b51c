//! Server nonces (RFC 9449 §8 and §9), so that a proof cannot be made ahead of time: a script
//! that got to run in the page once cannot leave behind proofs for later, because each must
//! carry a nonce the server issued in the last few minutes.
//!
//! - A nonce names a time step of [`STEP_SECS`] and is the Ed25519 signature of that step by
//!   the key that signs tokens now: `{step in hex}.{signature}`. Ed25519 is deterministic, so
//!   every instance sharing the key ring issues the same nonce for a step and accepts the
//!   others' with no shared state and no database read. Nobody without the key can make the
//!   next one.
//! - The signed message starts with a label and holds a NUL byte, so it can never be the
//!   signing input of a JWT (base64url text and a dot).
//! - Accepted: the nonce of the current step or the one before, so a nonce lives one to two
//!   steps. Any other (older, forged, or made by a key rotated out) gets `use_dpop_nonce`
//!   with the current one, and the client retries once.
//! - Each instance signs one nonce per step and remembers the last two: checking one is a
//!   string comparison.

use std::sync::Mutex;

use jsonwebtoken::{crypto, Algorithm};

use crate::auth::keys::KeyRing;

/// How long a time step lasts; a nonce is accepted for the rest of its step and the next.
pub const STEP_SECS: i64 = 120;
const LABEL: &[u8] = b"tokenpair DPoP nonce\0";

#[derive(Default)]
pub struct Nonces {
    /// The nonces made lately: `(step, kid of the key that signed it, nonce)`.
    made: Mutex<Vec<(i64, String, String)>>,
}

impl Nonces {
    /// The nonce to hand out at `now` (in `DPoP-Nonce`), or none if the ring cannot sign.
    pub fn current(&self, ring: &KeyRing, now: i64) -> Option<String> {
        self.for_step(ring, now.div_euclid(STEP_SECS), now)
    }

    /// Whether `nonce` is the current step's or the one before's.
    pub fn accepts(&self, ring: &KeyRing, nonce: &str, now: i64) -> bool {
        let current = now.div_euclid(STEP_SECS);
        let Some(step) = nonce.split_once('.').and_then(|(step, _)| i64::from_str_radix(step, 16).ok())
        else {
            return false;
        };
        (step == current || step == current - 1)
            && self.for_step(ring, step, now).is_some_and(|expected| expected == nonce)
    }

    fn for_step(&self, ring: &KeyRing, step: i64, now: i64) -> Option<String> {
        let (kid, key) = ring.signer(now)?;
        let mut made = self.made.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((.., nonce)) = made.iter().find(|(made_for, by, _)| *made_for == step && by == kid) {
            return Some(nonce.clone());
        }
        let message = [LABEL, &step.to_be_bytes()].concat();
        let nonce = format!("{step:x}.{}", crypto::sign(&message, key, Algorithm::EdDSA).ok()?);
        made.push((step, kid.to_owned(), nonce.clone()));
        made.sort_by_key(|(made_for, ..)| std::cmp::Reverse(*made_for));
        made.truncate(3);
        Some(nonce)
    }
}
