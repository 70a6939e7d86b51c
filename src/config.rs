//! Settings, read once from the environment at start-up. The listen address is Leptos's own
//! `LEPTOS_SITE_ADDR`. The one secret among these is a social-login provider's client secret,
//! which `Debug` hides (better read from `OIDC_{NAME}_CLIENT_SECRET_FILE`); signing keys live in
//! the database, and the key that may seal them is read from the file
//! `SIGNING_KEY_ENCRYPTION_KEY_FILE` names.

use std::time::Duration;

use ipnet::IpNet;

pub mod oidc;

/// Everything the server needs besides Leptos's own options. `Debug` hides the password a
/// `DATABASE_URL` may carry.
#[derive(Clone)]
pub struct Config {
    /// `DATABASE_URL`: where users, sessions and signing keys live.
    pub database_url: String,
    /// `DATABASE_LISTEN_URL`: where, on PostgreSQL, the revocation listener connects (LISTEN
    /// holds a session, so behind a pooler in transaction mode such as PgBouncer's, point it
    /// at PostgreSQL itself). Defaults to `DATABASE_URL`.
    pub database_listen_url: String,
    /// `SIGNING_KEY_ENCRYPTION_KEY_FILE`: a file holding the AES-256 key that seals the signing
    /// keys' seeds in the database (`auth/seed_cipher.rs`). None: they are stored plain.
    pub signing_key_encryption_key_file: Option<std::path::PathBuf>,
    /// `ACCESS_TOKEN_TTL`: how long an access token is accepted.
    pub access_token_ttl: Duration,
    /// `REFRESH_TOKEN_TTL`: how long a session survives without a refresh (sliding).
    pub refresh_token_ttl: Duration,
    /// `REFRESH_REUSE_GRACE`: how long a just-rotated refresh token still gets its successor
    /// again instead of counting as reuse (two tabs, a lost response).
    pub refresh_reuse_grace: Duration,
    /// `SESSION_MAX_LIFETIME`: an absolute cap on a session however active, or none.
    pub session_max_lifetime: Option<Duration>,
    /// `APP_ORIGIN`: the origins the browser app is served from (comma-separated); requests to
    /// the cookie endpoints from any other origin are refused. Defaults to the listen address.
    pub app_origins: Vec<String>,
    /// `LOGIN_RATE_LIMIT`, `LOGIN_ACCOUNT_RATE_LIMIT`, `REFRESH_RATE_LIMIT`: requests per period.
    pub login_per_ip: RateLimit,
    pub login_per_account: RateLimit,
    pub refresh_per_ip: RateLimit,
    /// `PASSWORD_CHANGE_RATE_LIMIT`: password changes per user, and per client address.
    pub password_change: RateLimit,
    /// `PASSWORD_HASH_QUEUE`: how many password hashes may wait for a hashing thread; past it,
    /// 503 with `Retry-After`.
    pub password_hash_queue: usize,
    /// `VERIFIED_TOKEN_CACHE`: how many already-verified access tokens to remember, so a
    /// repeat request skips the signature check (0 turns the cache off).
    pub verified_token_cache: usize,
    /// `TOKENPAIR_LAB=1`: the attack lab's extra endpoints (copying the HttpOnly cookie,
    /// replaying a token, forging tokens, a foreign-origin page). Refused unless the server
    /// listens on a loopback address, so it cannot be switched on in a deployment by accident.
    pub lab: bool,
    /// `TRUSTED_PROXIES`: the proxies (IPs or CIDRs, comma-separated) whose forwarded headers
    /// name the client (`http/client_ip.rs`). Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<IpNet>,
    /// The host names of `app_origins`: a request with any other `Host` gets 421.
    pub allowed_hosts: Vec<String>,
    /// `SESSION_RETENTION`: how long an expired or revoked session is kept before deletion.
    pub session_retention: Duration,
    /// `EVENT_RETENTION`: how long security events are kept (at most 500 per user anyway).
    pub event_retention: Duration,
    /// `HEADER_TIMEOUT`: how long a connection may take to send a request's headers.
    pub header_timeout: Duration,
    /// `REQUEST_TIMEOUT`: how long a request may take, its body included, to be answered.
    pub request_timeout: Duration,
    /// `MAX_CONNECTIONS`: open connections served normally; the rest are shed.
    pub max_connections: usize,
    /// `SMTP_URL`: where mail goes (`smtp://host:port`, `smtp://user:pass@host:587` with
    /// STARTTLS, `smtps://user:pass@host:465`); none: each mail is written to the log instead.
    pub smtp_url: Option<String>,
    /// `MAIL_FROM`: the sender of every mail.
    pub mail_from: String,
    /// `REQUIRE_VERIFIED_EMAIL`: a new account logs in only after verifying its address, and
    /// sign-up answers alike for taken and free addresses.
    pub require_verified_email: bool,
    /// `PASSWORD_RESET_RATE_LIMIT`: reset and verification mails per address, and per client.
    pub mail_per_address: RateLimit,
    /// `OIDC_PROVIDERS` and each provider's `OIDC_{NAME}_*`: social login (`config/oidc.rs`).
    pub oidc_providers: Vec<oidc::ProviderSettings>,
    /// How long a social-login provider may take to answer; 10 s (tests shorten it).
    pub oidc_timeout: Duration,
    /// `DPOP`: whether tokens are bound to the browser's key (`auth/dpop.rs`).
    pub dpop: crate::auth::dpop::Mode,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &without_password(&self.database_url))
            .field("database_listen_url", &without_password(&self.database_listen_url))
            .field("signing_key_encryption_key_file", &self.signing_key_encryption_key_file)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("refresh_reuse_grace", &self.refresh_reuse_grace)
            .field("session_max_lifetime", &self.session_max_lifetime)
            .field("app_origins", &self.app_origins)
            .field("login_per_ip", &self.login_per_ip)
            .field("login_per_account", &self.login_per_account)
            .field("refresh_per_ip", &self.refresh_per_ip)
            .field("password_change", &self.password_change)
            .field("password_hash_queue", &self.password_hash_queue)
            .field("verified_token_cache", &self.verified_token_cache)
            .field("lab", &self.lab)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("session_retention", &self.session_retention)
            .field("event_retention", &self.event_retention)
            .field("header_timeout", &self.header_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_connections", &self.max_connections)
            .field("smtp_url", &self.smtp_url.as_deref().map(without_password))
            .field("mail_from", &self.mail_from)
            .field("require_verified_email", &self.require_verified_email)
            .field("mail_per_address", &self.mail_per_address)
            .field("oidc_providers", &self.oidc_providers)
            .field("oidc_timeout", &self.oidc_timeout)
            .field("dpop", &self.dpop)
            .finish()
    }
}

