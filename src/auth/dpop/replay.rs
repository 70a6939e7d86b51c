//! The proofs this instance has taken, so that none passes twice (RFC 9449 §11.1).
//!
//! A proof passes only while its `iat` is within the window of the clock, so it can pass for
//! at most two windows; each `(key, jti)` is remembered that long and then forgotten. Two
//! generations of hashes: the current one takes new entries, and every `keep_secs` it becomes
//! the previous one and the previous is dropped, so an entry lives between one and two
//! `keep_secs` and the memory held is what that many seconds of proofs take (32 bytes each
//! plus the set's overhead), with no timer and no sweep.
//!
//! The state is per instance. A proof replayed on another instance within its window passes
//! there once: the README says what that can and cannot do.

use std::collections::HashSet;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

pub struct SeenProofs {
    keep_secs: i64,
    seen: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    current: HashSet<[u8; 32]>,
    previous: HashSet<[u8; 32]>,
    /// When `current` started taking entries.
    started_at: i64,
}

impl SeenProofs {
    pub fn new(keep_secs: i64) -> Self {
        Self { keep_secs, seen: Mutex::default() }
    }

    /// Records the proof `jti` of the key `jkt` at `now`; false if it was seen before.
    pub fn first_use(&self, jkt: &str, jti: &str, now: i64) -> bool {
        let id: [u8; 32] =
            Sha256::new().chain_update(jkt).chain_update([0]).chain_update(jti).finalize().into();
        let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if now - seen.started_at >= self.keep_secs {
            let aged = std::mem::take(&mut seen.current);
            // Two generations gone by: nothing in either is still within its window.
            seen.previous = if now - seen.started_at >= 2 * self.keep_secs { HashSet::new() } else { aged };
            seen.started_at = now;
        }
        !seen.previous.contains(&id) && seen.current.insert(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_passes_once_and_is_remembered_for_at_least_keep_secs() {
        let seen = SeenProofs::new(120);
        assert!(seen.first_use("key", "a", 1000));
        assert!(!seen.first_use("key", "a", 1000));
        assert!(seen.first_use("other key", "a", 1000), "a jti is its key's");
        assert!(!seen.first_use("key", "a", 1119));
        assert!(!seen.first_use("key", "a", 1200), "moved to the previous generation, still there");
        assert!(seen.first_use("key", "a", 1400), "forgotten once two generations passed");
    }
}
