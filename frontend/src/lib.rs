//! The Wasm bundle's entry point: hydrates the page the server rendered. Everything else lives in
//! the `tokenpair` crate; this crate exists so the wasm is built from a cdylib-only crate, which
//! is what lets Cargo optimise it across crates (see `Cargo.toml`).

use leptos::prelude::*;
use tokenpair::app::App;
use tokenpair::client::Hydrated;

/// Hydrates `<body>`.
///
/// The pages behind a login are lazy routes (each its own wasm chunk), so hydration is async: it
/// may wait for a chunk. The app restores a session only once all of it is done
/// (`tokenpair::client::on_hydrated`), so no part of the page hydrates against a state the server
/// did not render.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let (hydrated, set_hydrated) = signal(false);
    wasm_bindgen_futures::spawn_local(async move {
        let body = document().body().expect("the page has a <body>");
        let page = leptos::mount::hydrate_from_async(body, move || {
            provide_context(Hydrated(hydrated));
            App()
        })
        .await;
        set_hydrated.set(true);
        page.forget();
    });
}