/// `url` with the password of its user-info part, if any, replaced by `[redacted]`:
/// `postgres://app:secret@db/x` becomes `postgres://app:[redacted]@db/x`.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return url.to_owned() };
    match rest[..at].split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:[redacted]{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// At most `requests` per `period`, replenished evenly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub period: Duration,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tokenpair.db";
const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";

/// The longest `REFRESH_REUSE_GRACE` allowed: a lost response is retried within seconds, and a
/// stolen token replayed inside the grace is answered instead of caught.
const MAX_REUSE_GRACE: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
#[error("{name}: {problem}")]
pub struct ConfigError {
    name: &'static str,
    problem: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can pass their own.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Settings(lookup);
        let site_addr = settings.text("LEPTOS_SITE_ADDR", DEFAULT_SITE_ADDR);
        let app_origins = app_origins((settings.0)("APP_ORIGIN"), &site_addr);
        let config = Self {
            allowed_hosts: app_origins.iter().map(|origin| origin_host(origin)).collect(),
            session_retention: settings.duration("SESSION_RETENTION", "30d")?,
            event_retention: settings.duration("EVENT_RETENTION", "90d")?,
            header_timeout: settings.duration("HEADER_TIMEOUT", "10s")?,
            request_timeout: settings.duration("REQUEST_TIMEOUT", "30s")?,
            max_connections: settings.count("MAX_CONNECTIONS", "10000", 1)?,
            database_url: settings.text("DATABASE_URL", DEFAULT_DATABASE_URL),
            database_listen_url: (settings.0)("DATABASE_LISTEN_URL")
                .filter(|url| !url.is_empty())
                .unwrap_or_else(|| settings.text("DATABASE_URL", DEFAULT_DATABASE_URL)),
            signing_key_encryption_key_file: (settings.0)("SIGNING_KEY_ENCRYPTION_KEY_FILE")
                .filter(|path| !path.is_empty())
                .map(std::path::PathBuf::from),
            access_token_ttl: settings.duration("ACCESS_TOKEN_TTL", "15m")?,
            refresh_token_ttl: settings.duration("REFRESH_TOKEN_TTL", "7d")?,
            refresh_reuse_grace: settings.duration("REFRESH_REUSE_GRACE", "10s")?,
            session_max_lifetime: settings.optional_duration("SESSION_MAX_LIFETIME")?,
            app_origins,
            login_per_ip: settings.rate("LOGIN_RATE_LIMIT", "20/1m")?,
            login_per_account: settings.rate("LOGIN_ACCOUNT_RATE_LIMIT", "10/5m")?,
            refresh_per_ip: settings.rate("REFRESH_RATE_LIMIT", "120/1m")?,
            password_change: settings.rate("PASSWORD_CHANGE_RATE_LIMIT", "5/5m")?,
            password_hash_queue: settings.count("PASSWORD_HASH_QUEUE", "32", 1)?,
            verified_token_cache: settings.count("VERIFIED_TOKEN_CACHE", "10000", 0)?,
            lab: matches!((settings.0)("TOKENPAIR_LAB").as_deref(), Some("1" | "true")),
            smtp_url: (settings.0)("SMTP_URL").map(|url| url.trim().to_owned()).filter(|url| !url.is_empty()),
            mail_from: settings.text("MAIL_FROM", "tokenpair <no-reply@localhost>"),
            require_verified_email: matches!(
                (settings.0)("REQUIRE_VERIFIED_EMAIL").as_deref(),
                Some("1" | "true")
            ),
            mail_per_address: settings.rate("PASSWORD_RESET_RATE_LIMIT", "5/15m")?,
            oidc_providers: oidc::providers(&settings.0)?,
            oidc_timeout: oidc::PROVIDER_TIMEOUT,
            dpop: settings.dpop()?,
            trusted_proxies: parse_networks(&settings.text("TRUSTED_PROXIES", ""))
                .map_err(|problem| ConfigError { name: "TRUSTED_PROXIES", problem })?,
        };
        config.checked(&site_addr)
    }

    /// The rules that tie settings together.
    fn checked(self, site_addr: &str) -> Result<Self, ConfigError> {
        let refuse = |name, problem: String| Err(ConfigError { name, problem });
        let loopback = site_addr.parse::<std::net::SocketAddr>().is_ok_and(|addr| addr.ip().is_loopback());
        if self.lab && !loopback {
            return refuse(
                "TOKENPAIR_LAB",
                format!("the attack lab only runs on a loopback address, not {site_addr}"),
            );
        }
        if let Some(public) =
            self.allowed_hosts.iter().find(|host| !is_loopback_host(host)).filter(|_| self.lab)
        {
            return refuse(
                "TOKENPAIR_LAB",
                format!("the attack lab only runs for a loopback APP_ORIGIN, not {public}"),
            );
        }
        if self.access_token_ttl < Duration::from_secs(1) {
            return refuse("ACCESS_TOKEN_TTL", "must be at least one second".into());
        }
        if self.refresh_token_ttl <= self.access_token_ttl {
            return refuse("REFRESH_TOKEN_TTL", "must be longer than ACCESS_TOKEN_TTL".into());
        }
        if self.refresh_reuse_grace > MAX_REUSE_GRACE {
            // Longer, and a stolen token replayed within it is answered instead of caught.
            return refuse("REFRESH_REUSE_GRACE", "must be at most 60 s".into());
        }
        Ok(self)
    }
}

