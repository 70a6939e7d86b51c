//! JSON in the browser: the browser's own `JSON` parses and writes the text, and
//! serde-wasm-bindgen moves values between JavaScript and our types, so the wasm carries no JSON
//! parser of its own. (When this was measured, serde_json was 13.9 KB of the then 242.4 KB brotli
//! main wasm; README, "The client's weight".)
//!
//! The server compiles this too but never calls it: every caller runs after hydration, and on
//! the server `browser`'s twin answers `None` to everything.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

use super::browser;

/// Reads a response body as `T`.
pub async fn read<T: DeserializeOwned>(response: &Response) -> Result<T, gloo_net::Error> {
    let text = response.text().await?;
    let value = browser::json_parse(&text).ok_or_else(|| unexpected("a body that is not JSON"))?;
    from_js(value).ok_or_else(|| unexpected("a JSON body of another shape"))
}

/// Finishes `request` with `value` as its JSON body.
pub fn with_body(request: RequestBuilder, value: &impl Serialize) -> Result<Request, gloo_net::Error> {
    with_text(request, to_string(value))
}

/// Finishes `request` with `text`, JSON already written, as its body.
pub fn with_text(request: RequestBuilder, text: Option<String>) -> Result<Request, gloo_net::Error> {
    let text = text.ok_or_else(|| unexpected("a body that is not JSON"))?;
    request.header("Content-Type", "application/json").body(text)
}

/// `value` as JSON text.
pub fn to_string(value: &impl Serialize) -> Option<String> {
    browser::json_stringify(&to_js(value)?, None)
}

/// `value` as a JavaScript value shaped as JSON has it: `None` is `null`, maps are objects.
pub fn to_js(value: &impl Serialize) -> Option<JsValue> {
    browser::to_js(value)
}

/// A JavaScript value (from `JSON.parse`, a message, a fetch) as `T`.
pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Option<T> {
    browser::from_js(value)
}

/// `value` as JSON indented by two spaces, for people to read.
pub fn pretty(value: &impl Serialize) -> String {
    to_js(value).and_then(|value| browser::json_stringify(&value, Some(2))).unwrap_or_default()
}

/// JSON text (a token part, say) re-indented by two spaces; `None` if it is not JSON.
pub fn pretty_text(text: &str) -> Option<String> {
    browser::json_stringify(&browser::json_parse(text)?, Some(2))
}

fn unexpected(what: &str) -> gloo_net::Error {
    gloo_net::Error::GlooError(format!("unexpected {what}"))
}
