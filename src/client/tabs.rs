//! Coordination between the tabs of one browser, which share the refresh cookie:
//! - a Web Lock (`navigator.locks`) lets one tab refresh at a time, so tabs never rotate the
//!   same cookie twice;
//! - a `BroadcastChannel` hands a new access token, a login and a logout to every other tab.
//!
//! Both are browser-only; on the server (and in a browser without them) every function here
//! quietly does nothing, and each tab just works on its own.

use serde::{Deserialize, Serialize};

use crate::api::TokenResponse;

/// How long a tab waits for another tab's refresh before going ahead anyway.
pub const LOCK_WAIT_MS: u32 = 5_000;

/// What one tab tells the others. Externally tagged (serde's default), so reading it needs no
/// buffering: an internally tagged enum pulled serde's `Content` machinery into the wasm.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TabMessage {
    /// A new access token (after a login or a refresh), with the milliseconds it has left.
    Token {
        tokens: TokenResponse,
        remaining_ms: f64,
    },
    LoggedOut,
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use std::cell::RefCell;
    use std::future::Future;

    use futures::channel::oneshot;
    use futures::future::{select, Either};
    use futures::FutureExt;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{BroadcastChannel, MessageEvent};

    use super::*;
    use crate::client::json;

    const CHANNEL: &str = "tokenpair-auth";
    const LOCK: &str = "tokenpair-refresh";

    #[wasm_bindgen]
    extern "C" {
        /// `navigator.locks.request(name, callback)`: the lock is held until the promise the
        /// callback returns settles.
        #[wasm_bindgen(catch, js_namespace = ["navigator", "locks"], js_name = request)]
        fn request_lock(name: &str, callback: &js_sys::Function) -> Result<js_sys::Promise, JsValue>;
    }

    thread_local! {
        static CHANNEL_HANDLE: RefCell<Option<BroadcastChannel>> = const { RefCell::new(None) };
    }

    pub fn listen(on_message: impl Fn(TabMessage) + 'static) {
        let Ok(channel) = BroadcastChannel::new(CHANNEL) else { return };
        let handler = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(message) = json::from_js(event.data()) {
                on_message(message);
            }
        });
        channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        // The tab listens for as long as it lives.
        handler.forget();
        CHANNEL_HANDLE.with(|slot| *slot.borrow_mut() = Some(channel));
    }

    pub fn tell_others(message: &TabMessage) {
        let Some(message) = json::to_js(message) else { return };
        CHANNEL_HANDLE.with(|slot| {
            if let Some(channel) = slot.borrow().as_ref() {
                let _ = channel.post_message(&message);
            }
        });
    }

    pub async fn with_lock<T>(work: impl Future<Output = T>) -> T {
        let (acquired_tx, acquired_rx) = oneshot::channel::<()>();
        let (release_tx, release_rx) = oneshot::channel::<()>();
        // Called once, when the lock is granted; JS frees the closure after that call.
        let callback = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
            let _ = acquired_tx.send(());
            wasm_bindgen_futures::future_to_promise(async move {
                // Resolves on release, or at once if the waiter already gave up.
                let _ = release_rx.await;
                Ok(JsValue::UNDEFINED)
            })
        });
        if request_lock(LOCK, callback.unchecked_ref()).is_err() {
            return work.await; // no Web Locks here: this tab works alone
        }
        let timeout = gloo_timers::future::TimeoutFuture::new(LOCK_WAIT_MS);
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
}

#[cfg(target_arch = "wasm32")]
pub use browser::{listen, tell_others, with_lock};

#[cfg(not(target_arch = "wasm32"))]
pub fn listen(_on_message: impl Fn(TabMessage) + 'static) {}

#[cfg(not(target_arch = "wasm32"))]
pub fn tell_others(_message: &TabMessage) {}

#[cfg(not(target_arch = "wasm32"))]
pub async fn with_lock<T>(work: impl std::future::Future<Output = T>) -> T {
    work.await
}
