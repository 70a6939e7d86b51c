//! Password hashing with Argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane).
//!
//! A hash costs tens of milliseconds of CPU and 19 MiB of memory, so it never runs on the
//! async threads. It runs on a pool of its own, one thread per core:
//! - so at most one hash per core runs at a time (others queue), and memory stays bounded:
//!   each thread allocates its 19 MiB of Argon2 memory once and reuses it for every hash, so
//!   a flood of logins costs cores × 19 MiB, steadily, instead of an allocation per hash that
//!   the allocator may keep long after (measured: 72 to 135 MB of RSS after a few dozen);
//! - at a low scheduling priority (nice 10), so when the CPU is short, requests that are
//!   answered from a token (`/api/me`) go first and a login flood barely moves their latency;
//! - logins first: a free thread takes a waiting login before any password change (`Lane`).
//!
//! Unknown accounts are checked against a dummy hash, so "no such email" and "wrong password"
//! take the same time and give the same answer.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand_core::{OsRng, RngCore};
use thread_priority::{set_current_thread_priority, ThreadPriority, ThreadPriorityValue};

use crate::api::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use crate::error::{Error, Result};

/// The least zxcvbn score a new password needs: 3 is "safely unguessable: moderate protection
/// from an offline slow-hash scenario" (at least 10^10 guesses), which Argon2id makes true.
const MIN_STRENGTH: zxcvbn::Score = zxcvbn::Score::Three;

/// Checks a new password: `api::PASSWORD_MIN_CHARS` to `PASSWORD_MAX_CHARS` characters, and
/// not guessable by zxcvbn's estimate (common passwords, keyboard walks, dates, repeats, and
/// the account's own `email` or its local part). A refusal names `field` and says why.
pub fn validate_new(password: &str, email: &str, field: &'static str) -> Result<()> {
    let chars = password.chars().count();
    let message = if chars < PASSWORD_MIN_CHARS {
        format!("password must be at least {PASSWORD_MIN_CHARS} characters")
    } else if chars > PASSWORD_MAX_CHARS {
        format!("password must be at most {PASSWORD_MAX_CHARS} characters")
    } else if let Some(weakness) = weakness(password, email) {
        weakness
    } else {
        return Ok(());
    };
    Err(Error::Validation { field, message })
}

/// Why zxcvbn would guess `password` too soon, if it would.
fn weakness(password: &str, email: &str) -> Option<String> {
    let local_part = email.split('@').next().unwrap_or_default();
    let estimate = zxcvbn::zxcvbn(password, &[email, local_part]);
    if estimate.score() >= MIN_STRENGTH {
        return None;
    }
    let feedback = estimate.feedback();
    let warning = feedback.and_then(|f| f.warning()).map(|w| w.to_string());
    let suggestion = feedback.and_then(|f| f.suggestions().first()).map(|s| s.to_string());
    let why = match (warning, suggestion) {
        (Some(warning), Some(suggestion)) => format!("{warning} {suggestion}"),
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => "It would be guessed too quickly.".to_owned(),
    };
    Some(format!("password is too easy to guess: {why}"))
}

/// Whose hash it is, which decides how much of the queue it may fill and when it runs. Password
/// changes come from users already logged in, and one account can send many: they may fill only
/// half the queue, and wait behind every login, so that however many arrive, a login (or a
/// registration) finds room and runs next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// Logging in or registering: the whole queue, and first in line.
    SignIn = 0,
    /// Changing the password of an account already signed in: half the queue, after sign-ins.
    Account = 1,
}

pub struct Passwords {
    hashing: rayon::ThreadPool,
    dummy_hash: String,
    /// Hashes queued or running, and how many may be: past it, `Error::Busy` (503).
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    /// Jobs dropped because their request had gone before a thread was free.
    abandoned: Arc<AtomicU64>,
    queued: Arc<Queued>,
}

type Job = Box<dyn FnOnce() + Send>;

/// The jobs waiting for a hashing thread, one line per [`Lane`]: a free thread takes the first
/// sign-in job before any password change, so a login waits only for the hashes running, not
/// for every password change queued before it.
#[derive(Default)]
struct Queued(std::sync::Mutex<[VecDeque<Job>; 2]>);

impl Queued {
    fn push(&self, lane: Lane, job: Job) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)[lane as usize].push_back(job);
    }

    fn run_next(&self) {
        let next = {
            let mut lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            lines[Lane::SignIn as usize].pop_front().or_else(|| lines[Lane::Account as usize].pop_front())
        };
        if let Some(job) = next {
            job();
        }
    }
}

