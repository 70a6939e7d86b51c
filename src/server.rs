//! Start-up: build the state from the settings, assemble the router, serve, shut down. `main`
//! and the integration tests both go through `build_state` and `router`, so the tests run
//! exactly what ships.

use std::future::Future;
use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::middleware::from_fn_with_state;
use axum::Router;
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::keys::{KeyError, Keys, RELOAD_INTERVAL};
use crate::auth::limits::Limits;
use crate::auth::oidc::Providers;
use crate::auth::password::Passwords;
use crate::auth::revocation_feed;
use crate::auth::seed_cipher::SeedCipher;
use crate::auth::signatures;
use crate::auth::tokens::Tokens;
use crate::config::Config;
use crate::db::retention::{self, Retention};
use crate::db::{self, DbError, Engine};
use crate::mail::{self, transport::Transport, Mailer};
use crate::metrics::Metrics;
use crate::state::{AppState, Parts};

mod connections;

pub use connections::ConnectionLimits;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error("cannot prepare password hashing: {0}")]
    Passwords(String),
    #[error("cannot prepare social login: {0}")]
    SocialLogin(String),
    #[error("cannot prepare mail: {0}")]
    Mail(String),
}

/// Opens and migrates the database, loads (or creates) the signing keys and the revocations of
/// the last access lifetime, starts the hashing threads, and starts the background work: the
/// upkeep (key reloads, revocation catch-up, forgetting idle rate-limit entries, retention)
/// and, on PostgreSQL, the listener that hears other instances' revocations at once.
pub async fn build_state(config: &Config, leptos_options: LeptosOptions) -> Result<AppState, StartupError> {
    // Before anything touches a JWT or a JWK (loading the keys computes thumbprints).
    signatures::install();
    let db = db::connect_and_migrate(&config.database_url).await?;
    let keys = Keys::load_or_create(&db, seed_cipher(config)?).await?;
    let passwords =
        Passwords::new(config.password_hash_queue).map_err(|err| StartupError::Passwords(err.to_string()))?;
    let limits = Limits::new(config, &db);
    let tokens = Tokens::new(keys, config);
    revocation_feed::catch_up(&tokens, &db).await.map_err(DbError::Connect)?;
    let oidc = social_login(config).await?;
    let mailer = start_mail(config, &db)?;
    let state = AppState::new(Parts {
        leptos_options,
        config: config.clone(),
        db,
        tokens,
        passwords,
        limits,
        mailer,
        oidc,
        metrics: Arc::new(Metrics::default()),
    });
    tokio::spawn(upkeep(state.clone()));
    if Engine::of_pool(&state.db) == Engine::Postgres {
        tokio::spawn(listen_for_revocations(state.clone()));
    }
    Ok(state)
}

/// The social-login providers, discovery begun: each that answers within a few seconds has its
/// button from the first page; the others are retried in the background and say so in the log.
async fn social_login(config: &Config) -> Result<Arc<Providers>, StartupError> {
    let origin = config.app_origins.first().map_or("", String::as_str);
    let providers = Providers::new(&config.oidc_providers, origin, config.oidc_timeout)
        .map_err(StartupError::SocialLogin)?;
    let providers = Arc::new(providers);
    providers.start_discovery(DISCOVERY_WAIT).await;
    Ok(providers)
}

/// The mail queue, and its sender started: over SMTP, or into the log without `SMTP_URL` (said
/// here once, at WARN, since no reset link then reaches anyone's mailbox).
fn start_mail(config: &Config, db: &db::Pool) -> Result<Mailer, StartupError> {
    let transport =
        Transport::new(config.smtp_url.as_deref(), &config.mail_from).map_err(StartupError::Mail)?;
    if !transport.delivers() {
        tracing::warn!(
            "mail is not being delivered (no SMTP_URL): each mail, link included, is written to this log"
        );
    }
    let origin = config.app_origins.first().map_or("", String::as_str);
    let mailer = Mailer::new(origin, config.require_verified_email);
    tokio::spawn(mail::outbox::run(db.clone(), transport, mailer.wake()));
    Ok(mailer)
}

/// How long start-up waits for the providers' first discovery before serving without them.
const DISCOVERY_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// The cipher for the signing keys' seeds, from `SIGNING_KEY_ENCRYPTION_KEY_FILE`.
pub fn seed_cipher(config: &Config) -> Result<SeedCipher, KeyError> {
    let cipher = SeedCipher::from_key_file(config.signing_key_encryption_key_file.as_deref())?;
    if !cipher.encrypts() {
        tracing::info!(
            "signing keys are stored unencrypted: reading the database means holding them \
             (set SIGNING_KEY_ENCRYPTION_KEY_FILE to seal them)"
        );
    }
    Ok(cipher)
}

