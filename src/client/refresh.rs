//! Keeping the tab logged in without ever logging it out by accident:
//! - at page load, one refresh call restores the session (only if the logged-in hint says
//!   there is one);
//! - a timer renews the access token shortly before it expires, measured on the monotonic
//!   clock from `expires_in`, so a wrong or changed wall clock changes nothing;
//! - waking up (tab visible again, window focused, back online) checks the token at once,
//!   since browsers throttle timers in background tabs and freeze them during sleep; a page
//!   restored from the back/forward cache checks the session itself;
//! - one refresh at a time: concurrent callers in a tab share one request, and tabs take turns
//!   through a Web Lock, skipping their own refresh when another tab has just done it;
//! - only a definitive answer logs out (401, or 400 for a refresh cookie sent twice). A network
//!   error, a 5xx or a 429 keeps the session and retries with exponential backoff and jitter,
//!   honouring `Retry-After`.

use futures::FutureExt;
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser::{self, now_ms};
use super::request::post_with_cookie;
use super::store::{Auth, AuthState, Outcome, Session, TimelineEntry};
use super::tabs::{self, TabMessage};
use super::{dpop, json};
use crate::api::{paths, TokenResponse, LOGGED_IN_HINT_COOKIE};

/// Refresh at most the smaller of 60 s and a fifth of the lifetime before expiry.
const MAX_MARGIN_MS: f64 = 60_000.0;
const MARGIN_FRACTION: f64 = 0.2;
/// Backoff after failed attempts: 1 s, 2 s, 4 s… up to 30 s, each with jitter.
const BACKOFF_BASE_MS: f64 = 1_000.0;
const BACKOFF_MAX_MS: f64 = 30_000.0;

/// At page load: restores the session if the logged-in hint says there may be one, and starts
/// listening to the other tabs and to wake-ups. A visitor who never logged in makes no request.
pub fn start(auth: Auth) {
    tabs::listen(move |message| match message {
        TabMessage::Token { tokens, remaining_ms } => take_token(auth, tokens, remaining_ms, true),
        TabMessage::LoggedOut => {
            dpop::forget_key();
            auth.set_logged_out();
        }
    });
    for event in ["visibilitychange", "focus", "online"] {
        // Listening for the lifetime of the tab: the handle that would remove it is not kept
        // (dropping it leaves the listener in place).
        drop(window_event_listener_untyped(event, move |_| wake_up(auth)));
    }
    browser::on_restored_from_history(move || restored_from_history(auth));
    if !has_logged_in_hint() {
        auth.set_logged_out();
        return;
    }
    spawn_local(async move {
        refresh_now(auth).await;
    });
}

/// Takes the tokens of a login, registration or refresh, and shares them with the other tabs.
pub fn accept(auth: Auth, tokens: TokenResponse) {
    let remaining_ms = tokens.expires_in as f64 * 1000.0;
    tabs::tell_others(&TabMessage::Token { tokens: tokens.clone(), remaining_ms });
    take_token(auth, tokens, remaining_ms, false);
}

/// Keeps the access token in memory and schedules the next refresh, on the monotonic clock.
fn take_token(auth: Auth, tokens: TokenResponse, remaining_ms: f64, from_other_tab: bool) {
    let received_at_ms = now_ms();
    let lifetime_ms = tokens.expires_in as f64 * 1000.0;
    auth.token_epoch.update_value(|epoch| *epoch += 1);
    auth.failures.set_value(0);
    auth.reconnecting.set(false);
    auth.state.set(AuthState::LoggedIn(Session {
        bound: tokens.token_type == "DPoP",
        access_token: tokens.access_token,
        user: tokens.user,
        received_at_ms: received_at_ms - (lifetime_ms - remaining_ms),
        expires_at_ms: received_at_ms + remaining_ms,
    }));
    let refresh_in_ms = (remaining_ms - margin_ms(lifetime_ms)).max(0.0);
    auth.record(TimelineEntry::Token {
        received_at_ms,
        expires_at_ms: received_at_ms + remaining_ms,
        refresh_at_ms: received_at_ms + refresh_in_ms,
        from_other_tab,
    });
    schedule(auth, refresh_in_ms as u32);
}

fn margin_ms(lifetime_ms: f64) -> f64 {
    (lifetime_ms * MARGIN_FRACTION).min(MAX_MARGIN_MS)
}

/// Renews the access token for a caller that met a 401. While refreshing is failing it does not
/// add a request of its own: the scheduled retry (or a wake-up) is the next attempt.
pub async fn refresh(auth: Auth) -> Outcome {
    if auth.reconnecting.get_untracked() && auth.in_flight.with_value(Option::is_none) {
        return Outcome::Failed { retry_after_ms: None };
    }
    refresh_now(auth).await
}

/// Renews the access token now. Callers that arrive while a refresh is in flight await that one.
async fn refresh_now(auth: Auth) -> Outcome {
    if let Some(in_flight) = auth.in_flight.get_value() {
        return in_flight.await;
    }
    let attempt = async move {
        let epoch_before = auth.token_epoch.get_value();
        let outcome = tabs::with_lock(async move {
            // Another tab may have refreshed while we waited for the lock, and shared its token.
            if auth.token_epoch.get_value() != epoch_before && !needs_refresh(auth) {
                return Outcome::Renewed;
            }
            call_refresh_endpoint(auth).await
        })
        .await;
        auth.in_flight.set_value(None);
        outcome
    }
    .boxed_local()
    .shared();
    auth.in_flight.set_value(Some(attempt.clone()));
    attempt.await
}

