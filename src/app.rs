//! The HTML shell and the router.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, Lazy};

use crate::client::store::provide_auth;
use crate::client::{on_hydrated, refresh};
use crate::components::Nav;
use crate::pages::{
    AccountRoute, ForgotPasswordRoute, HomeRoute, InspectorRoute, LabRoute, LoginRoute, NotFound,
    RegisterRoute, ResetPasswordRoute, SessionsRoute, SignInProblemRoute, VerifyEmailRoute,
};

/// The document around the app, rendered on the server only. The head tags that never change
/// are written here as plain HTML rather than with leptos_meta's components in `App`, so the
/// wasm does not carry those components (6 KB of it, brotli); only the title, which pages set,
/// goes through leptos_meta. The server serves it with its Content-Security-Policy
/// (`http/pages.rs`).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta
                    name="description"
                    content="Reference implementation of the access-token / refresh-token login flow in Rust."
                />
                <link rel="stylesheet" id="leptos" href="/pkg/tokenpair.css" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let auth = provide_auth();
    // In the browser, once the page has hydrated: restore a session, listen to other tabs.
    on_hydrated(move || refresh::start(auth));

    view! {
        <Title text="tokenpair" />
        <Router>
            <Nav />
            <main class="page">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view={Lazy::<HomeRoute>::new()} />
                    <Route path=path!("/register") view={Lazy::<RegisterRoute>::new()} />
                    <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} />
                    <Route path=path!("/login/problem") view={Lazy::<SignInProblemRoute>::new()} />
                    <Route path=path!("/forgot-password") view={Lazy::<ForgotPasswordRoute>::new()} />
                    <Route path=path!("/reset-password") view={Lazy::<ResetPasswordRoute>::new()} />
                    <Route path=path!("/verify-email") view={Lazy::<VerifyEmailRoute>::new()} />
                    <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} />
                    <Route path=path!("/sessions") view={Lazy::<SessionsRoute>::new()} />
                    <Route path=path!("/inspector") view={Lazy::<InspectorRoute>::new()} />
                    <Route path=path!("/lab") view={Lazy::<LabRoute>::new()} />
                </Routes>
            </main>
            <footer class="footer">
                "tokenpair · access token in memory, refresh token in an HttpOnly cookie"
            </footer>
        </Router>
    }
}
