//! The browser side of the flow. The access token lives in a signal (memory only: never web
//! storage, never a cookie), every API call goes through `fetch`, and `refresh` renews the token
//! before it expires. The server compiles this too, to render the logged-out first paint, but
//! never runs the parts that need a browser: those start in effects, which run only after
//! hydration.

pub mod fetch;
pub mod json;
pub mod refresh;
pub mod store;
pub mod tabs;

use gloo_timers::callback::Interval;
use leptos::prelude::*;

/// Milliseconds on the browser's monotonic clock (`performance.now()`), which a wrong or
/// changed wall clock does not move. Token lifetimes are measured on it from `expires_in`.
pub fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window().and_then(|window| window.performance()).map_or(0.0, |p| p.now())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

/// Whether the page has finished hydrating; provided by the wasm's entry point (`crate::hydrate`).
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

/// A Unix time (seconds) in the browser's locale and time zone.
pub fn local_time(unix_secs: i64) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_secs as f64 * 1000.0));
        String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        unix_secs.to_string()
    }
}

/// The header and claims of a JWT, decoded in the browser and indented for reading. The
/// signature is NOT checked here: the server checks it on every call (`src/auth/tokens.rs`).
pub fn decode_jwt_parts(token: &str) -> Option<(String, String)> {
    let mut parts = token.split('.');
    let header = decode_base64url_json(parts.next()?)?;
    let claims = decode_base64url_json(parts.next()?)?;
    Some((header, claims))
}

fn decode_base64url_json(part: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        let mut standard: String = part
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        while !standard.len().is_multiple_of(4) {
            standard.push('=');
        }
        let binary = web_sys::window()?.atob(&standard).ok()?;
        let bytes: Vec<u8> = binary.chars().map(|c| c as u8).collect();
        json::pretty_text(std::str::from_utf8(&bytes).ok()?)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = part;
        None
    }
}
