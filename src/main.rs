//! The `tokenpair` server: read settings, set up logging, serve.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use tracing_subscriber::EnvFilter;

    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tokenpair=info")),
        )
        .init();
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("tokenpair: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "ssr")]
async fn run() -> Result<(), Box<dyn std::error::Error>> {
    use tokenpair::config::Config;
    use tokenpair::server::{router, serve, shutdown_signal, AppState};

    let config = Config::from_env()?;
    // Leptos reads its own settings (LEPTOS_SITE_ADDR, LEPTOS_SITE_ROOT, ...) from the
    // environment, with defaults cargo-leptos compiled in.
    let leptos_options = leptos::config::get_configuration(None)?.leptos_options;
    let addr = leptos_options.site_addr;
    let state = AppState::new(&config, leptos_options).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("listening on http://{addr}");
    serve(listener, router(state), shutdown_signal()).await?;
    Ok(())
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser half has no `main`: its entry point is `tokenpair::hydrate`.
}
