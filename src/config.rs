//! Settings, read once from the environment at start-up. The listen address is Leptos's own
//! `LEPTOS_SITE_ADDR`; there is no secret among these: signing keys live in the database.

use std::time::Duration;

/// Everything the server needs besides Leptos's own options.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: where users, sessions and signing keys live.
    pub database_url: String,
    /// `ACCESS_TOKEN_TTL`: how long an access token is accepted.
    pub access_token_ttl: Duration,
    /// `REFRESH_TOKEN_TTL`: how long a session survives without a refresh (sliding).
    pub refresh_token_ttl: Duration,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tokenpair.db";
const DEFAULT_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
const DEFAULT_REFRESH_TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);

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
        let duration = |name: &'static str, default: Duration| match lookup(name) {
            None => Ok(default),
            Some(text) => parse_duration(&text).map_err(|problem| ConfigError { name, problem }),
        };
        let config = Self {
            database_url: lookup("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            access_token_ttl: duration("ACCESS_TOKEN_TTL", DEFAULT_ACCESS_TOKEN_TTL)?,
            refresh_token_ttl: duration("REFRESH_TOKEN_TTL", DEFAULT_REFRESH_TOKEN_TTL)?,
        };
        if config.refresh_token_ttl <= config.access_token_ttl {
            return Err(ConfigError {
                name: "REFRESH_TOKEN_TTL",
                problem: "must be longer than ACCESS_TOKEN_TTL".into(),
            });
        }
        Ok(config)
    }
}

/// Seconds (`"900"`) or a human duration (`"15m"`, `"7d"`, `"1h 30m"`); at least one second.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let parsed = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => humantime::parse_duration(text).map_err(|err| format!("{text:?}: {err}"))?,
    };
    if parsed < Duration::from_secs(1) {
        return Err(format!("{text:?}: must be at least one second"));
    }
    Ok(parsed)
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
        let config = config(&[("ACCESS_TOKEN_TTL", "5"), ("REFRESH_TOKEN_TTL", "7d")]);
        let config = config.expect("valid settings");
        assert_eq!(config.access_token_ttl, Duration::from_secs(5));
        assert_eq!(config.refresh_token_ttl, Duration::from_secs(7 * 86_400));
    }

    #[test]
    fn defaults_are_fifteen_minutes_and_seven_days() {
        let config = config(&[]).expect("defaults are valid");
        assert_eq!(config.access_token_ttl, Duration::from_secs(900));
        assert_eq!(config.refresh_token_ttl, Duration::from_secs(604_800));
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
    }

    #[test]
    fn nonsense_and_inverted_lifetimes_are_refused() {
        assert!(config(&[("ACCESS_TOKEN_TTL", "soon")]).is_err());
        assert!(config(&[("ACCESS_TOKEN_TTL", "0")]).is_err());
        assert!(config(&[("ACCESS_TOKEN_TTL", "1h"), ("REFRESH_TOKEN_TTL", "30m")]).is_err());
    }
}