/// The environment (or a test's stand-in), read one setting at a time; each refusal names it.
struct Settings<F>(F);

impl<F: Fn(&str) -> Option<String>> Settings<F> {
    fn text(&self, name: &str, default: &str) -> String {
        (self.0)(name).unwrap_or_else(|| default.to_owned())
    }

    fn duration(&self, name: &'static str, default: &str) -> Result<Duration, ConfigError> {
        parse_duration(&self.text(name, default)).map_err(|problem| ConfigError { name, problem })
    }

    /// A duration, or none when unset, empty or `none`.
    fn optional_duration(&self, name: &'static str) -> Result<Option<Duration>, ConfigError> {
        match (self.0)(name).as_deref().map(str::trim) {
            None | Some("") | Some("none") => Ok(None),
            Some(text) => parse_duration(text).map(Some).map_err(|problem| ConfigError { name, problem }),
        }
    }

    fn rate(&self, name: &'static str, default: &str) -> Result<RateLimit, ConfigError> {
        parse_rate(&self.text(name, default)).map_err(|problem| ConfigError { name, problem })
    }

    /// `DPOP`: `off`, `optional` (the default) or `required`.
    fn dpop(&self) -> Result<crate::auth::dpop::Mode, ConfigError> {
        let text = self.text("DPOP", "optional");
        crate::auth::dpop::Mode::parse(&text).ok_or_else(|| ConfigError {
            name: "DPOP",
            problem: format!("{text:?}: expected off, optional or required"),
        })
    }

