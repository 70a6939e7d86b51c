//! Coordination between the tabs of one browser, which share the refresh cookie:
//! - a Web Lock (`navigator.locks`) lets one tab refresh at a time, so tabs never rotate the
//!   same cookie twice;
//! - a `BroadcastChannel` hands a new access token, a login and a logout to every other tab.
//!
//! In a browser without them (and on the server) these quietly do nothing, and each tab just
//! works on its own.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::{browser, json};
use crate::api::TokenResponse;

/// How long a tab waits for another tab's refresh before going ahead anyway.
pub const LOCK_WAIT_MS: u32 = 5_000;
const CHANNEL: &str = "tokenpair-auth";
const LOCK: &str = "tokenpair-refresh";

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

/// Hands every message from another tab to `on_message`, for the life of this tab.
pub fn listen(on_message: impl Fn(TabMessage) + 'static) {
    browser::listen_to_channel(CHANNEL, move |data| {
        if let Some(message) = json::from_js(data) {
            on_message(message);
        }
    });
}

pub fn tell_others(message: &TabMessage) {
    if let Some(message) = json::to_js(message) {
        browser::post_to_channel(&message);
    }
}

/// Runs `work` while holding the refresh lock shared by the tabs (or after `LOCK_WAIT_MS`).
pub async fn with_lock<T>(work: impl Future<Output = T>) -> T {
    browser::with_lock(LOCK, LOCK_WAIT_MS, work).await
}
