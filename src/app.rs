//! The HTML shell and the router.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::client::refresh;
use crate::client::store::provide_auth;
use crate::components::Nav;
use crate::pages::{Account, Home, Inspector, Lab, Login, NotFound, Register, Sessions};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::page_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let auth = provide_auth();
    // Effects run only in the browser, once hydrated: restore a session, listen to other tabs.
    Effect::new(move || refresh::start(auth));

    view! {
        <Stylesheet id="leptos" href="/pkg/tokenpair.css"/>
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml"/>
        <Meta name="description" content="Reference implementation of the access-token / refresh-token login flow in Rust."/>
        <Title text="tokenpair"/>
        <Router>
            <Nav/>
            <main class="page">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Home/>
                    <Route path=path!("/register") view=Register/>
                    <Route path=path!("/login") view=Login/>
                    <Route path=path!("/account") view=Account/>
                    <Route path=path!("/sessions") view=Sessions/>
                    <Route path=path!("/inspector") view=Inspector/>
                    <Route path=path!("/lab") view=Lab/>
                </Routes>
            </main>
            <footer class="footer">
                "tokenpair · access token in memory, refresh token in an HttpOnly cookie"
            </footer>
        </Router>
    }
}
