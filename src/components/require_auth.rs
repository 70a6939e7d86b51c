use leptos::prelude::*;
use leptos_router::components::A;

use crate::client::store::{use_auth, AuthState};

/// Shows `children` only to a logged-in tab; otherwise says what is happening and what to do.
#[component]
pub fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    move || {
        match auth.state() {
        AuthState::Restoring => view! {
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
        AuthState::LoggedOut => view! {
            <section class="card notice">
                <h2>"Please log in"</h2>
                <p>"This page shows your session. Log in, or create an account, to see it."</p>
                <p class="actions">
                    <A href="/login" attr:class="button">"Log in"</A>
                    <A href="/register" attr:class="button button-quiet">"Register"</A>
                </p>
            </section>
        }
        .into_any(),
        AuthState::LoggedIn(_) => children().into_any(),
    }
    }
}
