//! Every call into the browser's own APIs, in one place: the clock, cookies, visibility,
//! randomness, base64, `JSON`, `BroadcastChannel`, Web Locks, windows and the back/forward
//! cache. Compiled for the
//! browser only (`client.rs` gates it at its `mod` line); on the server its twin,
//! `browser_twin.rs`, has the same functions doing nothing, because the server renders the
//! first paint of the same components but never runs what needs a browser.

use std::cell::RefCell;
use std::future::Future;

use futures::channel::oneshot;
use futures::future::{select, Either};
use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, HtmlDocument, MessageEvent, PageTransitionEvent};

/// Milliseconds on the browser's monotonic clock (`performance.now()`).
pub fn now_ms() -> f64 {
    web_sys::window().and_then(|window| window.performance()).map_or(0.0, |p| p.now())
}

/// A Unix time (seconds) in the browser's locale and time zone.
pub fn local_time(unix_secs: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(unix_secs as f64 * 1000.0));
    String::from(date.to_locale_string("default", &JsValue::UNDEFINED))
}

/// A random number in `[0, 1)`, for jitter (not for secrets).
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// Whether the page is visible (a hidden tab's timers are throttled).
pub fn is_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
}

/// `document.cookie`: the cookies scripts can read (never the HttpOnly refresh cookie).
pub fn document_cookie() -> String {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.dyn_into::<HtmlDocument>().ok())
        .and_then(|d| d.cookie().ok())
        .unwrap_or_default()
}

/// The bytes of base64url text (unpadded, as in a JWT), through the browser's `atob`.
pub fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    let mut standard: String = text
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
    Some(binary.chars().map(|c| c as u8).collect())
}

/// `bytes` as base64url text (unpadded, as in a JWT), through the browser's `btoa`.
pub fn encode_base64url(bytes: &[u8]) -> String {
    let binary: String = bytes.iter().map(|&byte| char::from(byte)).collect();
    let standard = web_sys::window().and_then(|window| window.btoa(&binary).ok()).unwrap_or_default();
    standard.trim_end_matches('=').replace('+', "-").replace('/', "_")
}

/// `JSON.parse(text)`.
pub fn json_parse(text: &str) -> Option<JsValue> {
    js_sys::JSON::parse(text).ok()
}

/// `JSON.stringify(value)`, or indented by `indent` spaces.
pub fn json_stringify(value: &JsValue, indent: Option<u32>) -> Option<String> {
    let text = match indent {
        None => js_sys::JSON::stringify(value),
        Some(spaces) => {
            js_sys::JSON::stringify_with_replacer_and_space(value, &JsValue::NULL, &JsValue::from(spaces))
        }
    };
    text.ok()?.as_string()
}

/// `value` as a JavaScript value shaped as JSON has it: `None` is `null`, maps are objects.
pub fn to_js(value: &impl Serialize) -> Option<JsValue> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).ok()
}

/// A JavaScript value (from `JSON.parse`, a message) as `T`.
pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Option<T> {
    serde_wasm_bindgen::from_value(value).ok()
}

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks.request(name, callback)`: the lock is held until the promise the
    /// callback returns settles.
    #[wasm_bindgen(catch, js_namespace = ["navigator", "locks"], js_name = request)]
    fn request_lock(name: &str, callback: &js_sys::Function) -> Result<js_sys::Promise, JsValue>;
}

thread_local! {
    static CHANNEL: RefCell<Option<BroadcastChannel>> = const { RefCell::new(None) };
}

/// Joins the `BroadcastChannel` named `name` for the life of the tab, handing every message to
/// `on_message`.
pub fn listen_to_channel(name: &str, on_message: impl Fn(JsValue) + 'static) {
    let Ok(channel) = BroadcastChannel::new(name) else { return };
    let handler = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| on_message(event.data()));
    channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The tab listens for as long as it lives.
    handler.forget();
    CHANNEL.with(|slot| *slot.borrow_mut() = Some(channel));
}

/// Posts `message` to the other tabs on the channel joined by `listen_to_channel`.
pub fn post_to_channel(message: &JsValue) {
    CHANNEL.with(|slot| {
        if let Some(channel) = slot.borrow().as_ref() {
            // A message that cannot be cloned is dropped: the other tabs then refresh themselves.
            let _ = channel.post_message(message);
        }
    });
}

/// Runs `work` holding the Web Lock `name`, waiting at most `wait_ms` for it; without Web Locks,
/// or after the wait, it runs `work` anyway.
pub async fn with_lock<T>(name: &str, wait_ms: u32, work: impl Future<Output = T>) -> T {
    let (acquired_tx, acquired_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    // Called once, when the lock is granted; JS frees the closure after that call.
    let callback = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
        // The waiter may have given up already; then nobody listens.
        let _ = acquired_tx.send(());
        wasm_bindgen_futures::future_to_promise(async move {
            // Resolves on release, or at once if the waiter already gave up.
            let _ = release_rx.await;
            Ok(JsValue::UNDEFINED)
        })
    });
    if request_lock(name, callback.unchecked_ref()).is_err() {
        return work.await; // no Web Locks here: this tab works alone
    }
    let timeout = gloo_timers::future::TimeoutFuture::new(wait_ms);
    let outcome = match select(acquired_rx.fuse(), timeout).await {
        Either::Left(_) => {
            // Let messages another tab posted while we waited arrive before we decide.
            gloo_timers::future::TimeoutFuture::new(0).await;
            work.await
        }
        Either::Right(_) => work.await, // waited long enough: go ahead anyway
    };
    drop(release_tx);
    outcome
}

/// This page's host name, port and origin.
pub fn location() -> Option<(String, String, String)> {
    let location = web_sys::window()?.location();
    Some((location.hostname().ok()?, location.port().ok()?, location.origin().ok()?))
}

/// The token of a mailed link, from this page's fragment (`#token=…`): the part of a URL that
/// no browser sends to a server, so it reaches no log and no `Referer`.
pub fn link_token() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let token = hash.strip_prefix("#token=")?.split('&').next()?;
    (!token.is_empty()).then(|| token.to_owned())
}

/// Leaves the app for `url` (a provider's authorization page), as a link click would.
pub fn go_to(url: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(url);
    }
}

/// Opens `url` in a new window, handing every message posted to this window to `on_message`.
pub fn open_window_and_listen(url: &str, on_message: impl Fn(JsValue) + 'static) {
    let Some(window) = web_sys::window() else { return };
    let handler = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| on_message(event.data()));
    window.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    // A blocked pop-up shows as a demo that never reports back.
    let _ = window.open_with_url(url);
}

/// Calls `on_restored` each time the page comes back from the back/forward cache (`pageshow`
/// with `persisted`): its memory is as it was when the person left, which may be before a
/// logout in another page.
pub fn on_restored_from_history(on_restored: impl Fn() + 'static) {
    let Some(window) = web_sys::window() else { return };
    let handler = Closure::<dyn Fn(PageTransitionEvent)>::new(move |event: PageTransitionEvent| {
        if event.persisted() {
            on_restored();
        }
    });
    let _ = window.add_event_listener_with_callback("pageshow", handler.as_ref().unchecked_ref());
    // The tab listens for as long as it lives.
    handler.forget();
}
