//! The browser side of the flow. The access token lives in a signal (memory only: never web
//! storage, never a cookie), every API call goes through `fetch`, and `refresh` renews the token
//! before it expires. The server compiles this too, to render the logged-out first paint, but
//! never runs the parts that need a browser: those start in effects, which run only after
//! hydration.

pub mod fetch;
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