/// Nice 10: below the threads that answer requests, so a login flood leaves `/api/me` its
/// speed, yet not so far below (nice 19 gets 1.5 % of a CPU the async threads keep busy) that a
/// flood of cheap requests stalls the one login in line. The crate maps 0 to 99 onto nice 19
/// to -20; 22 is nice 10.
fn hashing_priority() -> ThreadPriority {
    ThreadPriorityValue::try_from(22u8).map_or(ThreadPriority::Min, ThreadPriority::Crossplatform)
}

fn argon2() -> Argon2<'static> {
    // m = 19 MiB, t = 2, p = 1: OWASP's first recommended Argon2id setting.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl Passwords {
    /// Starts the hashing threads and makes the dummy hash. At most `max_waiting` hashes queue
    /// or run at once (`PASSWORD_HASH_QUEUE`).
    pub fn new(max_waiting: usize) -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let hashing = rayon::ThreadPoolBuilder::new()
            .num_threads(cores)
            .thread_name(|i| format!("argon2-{i}"))
            .start_handler(|_| {
                if let Err(err) = set_current_thread_priority(hashing_priority()) {
                    tracing::warn!(?err, "could not lower the hashing thread's priority");
                }
            })
            .build()
            .map_err(Error::internal)?;
        Ok(Self {
            hashing,
            dummy_hash: dummy_hash()?,
            waiting: Arc::default(),
            max_waiting: max_waiting.max(1),
            abandoned: Arc::default(),
            queued: Arc::default(),
        })
    }

    /// The PHC string of a new Argon2id hash of `password`, with a random salt.
    pub async fn hash(&self, password: String, lane: Lane) -> Result<String> {
        self.on_hashing_threads(lane, move || {
            let salt = SaltString::generate(&mut OsRng);
            let output = hash_in_place(&argon2(), password.as_bytes(), salt.as_salt())?;
            phc_string(&salt, output)
        })
        .await
    }

    /// Whether `password` matches `stored`; with no stored hash (unknown account) it checks the
    /// dummy hash instead and answers `false`, spending the same time.
    pub async fn verify(&self, password: String, stored: Option<String>, lane: Lane) -> Result<bool> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let matches = self
            .on_hashing_threads(lane, move || {
                let stored = PasswordHash::new(&stored).map_err(Error::internal)?;
                let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
                    return Err(Error::internal("a stored password hash has no salt or no hash"));
                };
                let hasher = Argon2::new(
                    Algorithm::try_from(stored.algorithm).map_err(Error::internal)?,
                    Version::try_from(stored.version.unwrap_or(Version::V0x13 as u32))
                        .map_err(Error::internal)?,
                    Params::try_from(&stored).map_err(Error::internal)?,
                );
                // `Output`'s equality is constant-time.
                Ok(hash_in_place(&hasher, password.as_bytes(), salt)? == expected)
            })
            .await?;
        Ok(known && matches)
    }

    /// Runs `work` on a hashing thread and waits for its answer without blocking this one. The
    /// queue is bounded: when `max_waiting` jobs wait or run (half that for [`Lane::Account`]),
    /// the request gets 503 at once instead of joining a queue no client would wait for. A job
    /// whose request was dropped (the client went away) before a thread was free is skipped.
    async fn on_hashing_threads<T: Send + 'static>(
        &self,
        lane: Lane,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let room = match lane {
            Lane::SignIn => self.max_waiting,
            Lane::Account => self.max_waiting.div_ceil(2),
        };
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= room {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Error::Busy);
        }
        let (answer, answered) = tokio::sync::oneshot::channel();
        let (waiting, abandoned) = (Arc::clone(&self.waiting), Arc::clone(&self.abandoned));
        self.queued.push(
            lane,
            Box::new(move || {
                if answer.is_closed() {
                    abandoned.fetch_add(1, Ordering::Relaxed);
                } else {
                    // The request may be dropped while this runs; then nobody reads the answer.
                    let _ = answer.send(work());
                }
                waiting.fetch_sub(1, Ordering::AcqRel);
            }),
        );
        // One pool task per queued job; each runs whichever job is first in line when it starts.
        let queued = Arc::clone(&self.queued);
        self.hashing.spawn(move || queued.run_next());
        answered.await.map_err(Error::internal)?
    }

    /// How many hashes are queued or running now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// How many hashing jobs were skipped because their request had gone.
    pub fn abandoned(&self) -> u64 {
        self.abandoned.load(Ordering::Relaxed)
    }
}

