//! Rate limits: how often a client, an account and a browser may try. A limited request gets
//! 429 with `Retry-After`; every limit replenishes evenly (GCRA), so nobody waits longer than
//! the time it names.
//!
//! | limit                                   | key                        | counts          | setting                     |
//! |-----------------------------------------|----------------------------|-----------------|-----------------------------|
//! | login and register, per client          | the client address (/64)   | every attempt   | `LOGIN_RATE_LIMIT`          |
//! | refresh, per client                     | the client address (/64)   | every refresh   | `REFRESH_RATE_LIMIT`        |
//! | password change, per user and per client| the user id; the address   | every attempt   | `PASSWORD_CHANGE_RATE_LIMIT`|
//! | login, per account                      | the email                  | failures only   | `LOGIN_ACCOUNT_RATE_LIMIT`  |
//! | login, per device                       | the device cookie's id     | failures only   | `LOGIN_ACCOUNT_RATE_LIMIT`  |
//! | reset and verification mail, per address | the email (hashed)       | every request   | `PASSWORD_RESET_RATE_LIMIT` |
//! | reset and verification mail, per client  | the address              | every request   | four times that             |
//!
//! The last two are OWASP's "device cookie" scheme (`auth/device.rs`): a browser that has
//! logged in to an account before shows its signed device cookie and draws on a budget of its
//! own, so strangers guessing that account's password (who exhaust the account's budget) never
//! lock its owner out; a guesser spread over many addresses is still slowed per account.
//!
//! Where the counts live: on PostgreSQL, in the database (`db/rate_limits.rs`), so several
//! instances together allow what one allows. On SQLite (one server) the per-client and the mail
//! limits count in this process (the `governor` crate), which costs no write per request: a
//! reset request then touches the database only after its answer, and does not wait for the
//! write lock behind the mail another request is queueing (a wait the benchmark's timing test
//! showed, which told whether the previous request's address had an account). The failure
//! limits are in the database on both engines: they must be read before an attempt and
//! counted only after it fails, which an in-process limiter cannot do without counting.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock, QuantaInstant};
use governor::{DefaultKeyedRateLimiter, NotUntil, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use crate::config::{Config, RateLimit};
use crate::db::rate_limits::{self, Cell};
use crate::db::{Engine, Pool};
use crate::error::{Error, Result};

/// Whose budget a login attempt draws on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginBudget {
    /// A browser with no valid device cookie for the account: the account's shared budget.
    Account(String),
    /// A browser whose device cookie names the account: that device's own budget.
    Device(String),
}

pub struct Limits {
    db: Pool,
    login_per_client: Limit,
    refresh_per_client: Limit,
    password_per_user: Limit,
    password_per_client: Limit,
    login_failures: Limit,
    mail_per_address: Limit,
    mail_per_client: Limit,
}

/// A client may ask for mail to a few addresses (a household, an office behind one address).
fn mail_per_client(per_address: RateLimit) -> RateLimit {
    RateLimit { requests: per_address.requests.saturating_mul(4), ..per_address }
}

impl Limits {
    pub fn new(config: &Config, db: &Pool) -> Self {
        let shared = Engine::of_pool(db) == Engine::Postgres;
        let limit = |name, quota, shared| Limit::new(name, quota, shared);
        Self {
            db: db.clone(),
            login_per_client: limit("login-client", config.login_per_ip, shared),
            refresh_per_client: limit("refresh-client", config.refresh_per_ip, shared),
            password_per_user: limit("password-user", config.password_change, shared),
            password_per_client: limit("password-client", config.password_change, shared),
            login_failures: limit("login-failures", config.login_per_account, true),
            mail_per_address: limit("mail-address", config.mail_per_address, shared),
            mail_per_client: limit("mail-client", mail_per_client(config.mail_per_address), shared),
        }
    }

    /// Counts a login or registration attempt from this client.
    pub async fn login_attempt_from(&self, client: IpAddr) -> Result<()> {
        self.login_per_client.take(&self.db, &client.to_string()).await
    }

    /// Counts a refresh from this client.
    pub async fn refresh_from(&self, client: IpAddr) -> Result<()> {
        self.refresh_per_client.take(&self.db, &client.to_string()).await
    }

