//! The tab's auth state, provided once at the root (`provide_auth`) and read anywhere with
//! `use_auth`. Pages never pass tokens around.

use futures::future::{LocalBoxFuture, Shared};
use gloo_timers::callback::Timeout;
use leptos::prelude::*;

use super::request::AccessToken;
use crate::api::{User, REDACTED};

/// What a refresh attempt ended in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A new access token is in memory.
    Renewed,
    /// The server said the refresh token is no good (401): the tab is now logged out.
    LoggedOut,
    /// No answer, a server error or too many requests: the session is kept and the attempt
    /// repeated later (`retry_after_ms` if the server named a wait).
    Failed { retry_after_ms: Option<u32> },
}

impl Outcome {
    /// For people, in the inspector's timeline.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Renewed => "rotated",
            Self::LoggedOut => "401: logged out",
            Self::Failed { .. } => "failed: will retry",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum AuthState {
    /// The page just loaded; the boot refresh has not answered yet.
    Restoring,
    LoggedOut,
    LoggedIn(Session),
}

/// A valid access token and what the UI shows about it. `Debug` leaves the token out.
#[derive(Clone, PartialEq)]
pub struct Session {
    pub access_token: String,
    /// Bound to this origin's DPoP key (`token_type: DPoP`): sent with a proof by it.
    pub bound: bool,
    pub user: User,
    /// `now_ms()` when the token arrived, and when it stops being accepted.
    pub received_at_ms: f64,
    pub expires_at_ms: f64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_token", &REDACTED)
            .field("bound", &self.bound)
            .field("user", &self.user)
            .field("received_at_ms", &self.received_at_ms)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

/// Something that happened to this tab's tokens, for the inspector's timeline. Times are
/// `now_ms()` (the page's monotonic clock).
#[derive(Clone, Debug, PartialEq)]
pub enum TimelineEntry {
    /// A new access token: from the server (login, refresh) or from another tab.
    Token { received_at_ms: f64, expires_at_ms: f64, refresh_at_ms: f64, from_other_tab: bool },
    /// A call to the refresh endpoint from this tab, with how it ended.
    Refresh { started_at_ms: f64, latency_ms: f64, outcome: Outcome },
}

/// Handles to the tab's auth state; `Copy`, so closures capture it freely. `LocalStorage` below
/// is Leptos's arena for values that are not `Send` (a timer, a JS future), not the browser's web
/// storage: nothing here ever leaves this tab's memory.
#[derive(Clone, Copy)]
pub struct Auth {
    pub(super) state: RwSignal<AuthState>,
    /// Silent refreshes this tab has completed.
    pub(super) refreshes: RwSignal<u32>,
    /// The pending silent-refresh timer; replacing it cancels the old one.
    pub(super) timer: StoredValue<Option<Timeout>, LocalStorage>,
    /// The refresh now in flight, which concurrent callers await instead of starting another.
    pub(super) in_flight: StoredValue<Option<Shared<LocalBoxFuture<'static, Outcome>>>, LocalStorage>,
    /// Bumped at logout, so a refresh answered after it cannot log the tab back in.
    pub(super) generation: StoredValue<u64>,
    /// Bumped whenever a token arrives (from the server or another tab): a tab that waited for
    /// the refresh lock sees whether another tab refreshed meanwhile.
    pub(super) token_epoch: StoredValue<u64>,
    /// Refresh attempts that failed in a row (network, 5xx, 429): drives the backoff.
    pub(super) failures: StoredValue<u32>,
    /// True while a refresh keeps failing for a reason that is not a 401.
    pub(super) reconnecting: RwSignal<bool>,
    /// This tab's token history, newest last (bounded).
    pub(super) timeline: RwSignal<Vec<TimelineEntry>>,
}

pub fn provide_auth() -> Auth {
    let auth = Auth {
        state: RwSignal::new(AuthState::Restoring),
        refreshes: RwSignal::new(0),
        timer: StoredValue::new_local(None),
        in_flight: StoredValue::new_local(None),
        generation: StoredValue::new(0),
        token_epoch: StoredValue::new(0),
        failures: StoredValue::new(0),
        reconnecting: RwSignal::new(false),
        timeline: RwSignal::new(Vec::new()),
    };
    provide_context(auth);
    auth
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

impl Auth {
    /// The current state, tracked: views that call this update when it changes.
    pub fn state(&self) -> AuthState {
        self.state.get()
    }

    pub fn user(&self) -> Option<User> {
        self.state.with(|state| match state {
            AuthState::LoggedIn(session) => Some(session.user.clone()),
            _ => None,
        })
    }

    pub fn refresh_count(&self) -> u32 {
        self.refreshes.get()
    }

    /// Whether refreshing keeps failing for now (offline, server trouble); the session is kept.
    pub fn is_reconnecting(&self) -> bool {
        self.reconnecting.get()
    }

    /// This tab's token history, tracked.
    pub fn timeline(&self) -> Vec<TimelineEntry> {
        self.timeline.get()
    }

    /// Milliseconds until the current access token expires, on the monotonic clock.
    pub fn expires_in_ms(&self) -> Option<f64> {
        self.state.with_untracked(|state| match state {
            AuthState::LoggedIn(session) => Some(session.expires_at_ms - super::now_ms()),
            _ => None,
        })
    }

    /// The current access token, for the inspector to decode (it never leaves memory).
    pub fn current_token(&self) -> Option<String> {
        self.state.with(|state| match state {
            AuthState::LoggedIn(session) => Some(session.access_token.clone()),
            _ => None,
        })
    }

    pub(super) fn record(&self, entry: TimelineEntry) {
        const KEPT: usize = 200;
        self.timeline.update(|timeline| {
            timeline.push(entry);
            let excess = timeline.len().saturating_sub(KEPT);
            timeline.drain(..excess);
        });
    }

    /// The access token to send, and whether it is bound, read without tracking (the lab sends
    /// it as a stolen copy would be sent).
    pub fn access_token(&self) -> Option<AccessToken> {
        self.state.with_untracked(|state| match state {
            AuthState::LoggedIn(session) => {
                Some(AccessToken { token: session.access_token.clone(), bound: session.bound })
            }
            _ => None,
        })
    }

    pub(super) fn set_logged_out(&self) {
        self.timer.set_value(None);
        self.failures.set_value(0);
        self.reconnecting.set(false);
        self.state.set(AuthState::LoggedOut);
    }
}
