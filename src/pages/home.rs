use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::client::store::{use_auth, AuthState};

/// What tokenpair demonstrates, in a few sentences, and the way in.
#[component]
pub fn Home() -> impl IntoView {
    let auth = use_auth();
    let actions = move || match auth.state() {
        AuthState::LoggedIn(_) => view! {
            <A href="/account" attr:class="button">
                "Open your account"
            </A>
        }
        .into_any(),
        _ => view! {
            <A href="/register" attr:class="button">
                "Register"
            </A>
            <A href="/login" attr:class="button button-quiet">
                "Log in"
            </A>
        }
        .into_any(),
    };
    view! {
        <Title text="tokenpair: access and refresh tokens, done right" />
        <section class="hero">
            <h1>"Two tokens, one login"</h1>
            <p class="lead">
                "tokenpair is a reference implementation of the login flow that keeps a short-lived access token in the page's memory and a long-lived refresh token in a cookie no script can read."
            </p>
            <p class="actions">{actions}</p>
        </section>
        <section class="steps">
            <article class="card">
                <h2>"Access token: 15 minutes, headless"</h2>
                <p>
                    "A signed JWT sent with every API call. The server checks it from the token alone, with no database query, so a busy API never waits on the database to know who is calling."
                </p>
            </article>
            <article class="card">
                <h2>"Refresh token: 7 days, HttpOnly"</h2>
                <p>
                    "Kept in an HttpOnly, Secure, SameSite cookie that only travels to the refresh endpoint. A script that steals the access token cannot take this one, so what it stole expires within minutes."
                </p>
            </article>
            <article class="card">
                <h2>"Silent refresh, thorough check"</h2>
                <p>
                    "Shortly before the access token expires the app asks for a new pair. The server checks the database thoroughly (is the user still allowed, is the session live, is this refresh token the current one) and rotates both tokens."
                </p>
            </article>
        </section>
    }
}
