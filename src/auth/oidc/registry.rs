//! The configured providers and what discovery found out about each: its endpoints, its keys,
//! the client tokenpair is at it. Discovery runs in the background: a provider that does not
//! answer at start is retried with backoff (its button hidden meanwhile), and every provider
//! is discovered again every hour, so a key it rotates in is known before it signs with it.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{reqwest, ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet};
use openidconnect::{IssuerUrl, RedirectUrl};

use crate::api::OidcProvider;
use crate::config::oidc::ProviderSettings;

/// The client at a discovered provider: its authorization endpoint set, the token endpoint
/// as discovery found it.
pub type ProviderClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How often a discovered provider is discovered again (its keys with it).
const REDISCOVERY_INTERVAL: Duration = Duration::from_secs(3600);
/// The backoff between attempts at a provider that does not answer: 1 s, doubling, at most 5 min.
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(300);

/// A discovered provider, as a login uses it.
pub struct Discovered {
    pub client: ProviderClient,
    pub issuer: IssuerUrl,
}

struct Entry {
    settings: ProviderSettings,
    redirect: RedirectUrl,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

/// Every configured provider. None configured: the feature is off.
pub struct Providers {
    entries: Vec<Entry>,
    http: reqwest::Client,
}

impl Providers {
    /// The providers of `settings`, not yet discovered; `app_origin` is where the browser app
    /// is served, so each redirect URI is `{app_origin}/api/auth/oidc/{name}/callback`.
    pub fn new(settings: &[ProviderSettings], app_origin: &str, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!("tokenpair/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| err.to_string())?;
        let entries = settings
            .iter()
            .map(|settings| {
                let uri = format!("{app_origin}/api/auth/oidc/{}/callback", settings.name);
                let redirect = RedirectUrl::new(uri).map_err(|err| format!("{}: {err}", settings.name))?;
                Ok(Entry { settings: settings.clone(), redirect, discovered: RwLock::new(None) })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { entries, http })
    }

    /// The HTTP client that talks to providers: no redirects, a timeout on every request.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The providers a login page offers: those discovered.
    pub fn available(&self) -> Vec<OidcProvider> {
        self.entries
            .iter()
            .filter(|entry| entry.current().is_some())
            .map(|entry| OidcProvider {
                name: entry.settings.name.clone(),
                label: entry.settings.label.clone(),
            })
            .collect()
    }

    /// The settings and discovery of provider `name`, if it is configured and discovered.
    pub fn get(&self, name: &str) -> Option<(&ProviderSettings, Arc<Discovered>)> {
        let entry = self.entries.iter().find(|entry| entry.settings.name == name)?;
        Some((&entry.settings, entry.current()?))
    }

    /// The label of provider `name`, discovered or not.
    pub fn label<'a>(&'a self, name: &'a str) -> &'a str {
        self.entries
            .iter()
            .find(|entry| entry.settings.name == name)
            .map_or(name, |entry| &entry.settings.label)
    }

    /// Starts discovering every provider in the background, and waits at most `wait` for the
    /// first round, so a provider that answers at once has its button from the first page.
    pub async fn start_discovery(self: &Arc<Self>, wait: Duration) {
        let (done, mut finished) = tokio::sync::mpsc::channel::<()>(self.entries.len().max(1));
        for index in 0..self.entries.len() {
            tokio::spawn(Arc::clone(self).keep_discovered(index, done.clone()));
        }
        drop(done);
        let first_round = async { while finished.recv().await.is_some() {} };
        let _ = tokio::time::timeout(wait, first_round).await;
    }

    /// Discovers provider `index` until it answers, then again every hour, for good.
    async fn keep_discovered(self: Arc<Self>, index: usize, first_round: tokio::sync::mpsc::Sender<()>) {
        let mut first_round = Some(first_round);
        let mut retry = FIRST_RETRY;
        loop {
            let entry = &self.entries[index];
            let wait = match self.discover(entry).await {
                Ok(discovered) => {
                    if entry.current().is_none() {
                        tracing::info!(provider = %entry.settings.name, "social login provider discovered");
                    }
                    *entry.discovered.write().unwrap_or_else(PoisonError::into_inner) =
                        Some(Arc::new(discovered));
                    retry = FIRST_RETRY;
                    REDISCOVERY_INTERVAL
                }
                Err(problem) => {
                    let shown = if entry.current().is_some() {
                        "kept the last discovery"
                    } else {
                        "its button stays hidden"
                    };
                    tracing::warn!(provider = %entry.settings.name, %problem, retry_in = ?retry, "social login provider discovery failed; {shown}");
                    let wait = retry;
                    retry = (retry * 2).min(LAST_RETRY);
                    wait
                }
            };
            first_round.take();
            tokio::time::sleep(wait).await;
        }
    }

    async fn discover(&self, entry: &Entry) -> Result<Discovered, String> {
        let issuer = IssuerUrl::new(entry.settings.issuer.clone()).map_err(|err| err.to_string())?;
        let metadata = CoreProviderMetadata::discover_async(issuer.clone(), &self.http)
            .await
            .map_err(|err| error_chain(&err))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(entry.settings.client_id.clone()),
            Some(ClientSecret::new(entry.settings.client_secret.clone())),
        )
        .set_redirect_uri(entry.redirect.clone());
        Ok(Discovered { client, issuer })
    }
}

impl Entry {
    fn current(&self) -> Option<Arc<Discovered>> {
        self.discovered.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// An error and its sources, for the log: "discovery failed: request failed: connection refused".
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