    /// A whole number, at least `least`.
    fn count(&self, name: &'static str, default: &str, least: usize) -> Result<usize, ConfigError> {
        let problem = || format!("must be a whole number, at least {least}");
        let count: usize =
            self.text(name, default).trim().parse().map_err(|_| ConfigError { name, problem: problem() })?;
        if count < least {
            return Err(ConfigError { name, problem: problem() });
        }
        Ok(count)
    }
}

/// `APP_ORIGIN` if set; otherwise the listen address, plus `localhost` for a loopback address,
/// since a developer may type either.
fn app_origins(explicit: Option<String>, site_addr: &str) -> Vec<String> {
    if let Some(list) = explicit {
        return list
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
    }
    let mut origins = vec![format!("http://{site_addr}")];
    if let Some(port) = site_addr.strip_prefix("127.0.0.1:") {
        origins.push(format!("http://localhost:{port}"));
    }
    origins
}

/// The host of an origin, lower-cased and without its port: `https://Auth.Example.com:8443`
/// gives `auth.example.com`.
fn origin_host(origin: &str) -> String {
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    host_without_port(authority).to_ascii_lowercase()
}

/// `example.com:3000` gives `example.com`, `[::1]:3000` gives `[::1]`: what a `Host` header
/// names, whatever port it adds (as Django's `ALLOWED_HOSTS` compares them).
pub fn host_without_port(authority: &str) -> &str {
    match authority.rfind(':') {
        Some(colon) if !authority[colon..].contains(']') => &authority[..colon],
        _ => authority,
    }
}

/// `localhost`, `127.0.0.1` (any of 127/8) or `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Seconds (`"900"`) or a human duration (`"15m"`, `"7d"`, `"1h 30m"`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    match text.parse::<u64>() {
        Ok(seconds) => Ok(Duration::from_secs(seconds)),
        Err(_) => humantime::parse_duration(text).map_err(|err| format!("{text:?}: {err}")),
    }
}

/// `"10.0.0.0/8, 192.168.1.7"`: networks, a bare address meaning just that one.
fn parse_networks(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is neither an IP address nor a CIDR network"))
        })
        .collect()
}