    /// Counts a password change by this user, from this client.
    pub async fn password_change(&self, user_id: &str, client: Option<IpAddr>) -> Result<()> {
        self.password_per_user.take(&self.db, user_id).await?;
        match client {
            Some(client) => self.password_per_client.take(&self.db, &client.to_string()).await,
            None => Ok(()),
        }
    }

    /// Counts a request for a reset or verification mail to `email`, from this client. Known and
    /// unknown addresses count alike, so a 429 tells nothing about an account.
    pub async fn mail_request(&self, email: &str, client: Option<IpAddr>) -> Result<()> {
        let address = format!("address:{}", hex_prefix(&Sha256::digest(email.as_bytes())));
        self.mail_per_address.take(&self.db, &address).await?;
        match client {
            Some(client) => self.mail_per_client.take(&self.db, &client.to_string()).await,
            None => Ok(()),
        }
    }

    /// Refuses a login attempt whose budget is spent; counts nothing.
    pub async fn login_allowed(&self, budget: &LoginBudget) -> Result<()> {
        self.login_failures.check(&self.db, &budget.key()).await
    }

    /// Counts a failed login against its budget.
    pub async fn login_failed(&self, budget: &LoginBudget) -> Result<()> {
        match self.login_failures.take(&self.db, &budget.key()).await {
            Ok(()) | Err(Error::RateLimited { .. }) => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// Forgets keys whose limits have fully replenished, so memory and the table stay small.
    pub async fn forget_idle(&self) -> Result<()> {
        let in_process = [&self.login_per_client, &self.refresh_per_client, &self.password_per_user];
        let more = [&self.password_per_client, &self.mail_per_address, &self.mail_per_client];
        for limit in in_process.into_iter().chain(more) {
            limit.forget_idle_in_process();
        }
        rate_limits::forget_replenished(&self.db, now_millis()).await?;
        Ok(())
    }
}

impl LoginBudget {
    /// The counter's key. An email is hashed: guessed addresses are not kept in the clear.
    fn key(&self) -> String {
        match self {
            Self::Account(email) => format!("account:{}", hex_prefix(&Sha256::digest(email.as_bytes()))),
            Self::Device(device_id) => format!("device:{device_id}"),
        }
    }
}

/// One limit: its name (the key prefix in the shared table), its shape, and, when it counts in
/// this process, its in-process limiter.
struct Limit {
    name: &'static str,
    cell: Cell,
    in_process: Option<DefaultKeyedRateLimiter<String>>,
}

impl Limit {
    fn new(name: &'static str, quota: RateLimit, shared: bool) -> Self {
        let interval = (quota.period / quota.requests).max(Duration::from_millis(1));
        let millis = interval.as_millis() as i64;
        let cell = Cell { interval: millis, tolerance: millis * (i64::from(quota.requests) - 1) };
        let in_process = (!shared).then(|| RateLimiter::keyed(governor_quota(quota, interval)));
        Self { name, cell, in_process }
    }

    /// Counts a request for `key`, or refuses it with 429.
    async fn take(&self, db: &Pool, key: &str) -> Result<()> {
        if let Some(limiter) = &self.in_process {
            return verdict(limiter.check_key(&key.to_owned()));
        }
        let key = format!("{}:{key}", self.name);
        refused_after(rate_limits::take(db, &key, now_millis(), self.cell).await?)
    }

    /// Refuses with 429 if a request for `key` would be refused now, counting nothing (shared only).
    async fn check(&self, db: &Pool, key: &str) -> Result<()> {
        let key = format!("{}:{key}", self.name);
        refused_after(rate_limits::wait(db, &key, now_millis(), self.cell).await?)
    }

    fn forget_idle_in_process(&self) {
        if let Some(limiter) = &self.in_process {
            limiter.retain_recent();
        }
    }
}

fn governor_quota(limit: RateLimit, interval: Duration) -> Quota {
    let burst = NonZeroU32::new(limit.requests).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(interval).map_or(Quota::per_second(burst), |quota| quota.allow_burst(burst))
}

fn verdict(result: std::result::Result<(), NotUntil<QuantaInstant>>) -> Result<()> {
    result.map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        Error::RateLimited { retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0) }
    })
}

fn refused_after(wait_millis: Option<i64>) -> Result<()> {
    match wait_millis {
        None => Ok(()),
        Some(wait) => Err(Error::RateLimited { retry_after_secs: (wait.max(1) as u64).div_ceil(1000) }),
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(16).map(|byte| format!("{byte:02x}")).collect()
}
