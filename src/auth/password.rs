//! Password hashing with Argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane).
//!
//! A hash costs tens of milliseconds of CPU and 19 MiB of memory, so it never runs on the
//! async threads. It runs on a pool of its own, one thread per core:
//! - so at most one hash per core runs at a time (others queue), and memory stays bounded:
//!   each thread keeps at most one 19 MiB block in its allocator arena, so a flood of logins
//!   costs cores × 19 MiB, not a block for every thread tokio's blocking pool would start;
//! - at the lowest scheduling priority (nice 19), so when the CPU is short, requests that are
//!   answered from a token (`/api/me`) go first and a login flood barely moves their latency.
//!
//! Unknown accounts are checked against a dummy hash, so "no such email" and "wrong password"
//! take the same time and give the same answer.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::OsRng;
use thread_priority::{set_current_thread_priority, ThreadPriority};

use crate::error::{Error, Result};

pub struct Passwords {
    hashing: rayon::ThreadPool,
    dummy_hash: String,
}

fn argon2() -> Argon2<'static> {
    // m = 19 MiB, t = 2, p = 1: OWASP's first recommended Argon2id setting.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl Passwords {
    /// Starts the hashing threads and prepares the dummy hash (a real hash of a random password).
    pub async fn new() -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let hashing = rayon::ThreadPoolBuilder::new()
            .num_threads(cores)
            .thread_name(|i| format!("argon2-{i}"))
            .start_handler(|_| {
                if let Err(err) = set_current_thread_priority(ThreadPriority::Min) {
                    tracing::warn!(?err, "could not lower the hashing thread's priority");
                }
            })
            .build()
            .map_err(Error::internal)?;
        let mut passwords = Self { hashing, dummy_hash: String::new() };
        passwords.dummy_hash = passwords.hash(crate::auth::new_id()).await?;
        Ok(passwords)
    }

    /// The PHC string of a new Argon2id hash of `password`, with a random salt.
    pub async fn hash(&self, password: String) -> Result<String> {
        self.on_hashing_threads(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(Error::internal)
        })
        .await
    }

    /// Whether `password` matches `stored`; with no stored hash (unknown account) it checks the
    /// dummy hash instead and answers `false`, spending the same time.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let matches = self
            .on_hashing_threads(move || {
                let parsed = PasswordHash::new(&stored).map_err(Error::internal)?;
                Ok(argon2().verify_password(password.as_bytes(), &parsed).is_ok())
            })
            .await?;
        Ok(known && matches)
    }

    async fn on_hashing_threads<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.hashing.spawn(move || {
            // The request may have been dropped meanwhile; then nobody waits for the answer.
            let _ = answer.send(work());
        });
        answered.await.map_err(Error::internal)?
    }
}
