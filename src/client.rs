//! The browser side of the flow. The access token lives in a signal (memory only: never web
//! storage, never a cookie), every API call goes through `fetch`, and `refresh` renews the token
//! before it expires. Calls only go one way: `fetch` → `refresh` → `store`, each also using
//! `request` (how a request is built, with `dpop`'s proof) and `browser` (the browser's own APIs;
//! `dpop/key_store` holds the two it alone needs, WebCrypto and IndexedDB).
//!
//! The server compiles this too, to render the logged-out first paint, but never runs the parts
//! that need a browser: those start in effects, which run only after hydration. `browser` is
//! the one module that calls into the browser; the server gets its inert twin instead.

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(not(target_arch = "wasm32"))]
#[path = "client/browser_twin.rs"]
pub mod browser;
pub mod dpop;
pub mod fetch;
pub mod json;
pub mod refresh;
pub mod request;
pub mod store;
pub mod tabs;

use gloo_timers::callback::Interval;
use leptos::prelude::*;

/// A Unix time (seconds) in the browser's locale and time zone.
pub use browser::local_time;
/// Milliseconds on the browser's monotonic clock (`performance.now()`), which a wrong or
/// changed wall clock does not move. Token lifetimes are measured on it from `expires_in`.
pub use browser::now_ms;

/// Whether the page has finished hydrating; provided by the wasm's entry point
/// (`frontend/src/lib.rs`).
#[derive(Clone, Copy)]
pub struct Hydrated(pub ReadSignal<bool>);

/// Runs `start` once, in the browser, when the whole page has hydrated (lazy routes included).
pub fn on_hydrated(start: impl FnOnce() + 'static) {
    let Some(Hydrated(hydrated)) = use_context::<Hydrated>() else { return }; // on the server
    let mut start = Some(start);
    Effect::new(move || {
        if hydrated.get() {
            if let Some(start) = start.take() {
                start();
            }
        }
    });
}

/// Calls `tick` every `period_ms` while the calling component is mounted, in the browser only.
pub fn use_interval(period_ms: u32, tick: impl FnMut() + 'static) {
    let handle = StoredValue::new_local(None::<Interval>);
    let mut tick = Some(tick);
    Effect::new(move || {
        if let Some(tick) = tick.take() {
            // Replacing or disposing the stored handle drops the interval, which cancels it.
            handle.set_value(Some(Interval::new(period_ms, tick)));
        }
    });
}

/// The header and claims of a JWT, decoded in the browser and indented for reading. The
/// signature is NOT checked here: the server checks it on every call (`src/auth/tokens.rs`).
pub fn decode_jwt_parts(token: &str) -> Option<(String, String)> {
    let mut parts = token.split('.');
    let mut decode = || {
        let bytes = browser::decode_base64url(parts.next()?)?;
        json::pretty_text(std::str::from_utf8(&bytes).ok()?)
    };
    let header = decode()?;
    let claims = decode()?;
    Some((header, claims))
}
