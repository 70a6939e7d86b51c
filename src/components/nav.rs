use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::client::refresh::logout;
use crate::client::store::{use_auth, AuthState};

/// The top bar: where you are, and who you are.
#[component]
pub fn Nav() -> impl IntoView {
    let auth = use_auth();
    let account = move || match auth.state() {
        AuthState::Restoring => view! { <span class="nav-muted">"…"</span> }.into_any(),
        AuthState::LoggedOut => view! {
            <A href="/login">"Log in"</A>
            <A href="/register" attr:class="button button-small">
                "Register"
            </A>
        }
        .into_any(),
        AuthState::LoggedIn(session) => view! {
            <span class="nav-user" title="Logged in as">
                {session.user.email}
            </span>
            <button class="button button-small button-quiet" on:click=move |_| spawn_local(logout(auth))>
                "Log out"
            </button>
        }
        .into_any(),
    };
    view! {
        <header class="topbar">
            <nav aria-label="Main">
                <A href="/" attr:class="brand">
                    "tokenpair"
                </A>
                <A href="/account">"Account"</A>
                <A href="/sessions">"Sessions"</A>
                <A href="/inspector">"Inspector"</A>
                <A href="/lab">"Lab"</A>
            </nav>
            <div class="nav-account">
                <Show when=move || auth.is_reconnecting()>
                    <span class="status status-warn" role="status">
                        "Reconnecting…"
                    </span>
                </Show>
                {account}
            </div>
        </header>
    }
}
