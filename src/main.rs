//! The `tokenpair` server: read settings, set up logging, serve. Also `tokenpair keys rotate`
//! and `tokenpair keys revoke <kid>`.

/// mimalloc rather than glibc's malloc: a request allocates and frees dozens of small blocks.
/// With it an unauthenticated request costs 27.4k user-space instructions instead of 31.3k
/// (callgrind); glibc's malloc and free were 6 to 7 % of the server's CPU under load (`perf`).
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    if let Err(err) = init_logging() {
        eprintln!("tokenpair: {err}");
        return std::process::ExitCode::FAILURE;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => serve().await,
        ["keys", "rotate"] => rotate_keys().await,
        ["keys", "revoke", kid] => revoke_key(kid).await,
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tokenpair: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: tokenpair                   run the server
       tokenpair keys rotate          add a new signing key; the old one keeps verifying
       tokenpair keys revoke <kid>    remove a key that may have leaked: every token it signed is refused";

/// Logs go to stdout through `tracing`: human-readable lines, or one JSON object per line
/// with `LOG_FORMAT=json` for log collectors. `RUST_LOG` filters them (default `info`).
#[cfg(feature = "ssr")]
fn init_logging() -> Result<(), String> {
    use tracing_subscriber::EnvFilter;

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match std::env::var("LOG_FORMAT").as_deref() {
        Err(_) | Ok("text") => logs.init(),
        Ok("json") => logs.json().init(),
        Ok(other) => return Err(format!("LOG_FORMAT must be text or json, not {other:?}")),
    }
    Ok(())
}

#[cfg(feature = "ssr")]
async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    use tokenpair::config::Config;
    use tokenpair::server::{build_state, router, serve, shutdown_signal};

    let config = Config::from_env()?;
    // Leptos reads its own settings (LEPTOS_SITE_ADDR, LEPTOS_SITE_ROOT, ...) from the
    // environment, with defaults cargo-leptos compiled in.
    let leptos_options = leptos::config::get_configuration(None)?.leptos_options;
    let addr = leptos_options.site_addr;
    let state = build_state(&config, leptos_options).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("listening on http://{addr}");
    serve(listener, router(state), &config, shutdown_signal()).await?;
    Ok(())
}

/// Adds a signing key that starts signing a minute from now; running servers pick it up
/// before then, and keep verifying tokens signed by the old key until they expire.
#[cfg(feature = "ssr")]
async fn rotate_keys() -> Result<(), Box<dyn std::error::Error>> {
    use tokenpair::auth::keys;
    use tokenpair::config::Config;

    let config = Config::from_env()?;
    let pool = tokenpair::db::connect_and_migrate(&config.database_url).await?;
    let cipher = tokenpair::server::seed_cipher(&config)?;
    let longest = config.refresh_token_ttl.max(config.session_max_lifetime.unwrap_or_default());
    let (kid, activates_at) = keys::rotate(&pool, &cipher, longest).await?;
    println!("new signing key {kid}: published now, signs from {activates_at} (Unix time)");
    Ok(())
}

/// Deletes a signing key: running servers refuse every token it signed at once (PostgreSQL's
/// notification) or within 15 s, and its users log in again.
#[cfg(feature = "ssr")]
async fn revoke_key(kid: &str) -> Result<(), Box<dyn std::error::Error>> {
    use tokenpair::auth::keys;
    use tokenpair::config::Config;

    let config = Config::from_env()?;
    let pool = tokenpair::db::connect_and_migrate(&config.database_url).await?;
    let cipher = tokenpair::server::seed_cipher(&config)?;
    let revoked = keys::revoke(&pool, &cipher, kid).await?;
    println!("revoked signing key {kid}: every token it signed is refused; its users log in again");
    if let Some(new_kid) = revoked.replaced_by {
        println!("new signing key {new_kid} signs from now on");
    }
    Ok(())
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser half has no `main`: its entry point is `hydrate` in `frontend/src/lib.rs`.
}
