//! JSON in the browser: the browser's own `JSON` parses and writes the text, and
//! serde-wasm-bindgen moves values between JavaScript and our types, so the wasm carries no JSON
//! parser of its own (serde_json was 14 KB of the 242 KB brotli bundle).
//!
//! The server compiles this too but never calls it: every caller runs after hydration. There,
//! each function fails instead of calling into a JavaScript that is not there.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// Reads a response body as `T`.
pub async fn read<T: DeserializeOwned>(response: &Response) -> Result<T, gloo_net::Error> {
    #[cfg(target_arch = "wasm32")]
    {
        let text = response.text().await?;
        let value = js_sys::JSON::parse(&text).map_err(|_| unexpected("a body that is not JSON"))?;
        from_js(value).ok_or_else(|| unexpected("a JSON body of another shape"))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = response;
        Err(unexpected("JSON is read in the browser only"))
    }
}

/// Finishes `request` with `value` as its JSON body.
pub fn with_body(request: RequestBuilder, value: &impl Serialize) -> Result<Request, gloo_net::Error> {
    let text = to_string(value).ok_or_else(|| unexpected("a body that is not JSON"))?;
    request.header("Content-Type", "application/json").body(text)
}

/// `value` as JSON text.
pub fn to_string(value: &impl Serialize) -> Option<String> {
    js_sys::JSON::stringify(&to_js(value)?).ok()?.as_string()
}

/// `value` as a JavaScript value shaped as JSON has it: `None` is `null`, maps are objects.
pub fn to_js(value: &impl Serialize) -> Option<JsValue> {
    #[cfg(target_arch = "wasm32")]
    {
        value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).ok()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = value;
        None
    }
}

/// A JavaScript value (from `JSON.parse`, a message, a fetch) as `T`.
pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Option<T> {
    #[cfg(target_arch = "wasm32")]
    {
        serde_wasm_bindgen::from_value(value).ok()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = value;
        None
    }
}

/// `value` as JSON indented by two spaces, for people to read.
pub fn pretty(value: &impl Serialize) -> String {
    to_js(value).map(|value| pretty_js(&value)).unwrap_or_default()
}

/// JSON text (a token part, say) re-indented by two spaces; `None` if it is not JSON.
pub fn pretty_text(text: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        Some(pretty_js(&js_sys::JSON::parse(text).ok()?))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = text;
        None
    }
}

fn pretty_js(value: &JsValue) -> String {
    js_sys::JSON::stringify_with_replacer_and_space(value, &JsValue::NULL, &JsValue::from_f64(2.0))
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}

fn unexpected(what: &str) -> gloo_net::Error {
    gloo_net::Error::GlooError(format!("unexpected {what}"))
}