/// Logs out: this tab and every other tab forget the token and the DPoP key (deleted from the
/// store); the server revokes the session and clears the cookies.
pub async fn logout(auth: Auth) {
    auth.generation.update_value(|generation| *generation += 1);
    auth.set_logged_out();
    tabs::tell_others(&TabMessage::LoggedOut);
    // Through the signing chunk (`request.rs`), which deletes the DPoP key. Even if this fails every tab is logged out; the session then ends when its refresh
    // token expires.
    if post_with_cookie(paths::LOGOUT, None).await.is_err() {
        leptos::logging::warn!("logout did not reach the server; the session ends when it expires");
    }
}

async fn call_refresh_endpoint(auth: Auth) -> Outcome {
    let generation = auth.generation.get_value();
    let started_at_ms = now_ms();
    // The access token we hold (even expired) goes along: the server checks the two belong
    // to the same session, as the design article's pairing asks.
    let response = post_with_cookie(paths::REFRESH, auth.access_token().as_ref()).await;
    if auth.generation.get_value() != generation {
        return Outcome::LoggedOut; // logged out while this was in flight
    }
    let outcome = match response {
        Ok(response) if response.ok() => match json::read::<TokenResponse>(&response).await {
            Ok(tokens) => {
                accept(auth, tokens);
                auth.refreshes.update(|count| *count += 1);
                Outcome::Renewed
            }
            Err(_) => Outcome::Failed { retry_after_ms: None },
        },
        // 401: the session is over. 400: the browser sends the refresh cookie more than once
        // (one planted by a sibling site), which no retry mends; the login page then says so.
        Ok(response) if matches!(response.status(), 401 | 400) => {
            auth.set_logged_out();
            tabs::tell_others(&TabMessage::LoggedOut);
            Outcome::LoggedOut
        }
        Ok(response) => Outcome::Failed { retry_after_ms: retry_after_ms(&response) },
        Err(_) => Outcome::Failed { retry_after_ms: None },
    };
    auth.record(TimelineEntry::Refresh { started_at_ms, latency_ms: now_ms() - started_at_ms, outcome });
    if let Outcome::Failed { retry_after_ms } = outcome {
        retry_later(auth, retry_after_ms);
    }
    outcome
}

/// After a failure that is not a 401: keep the session, show "reconnecting", try again later.
fn retry_later(auth: Auth, retry_after_ms: Option<u32>) {
    let failures = auth.failures.get_value();
    auth.failures.set_value(failures.saturating_add(1));
    auth.reconnecting.set(true);
    let ceiling = (BACKOFF_BASE_MS * 2f64.powi(failures.min(16) as i32)).min(BACKOFF_MAX_MS);
    // "Equal jitter": half the delay fixed, half random, so tabs and clients spread out.
    let backoff = ceiling / 2.0 + browser::random() * ceiling / 2.0;
    let delay = retry_after_ms.map_or(backoff, |server| backoff.max(f64::from(server)));
    schedule(auth, delay as u32);
}

fn retry_after_ms(response: &gloo_net::http::Response) -> Option<u32> {
    let seconds: u32 = response.headers().get("retry-after")?.trim().parse().ok()?;
    Some(seconds.saturating_mul(1000))
}

/// On wake-up: refresh at once if the token expired or is inside the refresh margin, or if
/// refreshing was failing.
fn wake_up(auth: Auth) {
    if !browser::is_visible() {
        return;
    }
    let failing = auth.reconnecting.get_untracked();
    if needs_refresh(auth) || failing {
        spawn_local(async move {
            refresh_now(auth).await;
        });
    }
}

/// Back from the back/forward cache, the tab's memory may predate a logout or a revocation:
/// without the logged-in hint it forgets everything at once, with no request; with it, one
/// refresh tells whether the session still stands.
fn restored_from_history(auth: Auth) {
    if !has_logged_in_hint() {
        auth.set_logged_out();
        return;
    }
    spawn_local(async move {
        refresh_now(auth).await;
    });
}

fn needs_refresh(auth: Auth) -> bool {
    auth.state.with_untracked(|state| match state {
        AuthState::LoggedIn(session) => {
            let lifetime = session.expires_at_ms - session.received_at_ms;
            session.expires_at_ms - now_ms() <= margin_ms(lifetime)
        }
        _ => false,
    })
}

fn schedule(auth: Auth, delay_ms: u32) {
    let timer = Timeout::new(delay_ms, move || {
        spawn_local(async move {
            refresh_now(auth).await;
        })
    });
    // Dropping the previous `Timeout` cancels it: there is only ever one timer.
    auth.timer.set_value(Some(timer));
}

/// The logged-in hint: a cookie with no secret in it, set and cleared by the server alongside
/// the refresh cookie, readable by scripts so a visitor who never logged in costs no request.
fn has_logged_in_hint() -> bool {
    let prefix = format!("{LOGGED_IN_HINT_COOKIE}=");
    browser::document_cookie().split(';').any(|c| c.trim().starts_with(&prefix))
}
