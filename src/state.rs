//! The application state: one struct of the parts a handler may need, and nothing else. It
//! depends only on those parts; `http/` reads it and the start-up module (`server.rs`) builds it.
//! Below `http/`, nothing knows it exists: `auth/` and `db/` take the one part they use.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::auth::limits::Limits;
use crate::auth::oidc::Providers;
use crate::auth::password::Passwords;
use crate::auth::tokens::Tokens;
use crate::config::Config;
use crate::db::Pool;
use crate::mail::Mailer;
use crate::metrics::Metrics;

/// Everything a handler may need. One `Arc`, so the clone that every extractor and
/// middleware makes per request is a single reference-count increment.
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

/// The parts, each owned by the module that knows how it works.
pub struct Parts {
    pub leptos_options: LeptosOptions,
    pub config: Config,
    pub db: Pool,
    pub tokens: Tokens,
    pub passwords: Passwords,
    pub limits: Limits,
    /// The mail queue (`mail.rs`): reset and verification links.
    pub mailer: Mailer,
    /// The social-login providers (none configured: the feature is off).
    pub oidc: Arc<Providers>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(parts: Parts) -> Self {
        Self(Arc::new(parts))
    }
}

impl Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// What `leptos_axum` needs to render pages and serve files.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// What `GET /metrics` and the counting middleware need.
impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.metrics)
    }
}
