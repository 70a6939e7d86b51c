//! Password hashing with Argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane).
//!
//! A hash costs tens of milliseconds of CPU and 19 MiB of memory, so it runs on tokio's
//! blocking pool, never on the async threads, and at most one hash per core runs at a time.
//! Unknown accounts are checked against a dummy hash, so "no such email" and "wrong password"
//! take the same time and give the same answer.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::OsRng;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

pub struct Passwords {
    permits: Arc<Semaphore>,
    dummy_hash: String,
}

fn argon2() -> Argon2<'static> {
    // m = 19 MiB, t = 2, p = 1: OWASP's first recommended Argon2id setting.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl Passwords {
    /// Prepares the dummy hash (one real hash of a random password) and the concurrency cap.
    pub async fn new() -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut passwords = Self { permits: Arc::new(Semaphore::new(cores)), dummy_hash: String::new() };
        passwords.dummy_hash = passwords.hash(crate::auth::new_id()).await?;
        Ok(passwords)
    }

    /// The PHC string of a new Argon2id hash of `password`, with a random salt.
    pub async fn hash(&self, password: String) -> Result<String> {
        self.on_blocking_pool(move || {
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
            .on_blocking_pool(move || {
                let parsed = PasswordHash::new(&stored).map_err(Error::internal)?;
                Ok(argon2().verify_password(password.as_bytes(), &parsed).is_ok())
            })
            .await?;
        Ok(known && matches)
    }

    async fn on_blocking_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self.permits.acquire().await.map_err(Error::internal)?;
        tokio::task::spawn_blocking(work).await.map_err(Error::internal)?
    }
}
