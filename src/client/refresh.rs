//! Keeping the tab logged in: the boot refresh that restores a session after a reload, the
//! timer that renews the access token shortly before it expires, and single-flight refresh so
//! concurrent callers share one request.

use futures::FutureExt;
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::fetch::post_with_cookie;
use super::now_ms;
use super::store::{Auth, AuthState, Session};
use crate::api::{paths, TokenResponse};

/// What a refresh attempt ended in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A new access token is in memory.
    Renewed,
    /// The server said the refresh token is no good (401): the tab is now logged out.
    LoggedOut,
    /// No answer or a server error: the session is kept, and the attempt is repeated later.
    Failed,
}

/// Refresh at most the smaller of 60 s and a fifth of the lifetime before expiry.
const MAX_MARGIN_MS: f64 = 60_000.0;
const MARGIN_FRACTION: f64 = 0.2;
/// After a failed attempt, try again this much later.
const RETRY_MS: u32 = 5_000;

/// At page load: one refresh call restores the session if the browser holds a refresh cookie.
/// Without one the answer is a 401 and the tab simply shows the logged-out interface.
pub fn restore(auth: Auth) {
    spawn_local(async move {
        if refresh(auth).await == Outcome::Failed {
            auth.set_logged_out();
        }
    });
}

/// Takes the tokens of a login, registration or refresh: keeps the access token in memory and
/// schedules the next refresh from `expires_in`, on the monotonic clock.
pub fn accept(auth: Auth, tokens: TokenResponse) {
    let received_at_ms = now_ms();
    let lifetime_ms = tokens.expires_in as f64 * 1000.0;
    auth.state.set(AuthState::LoggedIn(Session {
        access_token: tokens.access_token,
        user: tokens.user,
        received_at_ms,
        expires_at_ms: received_at_ms + lifetime_ms,
    }));
    let margin_ms = (lifetime_ms * MARGIN_FRACTION).min(MAX_MARGIN_MS);
    schedule(auth, (lifetime_ms - margin_ms).max(0.0) as u32);
}

/// Renews the access token. Callers that arrive while a refresh is in flight await that one.
pub async fn refresh(auth: Auth) -> Outcome {
    if let Some(in_flight) = auth.in_flight.get_value() {
        return in_flight.await;
    }
    let attempt = async move {
        let outcome = call_refresh_endpoint(auth).await;
        auth.in_flight.set_value(None);
        outcome
    }
    .boxed_local()
    .shared();
    auth.in_flight.set_value(Some(attempt.clone()));
    attempt.await
}

/// Logs out: the server revokes the session and clears the cookie; the tab forgets the token.
pub async fn logout(auth: Auth) {
    auth.generation.update_value(|generation| *generation += 1);
    auth.set_logged_out();
    // Even if this fails the tab is logged out; the session then ends at its next refresh
    // attempt from elsewhere or when the refresh token expires.
    let _ = post_with_cookie(paths::LOGOUT, None).await;
}

async fn call_refresh_endpoint(auth: Auth) -> Outcome {
    let generation = auth.generation.get_value();
    // The access token we hold (even expired) goes along: the server checks the two belong
    // to the same session, as the design article's pairing asks.
    let response = post_with_cookie(paths::REFRESH, auth.access_token()).await;
    if auth.generation.get_value() != generation {
        return Outcome::LoggedOut; // logged out while this was in flight
    }
    let outcome = match response {
        Ok(response) if response.ok() => match response.json::<TokenResponse>().await {
            Ok(tokens) => {
                accept(auth, tokens);
                auth.refreshes.update(|count| *count += 1);
                Outcome::Renewed
            }
            Err(_) => Outcome::Failed,
        },
        Ok(response) if response.status() == 401 => {
            auth.set_logged_out();
            Outcome::LoggedOut
        }
        _ => Outcome::Failed,
    };
    if outcome == Outcome::Failed && matches!(auth.state.get_untracked(), AuthState::LoggedIn(_)) {
        schedule(auth, RETRY_MS);
    }
    outcome
}

fn schedule(auth: Auth, delay_ms: u32) {
    let timer = Timeout::new(delay_ms, move || {
        spawn_local(async move {
            refresh(auth).await;
        })
    });
    // Dropping the previous `Timeout` cancels it: there is only ever one timer.
    auth.timer.set_value(Some(timer));
}
