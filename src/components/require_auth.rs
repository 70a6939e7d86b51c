use leptos::prelude::*;
use leptos_router::components::A;

use crate::client::store::{use_auth, AuthState};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Restoring,
    LoggedOut,
    LoggedIn,
}

/// Shows `children` only to a logged-in tab; otherwise says what is happening and what to do.
/// The children are built once per login, not again at every token refresh.
#[component]
pub fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    let phase = Memo::new(move |_| match auth.state() {
        AuthState::Restoring => Phase::Restoring,
        AuthState::LoggedOut => Phase::LoggedOut,
        AuthState::LoggedIn(_) => Phase::LoggedIn,
    });
    move || {
        match phase.get() {
        Phase::Restoring => view! {
            <section class="card notice">
                <p class="muted">"Restoring your session…"</p>
                <noscript>
                    <p>
                        <strong>"This page needs JavaScript."</strong>
                        " Your access token lives only in this tab's memory, and only the app's script can get one: it asks the server with the refresh cookie, which scripts cannot read. Turn JavaScript on and reload."
                    </p>
                </noscript>
            </section>
        }
        .into_any(),
        Phase::LoggedOut => view! {
            <section class="card notice">
                <h2>"Please log in"</h2>
                <p>"This page shows your session. Log in, or create an account, to see it."</p>
                <p class="actions">
                    <A href="/login" attr:class="button">
                        "Log in"
                    </A>
                    <A href="/register" attr:class="button button-quiet">
                        "Register"
                    </A>
                </p>
            </section>
        }
        .into_any(),
        Phase::LoggedIn => children().into_any(),
    }
    }
}
