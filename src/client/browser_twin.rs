//! The server's twin of `browser.rs`: the same functions, doing nothing. The server renders
//! the first paint of the same components, which name these functions, but it never calls
//! them: they run in effects and event handlers, which exist only in the browser.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

pub fn now_ms() -> f64 {
    0.0
}

/// The Unix time itself: there is no browser locale on the server.
pub fn local_time(unix_secs: i64) -> String {
    unix_secs.to_string()
}

pub fn random() -> f64 {
    0.5
}

pub fn is_visible() -> bool {
    true
}

pub fn document_cookie() -> String {
    String::new()
}

pub fn decode_base64url(_text: &str) -> Option<Vec<u8>> {
    None
}

pub fn encode_base64url(_bytes: &[u8]) -> String {
    String::new()
}

pub fn json_parse(_text: &str) -> Option<JsValue> {
    None
}

pub fn json_stringify(_value: &JsValue, _indent: Option<u32>) -> Option<String> {
    None
}

pub fn to_js(_value: &impl Serialize) -> Option<JsValue> {
    None
}

pub fn from_js<T: DeserializeOwned>(_value: JsValue) -> Option<T> {
    None
}

pub fn listen_to_channel(_name: &str, _on_message: impl Fn(JsValue) + 'static) {}

pub fn post_to_channel(_message: &JsValue) {}

pub async fn with_lock<T>(_name: &str, _wait_ms: u32, work: impl Future<Output = T>) -> T {
    work.await
}

pub fn location() -> Option<(String, String, String)> {
    None
}

pub fn open_window_and_listen(_url: &str, _on_message: impl Fn(JsValue) + 'static) {}

pub fn on_restored_from_history(_on_restored: impl Fn() + 'static) {}
pub fn go_to(_url: &str) {}
pub fn link_token() -> Option<String> {
    None
}