/// How often the retention job runs, in key-reload ticks (40 x 15 s: every 10 minutes).
const RETENTION_EVERY_TICKS: u32 = 40;

/// Reloads the key ring (another instance or `tokenpair keys rotate` may have added a key),
/// reads the revocations of the window again (what a lost notification missed, or all of them
/// on SQLite when another process revoked), lets go of rate-limit entries that have fully
/// replenished, and now and then deletes what retention no longer keeps (`db/retention.rs`).
async fn upkeep(state: AppState) {
    let mut every = tokio::time::interval(RELOAD_INTERVAL);
    for tick in 0_u32.. {
        every.tick().await;
        if let Err(err) = state.tokens.reload_keys(&state.db).await {
            tracing::warn!(error = %err, "could not reload signing keys; keeping the current ones");
        }
        if let Err(err) = revocation_feed::catch_up(&state.tokens, &state.db).await {
            tracing::warn!(error = %err, "could not read revocations; trying again at the next tick");
        }
        if let Err(err) = state.limits.forget_idle().await {
            tracing::warn!(error = %err, "could not forget replenished rate limits");
        }
        if tick % RETENTION_EVERY_TICKS == 0 {
            apply_retention(&state).await;
        }
    }
}

async fn listen_for_revocations(state: AppState) {
    revocation_feed::follow(&state.tokens, &state.db, &state.config.database_listen_url).await;
}

async fn apply_retention(state: &AppState) {
    let retention = Retention {
        sessions: state.config.session_retention,
        events: state.config.event_retention,
        revocations: state.tokens.revoked.window(),
    };
    match retention::run(&state.db, retention, crate::auth::unix_now()).await {
        Ok(deleted) => tracing::info!(
            sessions = deleted.sessions,
            events = deleted.events,
            revocations = deleted.revocations,
            links = deleted.one_time_tokens,
            "retention applied"
        ),
        Err(err) => tracing::warn!(error = %err, "could not apply retention; trying again later"),
    }
}

/// The whole app: the JSON API, the server-rendered pages, static files, security headers.
pub fn router(state: AppState) -> Router {
    use crate::http::middleware::{allowed_host, deadline};
    let (api, _) = crate::http::api(&state);
    // Behind HTTPS, browsers are told to come back only over HTTPS for a year (the deployment
    // may add includeSubDomains and preload at its proxy; we cannot know its other hosts).
    let https = state.config.app_origins.iter().any(|origin| origin.starts_with("https://"));
    let hsts = https.then(|| default_header(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"));
    Router::new()
        .merge(api)
        .merge(crate::http::pages::routes(&state))
        // One `ServiceBuilder` stack rather than a `.layer` call each: axum wraps every route
        // in a boxed service per `.layer`, and each box costs a clone and an allocation on
        // every request. Every response gets these headers unless it set its own: pages set a
        // CSP with their nonce (`http/pages.rs`); anything else may run and embed nothing.
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(from_fn_with_state(state.clone(), allowed_host))
                .layer(from_fn_with_state(state.clone(), deadline))
                .layer(default_header(header::REFERRER_POLICY, "no-referrer"))
                .layer(default_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                // No other site's window keeps a handle on ours (a window we open ourselves may
                // keep its link to us: the lab's cross-site demo hears back through it, as a
                // sign-in popup of a social platform would), and no other site may load what we
                // answer (a script tag reading a JSON answer, a page in its process).
                .layer(default_header(CROSS_ORIGIN_OPENER_POLICY, "same-origin-allow-popups"))
                .layer(default_header(CROSS_ORIGIN_RESOURCE_POLICY, "same-origin"))
                .option_layer(hsts)
                .layer(default_header(
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; frame-ancestors 'none'",
                )),
        )
        .with_state(state)
}

const CROSS_ORIGIN_OPENER_POLICY: header::HeaderName =
    header::HeaderName::from_static("cross-origin-opener-policy");
const CROSS_ORIGIN_RESOURCE_POLICY: header::HeaderName =
    header::HeaderName::from_static("cross-origin-resource-policy");

fn default_header(name: header::HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests finish
/// (`server/connections.rs` has the timeouts and the connection cap). Refuses to serve the
/// attack lab on a listener that is not loopback: the address is read from the listener
/// itself, whatever the settings said.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let bound = listener.local_addr()?;
    if config.lab && !bound.ip().is_loopback() {
        let problem = format!("TOKENPAIR_LAB: the attack lab only runs on a loopback address, not {bound}");
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, problem));
    }
    let limits =
        ConnectionLimits { header_timeout: config.header_timeout, max_connections: config.max_connections };
    connections::serve(listener, app, crate::http::health::shedding(), limits, shutdown).await
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