/// The PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) of `output`, hashed with
/// [`argon2`]'s parameters and `salt`.
fn phc_string(salt: &SaltString, output: Output) -> Result<String> {
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2().params()).map_err(Error::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// The hash an unknown account is checked against: the parameters of a real one, so checking
/// it costs the same, with a random salt and a random output, which no password's hash equals
/// (a chance of 2^-256). It takes no hashing to make, so a server that has checked no password
/// yet holds no Argon2 memory.
fn dummy_hash() -> Result<String> {
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    OsRng.fill_bytes(&mut output);
    phc_string(&SaltString::generate(&mut OsRng), Output::new(&output).map_err(Error::internal)?)
}

thread_local! {
    /// This hashing thread's Argon2 memory: allocated by its first hash, reused by the rest.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2 of `password` and `salt`, as `PasswordHasher::hash_password` computes it, but in this
/// thread's reusable memory instead of a fresh 19 MiB allocation per hash.
fn hash_in_place(hasher: &Argon2<'_>, password: &[u8], salt: Salt<'_>) -> Result<Output> {
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(Error::internal)?;
    let params = hasher.params();
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    MEMORY
        .with_borrow_mut(|memory| {
            if memory.len() < params.block_count() {
                memory.resize(params.block_count(), Block::default());
            }
            Output::init_with(output_len, |out| {
                hasher
                    .hash_password_into_with_memory(password, salt_bytes, out, &mut memory[..])
                    .map_err(|_| argon2::password_hash::Error::Crypto)
            })
        })
        .map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[test]
    fn common_guessable_and_personal_passwords_are_refused_with_a_reason() {
        for weak in ["password123", "qwertyuiop", "aaaaaaaaaaaa", "12345678910", "iloveyou2024"] {
            let refused = validate_new(weak, "someone@example.com", "password");
            assert!(
                matches!(&refused, Err(Error::Validation { field: "password", message }) if message.contains("guess")),
                "{weak}: {refused:?}"
            );
        }
        let personal = validate_new("margaret.hamilton", "margaret.hamilton@example.com", "password");
        assert!(personal.is_err(), "the email's local part");
        assert!(validate_new("margaret.hamilton", "grace@example.com", "password").is_ok(), "someone else's");
        for strong in ["correct horse battery", "a brand new passphrase", "fuzzing the api"] {
            assert!(validate_new(strong, "someone@example.com", "password").is_ok(), "{strong}");
        }
    }

    #[tokio::test]
    async fn the_dummy_hash_costs_what_a_real_one_costs_and_matches_nothing() {
        let passwords = Passwords::new(4).expect("hashing threads");
        let real = passwords.hash("correct horse".into(), Lane::SignIn).await.expect("hashed");
        let (real, dummy) =
            (PasswordHash::new(&real).expect("real"), PasswordHash::new(&passwords.dummy_hash));
        let dummy = dummy.expect("the dummy is a PHC string");
        assert_eq!(
            (dummy.algorithm, dummy.version, &dummy.params),
            (real.algorithm, real.version, &real.params)
        );
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
        assert_ne!(dummy.salt, real.salt);
        assert!(argon2().verify_password(b"", &dummy).is_err());
        assert!(argon2().verify_password(b"correct horse", &dummy).is_err());
    }

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crates_own_hasher_and_verifier() {
        let passwords = Passwords::new(4).expect("hashing threads");
        let ours = passwords.hash("correct horse".into(), Lane::SignIn).await.expect("hashed");
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(argon2().verify_password(b"correct horse", &parsed).is_ok(), "the crate verifies ours");
        assert!(argon2().verify_password(b"wrong horse", &parsed).is_err());

        let salt = SaltString::generate(&mut OsRng);
        let theirs = argon2().hash_password(b"battery staple", &salt).expect("hashed").to_string();
        assert!(passwords
            .verify("battery staple".into(), Some(theirs.clone()), Lane::SignIn)
            .await
            .expect("verified"));
        assert!(!passwords
            .verify("battery stapler".into(), Some(theirs), Lane::Account)
            .await
            .expect("verified"));
        assert!(!passwords
            .verify("correct horse".into(), None, Lane::SignIn)
            .await
            .expect("an unknown account never matches"));
    }
}
