//! The DPoP key pair, made by WebCrypto and kept in IndexedDB: the browser APIs `dpop.rs`
//! needs, and nothing else.
//!
//! - Made with `extractable: false`: the private key's bytes never exist anywhere a script can
//!   read them, not even ours; the key can only be asked to sign. Ed25519 where the browser
//!   has it, else ECDSA P-256.
//! - Stored as the `CryptoKey` object itself (IndexedDB keeps it by structured clone, still
//!   non-extractable), with its public JWK and algorithm: one key per origin, shared by every
//!   tab and kept across reloads, so a bound refresh cookie still works after one.
//! - Stored with `add`, which refuses to overwrite: two tabs making a key at once both end up
//!   using whichever was stored first.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, IdbDatabase, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

const DATABASE: &str = "tokenpair";
const STORE: &str = "keys";
const ENTRY: &str = "dpop";

/// The signing key, its algorithm as JWS names it, and its public key's RFC 7638 members.
#[derive(Clone)]
pub struct StoredKey {
    pub private_key: CryptoKey,
    /// `EdDSA` or `ES256`.
    pub alg: String,
    /// `{"crv":…,"kty":…,"x":…[,"y":…]}`: exactly the members the thumbprint hashes, in order.
    pub jwk: String,
}

/// The stored key, or a new one stored first.
pub async fn load_or_create() -> Result<StoredKey, JsValue> {
    if let Some(stored) = load().await? {
        return Ok(stored);
    }
    let made = generate().await?;
    let entry = Object::new();
    Reflect::set(&entry, &"key".into(), &made.private_key)?;
    Reflect::set(&entry, &"alg".into(), &made.alg.as_str().into())?;
    Reflect::set(&entry, &"jwk".into(), &made.jwk.as_str().into())?;
    // Another tab may have stored one meanwhile: `add` then fails, and we use that one.
    let added = store(IdbTransactionMode::Readwrite).await?.add_with_key(&entry, &ENTRY.into())?;
    let _ = settled(&added).await;
    Ok(load().await?.unwrap_or(made))
}

/// The stored key, if there is one.
pub async fn load() -> Result<Option<StoredKey>, JsValue> {
    let entry = settled(&store(IdbTransactionMode::Readonly).await?.get(&ENTRY.into())?).await?;
    if entry.is_undefined() {
        return Ok(None);
    }
    let text = |name: &str| Reflect::get(&entry, &name.into()).ok().and_then(|value| value.as_string());
    let private_key = Reflect::get(&entry, &"key".into())?.dyn_into::<CryptoKey>()?;
    match (text("alg"), text("jwk")) {
        (Some(alg), Some(jwk)) => Ok(Some(StoredKey { private_key, alg, jwk })),
        _ => Ok(None),
    }
}

/// Deletes the stored key (logout).
pub async fn delete() -> Result<(), JsValue> {
    settled(&store(IdbTransactionMode::Readwrite).await?.delete(&ENTRY.into())?).await.map(drop)
}

/// The signature of `data` by `key`: 64 bytes, as JWS has them (ECDSA's `r ‖ s`).
pub async fn sign(key: &StoredKey, data: &[u8]) -> Result<Vec<u8>, JsValue> {
    let subtle = subtle()?;
    let promise = if key.alg == "EdDSA" {
        subtle.sign_with_str_and_u8_array("Ed25519", &key.private_key, data)?
    } else {
        let params = object(&[("name", "ECDSA"), ("hash", "SHA-256")])?;
        subtle.sign_with_object_and_u8_array(&params, &key.private_key, data)?
    };
    Ok(Uint8Array::new(&JsFuture::from(promise).await?).to_vec())
}

/// SHA-256 of `data`.
pub async fn sha256(data: &[u8]) -> Result<Vec<u8>, JsValue> {
    let digest = JsFuture::from(subtle()?.digest_with_str_and_u8_array("SHA-256", data)?).await?;
    Ok(Uint8Array::new(&digest).to_vec())
}

/// A random identifier for a proof's `jti`.
pub fn random_id() -> Option<String> {
    Some(web_sys::window()?.crypto().ok()?.random_uuid())
}

async fn generate() -> Result<StoredKey, JsValue> {
    let subtle = subtle()?;
    let usages = Array::of2(&"sign".into(), &"verify".into());
    let ed25519 = match subtle.generate_key_with_str("Ed25519", false, &usages) {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(_) => None,
    };
    let (pair, alg) = match ed25519 {
        Some(pair) => (pair, "EdDSA"),
        None => {
            let params = object(&[("name", "ECDSA"), ("namedCurve", "P-256")])?;
            (JsFuture::from(subtle.generate_key_with_object(&params, false, &usages)?).await?, "ES256")
        }
    };
    let private_key = Reflect::get(&pair, &"privateKey".into())?.dyn_into::<CryptoKey>()?;
    let public_key = Reflect::get(&pair, &"publicKey".into())?.dyn_into::<CryptoKey>()?;
    let exported = JsFuture::from(subtle.export_key("jwk", &public_key)?).await?;
    let member = |name: &str| Reflect::get(&exported, &name.into()).ok().and_then(|value| value.as_string());
    let (crv, kty, x) = (member("crv"), member("kty"), member("x"));
    let (Some(crv), Some(kty), Some(x)) = (crv, kty, x) else {
        return Err("a public key without its members".into());
    };
    let jwk = match member("y") {
        Some(y) => format!(r#"{{"crv":"{crv}","kty":"{kty}","x":"{x}","y":"{y}"}}"#),
        None => format!(r#"{{"crv":"{crv}","kty":"{kty}","x":"{x}"}}"#),
    };
    Ok(StoredKey { private_key, alg: alg.into(), jwk })
}

fn subtle() -> Result<web_sys::SubtleCrypto, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    Ok(window.crypto()?.subtle())
}

fn object(members: &[(&str, &str)]) -> Result<Object, JsValue> {
    let object = Object::new();
    for (name, value) in members {
        Reflect::set(&object, &(*name).into(), &(*value).into())?;
    }
    Ok(object)
}

/// The key store, opened (and made, the first time) in a transaction of `mode`.
async fn store(mode: IdbTransactionMode) -> Result<IdbObjectStore, JsValue> {
    let database = open().await?;
    database.transaction_with_str_and_mode(STORE, mode)?.object_store(STORE)
}

async fn open() -> Result<IdbDatabase, JsValue> {
    let factory = web_sys::window().ok_or("no window")?.indexed_db()?.ok_or("no IndexedDB")?;
    let request: IdbOpenDbRequest = factory.open_with_u32(DATABASE, 1)?;
    let upgrade =
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(|event: web_sys::Event| {
            let database = event
                .target()
                .and_then(|target| target.dyn_into::<IdbRequest>().ok())
                .and_then(|request| request.result().ok())
                .and_then(|result| result.dyn_into::<IdbDatabase>().ok());
            if let Some(database) = database {
                let _ = database.create_object_store(STORE);
            }
        });
    request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let database = settled(&request).await?;
    drop(upgrade); // the request is done: no upgrade can come any more
    database.dyn_into::<IdbDatabase>()
}

/// Waits for `request` to succeed (its result) or fail (its error).
async fn settled(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise).await?;
    request.result()
}