/// `"20/1m"`: twenty requests per minute.
fn parse_rate(text: &str) -> Result<RateLimit, String> {
    let (requests, period) =
        text.split_once('/').ok_or_else(|| format!("{text:?}: expected N/period, e.g. 20/1m"))?;
    let requests: u32 =
        requests.trim().parse().map_err(|_| format!("{text:?}: {requests:?} is not a count"))?;
    let period = parse_duration(period)?;
    if requests == 0 || period.is_zero() {
        return Err(format!("{text:?}: both the count and the period must be above zero"));
    }
    Ok(RateLimit { requests, period })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn durations_accept_seconds_and_human_units() {
        let config = config(&[("ACCESS_TOKEN_TTL", "5"), ("REFRESH_TOKEN_TTL", "7d")]).expect("valid");
        assert_eq!(config.access_token_ttl, Duration::from_secs(5));
        assert_eq!(config.refresh_token_ttl, Duration::from_secs(7 * 86_400));
    }

    #[test]
    fn defaults_are_fifteen_minutes_seven_days_ten_seconds_and_no_cap() {
        let config = config(&[]).expect("defaults are valid");
        assert_eq!(config.access_token_ttl, Duration::from_secs(900));
        assert_eq!(config.refresh_token_ttl, Duration::from_secs(604_800));
        assert_eq!(config.refresh_reuse_grace, Duration::from_secs(10));
        assert_eq!(config.session_max_lifetime, None);
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.app_origins, ["http://127.0.0.1:3000", "http://localhost:3000"]);
        assert_eq!(config.login_per_ip, RateLimit { requests: 20, period: Duration::from_secs(60) });
    }

    #[test]
    fn the_origin_follows_the_listen_address_unless_set() {
        let moved = config(&[("LEPTOS_SITE_ADDR", "0.0.0.0:8080")]).expect("valid");
        assert_eq!(moved.app_origins, ["http://0.0.0.0:8080"]);
        let explicit =
            config(&[("APP_ORIGIN", "https://auth.example.com/, https://example.com")]).expect("valid");
        assert_eq!(explicit.app_origins, ["https://auth.example.com", "https://example.com"]);
    }

    #[test]
    fn nonsense_and_inverted_lifetimes_are_refused() {
        assert!(config(&[("ACCESS_TOKEN_TTL", "soon")]).is_err());
        assert!(config(&[("ACCESS_TOKEN_TTL", "0")]).is_err());
        assert!(config(&[("ACCESS_TOKEN_TTL", "1h"), ("REFRESH_TOKEN_TTL", "30m")]).is_err());
        assert!(config(&[("REFRESH_REUSE_GRACE", "61s")]).is_err(), "the grace is capped at 60 s");
        assert!(config(&[("REFRESH_REUSE_GRACE", "60s")]).is_ok());
        assert!(config(&[("LOGIN_RATE_LIMIT", "0/1m")]).is_err());
        assert!(config(&[("LOGIN_RATE_LIMIT", "ten")]).is_err());
        assert!(config(&[("SESSION_MAX_LIFETIME", "forever")]).is_err());
    }

    #[test]
    fn debug_output_never_shows_the_database_password() {
        let config = config(&[("DATABASE_URL", "postgres://app:hunter2@db:5432/tokenpair")]).expect("valid");
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("postgres://app:[redacted]@db:5432/tokenpair"), "{printed}");
        assert_eq!(without_password("sqlite://data/x.db"), "sqlite://data/x.db");
        assert_eq!(without_password("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(without_password("postgres://a:p@ss@db/x?u=a@b"), "postgres://a:[redacted]@db/x?u=a@b");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        assert!(config(&[]).expect("valid").trusted_proxies.is_empty());
        let proxies = config(&[("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7,::1")]).expect("valid");
        let shown: Vec<String> = proxies.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.168.1.7/32", "::1/128"]);
        assert!(config(&[("TRUSTED_PROXIES", "nginx")]).is_err());
        assert!(config(&[("TRUSTED_PROXIES", "10.0.0.0/33")]).is_err());
    }

    #[test]
    fn the_lab_is_off_by_default_and_refused_off_loopback() {
        assert!(!config(&[]).expect("valid").lab);
        assert!(config(&[("TOKENPAIR_LAB", "1")]).expect("loopback is fine").lab);
        assert!(config(&[("TOKENPAIR_LAB", "1"), ("LEPTOS_SITE_ADDR", "0.0.0.0:3000")]).is_err());
        assert!(config(&[("TOKENPAIR_LAB", "1"), ("APP_ORIGIN", "https://auth.example.com")]).is_err());
        assert!(config(&[("TOKENPAIR_LAB", "1"), ("APP_ORIGIN", "http://localhost:3000")]).is_ok());
    }

    #[test]
    fn the_allowed_hosts_are_the_origins_hosts_without_ports() {
        assert_eq!(config(&[]).expect("valid").allowed_hosts, ["127.0.0.1", "localhost"]);
        let set = config(&[("APP_ORIGIN", "https://Auth.Example.com, http://[::1]:8080")]).expect("valid");
        assert_eq!(set.allowed_hosts, ["auth.example.com", "[::1]"]);
        assert_eq!(host_without_port("example.com"), "example.com");
        assert_eq!(host_without_port("[::1]"), "[::1]");
        assert!(is_loopback_host("[::1]") && is_loopback_host("127.0.0.2") && !is_loopback_host("10.0.0.1"));
    }
}
