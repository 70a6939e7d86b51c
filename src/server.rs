//! Application state, the assembled router, and serving it. `main` and the integration tests
//! both go through `AppState::new` and `router`, so the tests run exactly what ships.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::FromRef;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::app::{shell, App};
use crate::auth::keys::{KeyError, KeyRing};
use crate::auth::password::Passwords;
use crate::auth::tokens::Tokens;
use crate::config::Config;
use crate::db::{self, DbError, Pool};

/// Everything a handler may need, cloned cheaply into each request.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Pool,
    pub tokens: Arc<Tokens>,
    pub passwords: Arc<Passwords>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error("cannot prepare password hashing: {0}")]
    Passwords(String),
}

impl AppState {
    /// Opens and migrates the database, loads (or creates) the signing keys.
    pub async fn new(config: &Config, leptos_options: LeptosOptions) -> Result<Self, StartupError> {
        let db = db::connect_and_migrate(&config.database_url).await?;
        let keys = KeyRing::load_or_create(&db).await?;
        let passwords = Passwords::new().await.map_err(|err| StartupError::Passwords(err.to_string()))?;
        Ok(Self {
            leptos_options,
            db,
            tokens: Arc::new(Tokens::new(keys, config)),
            passwords: Arc::new(passwords),
        })
    }
}

/// The whole app: the JSON API under `/api`, the server-rendered pages, static files.
pub fn router(state: AppState) -> Router {
    let pages = generate_route_list(App);
    let options = state.leptos_options.clone();
    Router::new()
        .merge(crate::http::api_router())
        .leptos_routes(&state, pages, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `app` until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await
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
