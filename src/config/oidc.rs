//! The social-login providers, from `OIDC_PROVIDERS` and `OIDC_{NAME}_*` (README, "Log in with
//! a social platform"). Only the settings: `auth/oidc/registry.rs` discovers each provider.

use std::time::Duration;

use super::ConfigError;

/// One provider as configured. `Debug` leaves the client secret out.
#[derive(Clone)]
pub struct ProviderSettings {
    /// Lower case, from `OIDC_PROVIDERS`; the path segment of its endpoints.
    pub name: String,
    /// `OIDC_{NAME}_LABEL`: the button says "Continue with {label}". Defaults to the name.
    pub label: String,
    /// `OIDC_{NAME}_ISSUER`: discovery reads `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// `OIDC_{NAME}_CLIENT_ID`.
    pub client_id: String,
    /// `OIDC_{NAME}_CLIENT_SECRET`, or the contents of the file `OIDC_{NAME}_CLIENT_SECRET_FILE` names.
    pub client_secret: String,
    /// `OIDC_{NAME}_SCOPES`, space-separated; `openid email profile` by default.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("name", &self.name)
            .field("label", &self.label)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &crate::api::REDACTED)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// How long a provider may take to answer one request (discovery, keys, the code exchange).
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Every provider `OIDC_PROVIDERS` names, each with its settings; none when it is unset.
pub fn providers(lookup: &impl Fn(&str) -> Option<String>) -> Result<Vec<ProviderSettings>, ConfigError> {
    let listed = lookup("OIDC_PROVIDERS").unwrap_or_default();
    let mut providers: Vec<ProviderSettings> = Vec::new();
    for name in listed.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        if providers.iter().any(|known| known.name == name) {
            return Err(refuse(format!("{name} is listed twice")));
        }
        providers.push(provider(lookup, name)?);
    }
    Ok(providers)
}

fn provider(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Result<ProviderSettings, ConfigError> {
    let valid = name.len() <= 32
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name != "password";
    if !valid {
        let problem = format!(
            "{name:?}: a provider name is lower-case letters, digits and '-' (at most 32), not \"password\""
        );
        return Err(refuse(problem));
    }
    let prefix = format!("OIDC_{}_", name.to_ascii_uppercase().replace('-', "_"));
    let setting = |suffix: &str| {
        lookup(&format!("{prefix}{suffix}")).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    };
    let required =
        |suffix: &str| setting(suffix).ok_or_else(|| refuse(format!("{prefix}{suffix} is not set")));
    let issuer = required("ISSUER")?.trim_end_matches('/').to_owned();
    // Plain HTTP would let anyone on the path hand us keys and ID tokens: only on this machine.
    let loopback_http = issuer.strip_prefix("http://").is_some_and(|rest| {
        super::is_loopback_host(super::host_without_port(rest.split('/').next().unwrap_or_default()))
    });
    if !(issuer.starts_with("https://") || loopback_http) {
        return Err(refuse(format!(
            "{prefix}ISSUER must be an https:// URL (http:// only on a loopback host)"
        )));
    }
    let client_secret = match (setting("CLIENT_SECRET"), setting("CLIENT_SECRET_FILE")) {
        (Some(secret), None) => secret,
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map(|secret| secret.trim().to_owned())
            .map_err(|err| refuse(format!("{prefix}CLIENT_SECRET_FILE {path}: {err}")))?,
        (Some(_), Some(_)) => {
            return Err(refuse(format!("set {prefix}CLIENT_SECRET or {prefix}CLIENT_SECRET_FILE, not both")))
        }
        (None, None) => {
            return Err(refuse(format!("{prefix}CLIENT_SECRET (or {prefix}CLIENT_SECRET_FILE) is not set")))
        }
    };
    let scopes = setting("SCOPES").unwrap_or_else(|| "openid email profile".into());
    let mut scopes: Vec<String> = scopes.split_whitespace().map(str::to_owned).collect();
    if !scopes.iter().any(|scope| scope == "openid") {
        scopes.insert(0, "openid".into());
    }
    Ok(ProviderSettings {
        name: name.to_owned(),
        label: setting("LABEL").unwrap_or_else(|| name.to_owned()),
        issuer,
        client_id: required("CLIENT_ID")?,
        client_secret,
        scopes,
    })
}

fn refuse(problem: String) -> ConfigError {
    ConfigError { name: "OIDC_PROVIDERS", problem }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Vec<ProviderSettings>, ConfigError> {
        let owned: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        providers(&|name: &str| owned.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    const GITLAB: [(&str, &str); 4] = [
        ("OIDC_PROVIDERS", "gitlab"),
        ("OIDC_GITLAB_ISSUER", "https://gitlab.com/"),
        ("OIDC_GITLAB_CLIENT_ID", "id"),
        ("OIDC_GITLAB_CLIENT_SECRET", "very-secret"),
    ];

    #[test]
    fn a_provider_reads_its_settings_with_defaults_and_hides_its_secret() {
        let [gitlab] = read(&GITLAB).expect("valid").try_into().expect("one");
        assert_eq!((gitlab.issuer.as_str(), gitlab.label.as_str()), ("https://gitlab.com", "gitlab"));
        assert_eq!(gitlab.scopes, ["openid", "email", "profile"]);
        assert!(!format!("{gitlab:?}").contains("very-secret"));
        assert!(read(&[]).expect("off").is_empty());
    }

    #[test]
    fn a_provider_missing_a_setting_or_over_plain_http_elsewhere_stops_the_start() {
        let problem = |pairs: &[(&str, &str)]| read(pairs).expect_err("refused").to_string();
        assert!(problem(&GITLAB[..3]).contains("OIDC_GITLAB_CLIENT_SECRET"));
        let mut plain = GITLAB;
        plain[1] = ("OIDC_GITLAB_ISSUER", "http://gitlab.example");
        assert!(problem(&plain).contains("https://"));
        plain[1] = ("OIDC_GITLAB_ISSUER", "http://localhost:8080");
        assert!(read(&plain).is_ok(), "plain HTTP on this machine is fine");
        let mut bad_name = GITLAB;
        bad_name[0] = ("OIDC_PROVIDERS", "Git Lab");
        assert!(problem(&bad_name).contains("lower-case"));
        let mut twice = GITLAB;
        twice[0] = ("OIDC_PROVIDERS", "gitlab,gitlab");
        assert!(problem(&twice).contains("twice"));
    }
}
