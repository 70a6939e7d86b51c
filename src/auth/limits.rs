//! Rate limits (GCRA, from the `governor` crate): login and register per client IP, login per
//! account, refresh per client IP. A limited request gets 429 with `Retry-After`; every limit
//! replenishes evenly, so nobody is locked out for longer than the wait it names.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock, QuantaInstant};
use governor::{DefaultKeyedRateLimiter, NotUntil, Quota, RateLimiter};

use crate::config::{Config, RateLimit};
use crate::error::Error;

pub struct Limits {
    login_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_per_account: DefaultKeyedRateLimiter<String>,
    refresh_per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

impl Limits {
    pub fn new(config: &Config) -> Self {
        Self {
            login_per_ip: RateLimiter::keyed(quota(config.login_per_ip)),
            login_per_account: RateLimiter::keyed(quota(config.login_per_account)),
            refresh_per_ip: RateLimiter::keyed(quota(config.refresh_per_ip)),
        }
    }

    /// Counts a login or registration attempt from this address.
    pub fn login_attempt_from(&self, ip: IpAddr) -> Result<(), Error> {
        verdict(self.login_per_ip.check_key(&ip))
    }

    /// Counts a refresh from this address.
    pub fn refresh_from(&self, ip: IpAddr) -> Result<(), Error> {
        verdict(self.refresh_per_ip.check_key(&ip))
    }

    /// Counts a login attempt for this (normalised) email.
    pub fn login_attempt_for(&self, email: &str) -> Result<(), Error> {
        verdict(self.login_per_account.check_key(&email.to_owned()))
    }

    /// Forgets keys whose limits have fully replenished, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.login_per_ip.retain_recent();
        self.login_per_account.retain_recent();
        self.refresh_per_ip.retain_recent();
    }
}

fn quota(limit: RateLimit) -> Quota {
    let burst = NonZeroU32::new(limit.requests).unwrap_or(NonZeroU32::MIN);
    let every = (limit.period / burst.get()).max(Duration::from_millis(1));
    Quota::with_period(every).map_or(Quota::per_second(burst), |quota| quota.allow_burst(burst))
}

fn verdict(result: Result<(), NotUntil<QuantaInstant>>) -> Result<(), Error> {
    result.map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        Error::RateLimited { retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0) }
    })
}
