//! Which tokens are bound to this browser's DPoP key (`src/client/dpop.rs`), and the key's
//! thumbprint: what the tokens' `cnf.jkt` must name.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;

use crate::client::store::use_auth;
use crate::client::{browser, dpop, json};

#[derive(Deserialize)]
struct Confirmation {
    jkt: String,
}

#[derive(Deserialize)]
struct BoundClaims {
    cnf: Option<Confirmation>,
}

/// The `cnf.jkt` an access token names, if it is bound.
fn bound_to(token: &str) -> Option<String> {
    let payload = browser::decode_base64url(token.split('.').nth(1)?)?;
    let claims: BoundClaims = json::from_js(browser::json_parse(std::str::from_utf8(&payload).ok()?)?)?;
    claims.cnf.map(|cnf| cnf.jkt)
}

#[component]
pub fn BindingCard() -> impl IntoView {
    let auth = use_auth();
    let thumbprint = RwSignal::new(None::<String>);
    Effect::new(move || {
        if auth.current_token().is_some() {
            spawn_local(async move { thumbprint.set(dpop::thumbprint().await) });
        }
    });
    let access = move || {
        let jkt = auth.current_token().as_deref().and_then(bound_to);
        match (jkt, thumbprint.get()) {
            (Some(jkt), Some(key)) if jkt == key => "bound to this key: useless without it".to_owned(),
            (Some(jkt), _) => format!("bound to another key ({jkt})"),
            (None, _) => "a plain bearer token: whoever holds it can use it".to_owned(),
        }
    };
    let refresh = move || match auth.access_token().is_some_and(|token| token.bound) {
        true => "bound to the same key: the server binds the pair and checks the key at every refresh",
        false => "not bound: the cookie alone refreshes",
    };
    view! {
        <article class="card">
            <h2>"This browser's key (DPoP)"</h2>
            <p class="muted small">
                "A key pair WebCrypto made non-extractable and IndexedDB keeps: this page can have it sign, no script can read it out. Each API call carries a proof signed by it (src/client/dpop.rs)."
            </p>
            <dl class="facts small">
                <dt>"Key thumbprint (RFC 7638)"</dt>
                <dd>
                    <code aria-label="DPoP key thumbprint">
                        {move || thumbprint.get().unwrap_or_else(|| "none".into())}
                    </code>
                </dd>
                <dt>"Access token"</dt>
                <dd aria-label="Access token binding">{access}</dd>
                <dt>"Refresh cookie"</dt>
                <dd aria-label="Refresh cookie binding">{refresh}</dd>
            </dl>
        </article>
    }
}
