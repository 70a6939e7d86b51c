//! The floor under tokenpair's main wasm: two routes, a title, a stylesheet link, a counter and a
//! form, hydrated. See `Cargo.toml`.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

#[component]
fn Home() -> impl IntoView {
    let (n, set_n) = signal(0);
    view! { <h1>"Home"</h1><button on:click=move |_| set_n.update(|n| *n += 1)>"Count " {n}</button> }
}

#[component]
fn Login() -> impl IntoView {
    let (email, set_email) = signal(String::new());
    let (msg, set_msg) = signal(String::new());
    view! {
        <form on:submit=move |ev| { ev.prevent_default(); set_msg.set(format!("hi {}", email.get())); }>
            <input type="email" prop:value=email on:input=move |ev| set_email.set(event_target_value(&ev))/>
            <button type="submit">"Log in"</button>
            <p class="msg">{msg}</p>
        </form>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/x.css"/>
        <Title text="floor"/>
        <Router>
            <nav><A href="/">"Home"</A><A href="/login">"Login"</A></nav>
            <main>
                <Routes fallback=|| "Not found">
                    <Route path=path!("/") view=Home/>
                    <Route path=path!("/login") view=Login/>
                </Routes>
            </main>
        </Router>
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
