//! A script in the page takes the access token and uses it from elsewhere: it works until it
//! expires (or its session is revoked: `revoke_stolen_token.rs`), and it cannot be refreshed
//! without the cookie.

use leptos::task::spawn_local;
use web_sys::RequestCredentials;

use super::{me_status, refresh_status, About, Report};
use crate::client::store::Auth;

pub(super) const ABOUT: About = About {
    title: "Steal the access token",
    lab_only: false,
    button: "Steal and use it",
    explanation: "An injected script can read what the page holds in memory. It uses the token from a context without cookies: it works until the token expires, then 401 (unless the session is revoked first: next demo). Refreshing with it and no cookie: 401.",
};

pub(super) fn run(auth: Auth, report: Report) {
    let Some(token) = auth.current_token() else { return };
    let expires_in_ms = auth.expires_in_ms().unwrap_or(0.0);
    spawn_local(async move {
        let before = me_status(&token, RequestCredentials::Omit).await;
        report.step(format!("GET /api/me with the stolen token, no cookies → {before}"));
        let refresh = refresh_status(Some(&token), RequestCredentials::Omit).await;
        report.step(format!("POST /api/auth/refresh with it and no cookie → {refresh}"));
        // Past `exp` plus the server's 5 s leeway.
        let wait_ms = expires_in_ms + 6_000.0;
        report.step(format!("waiting {:.0} s for the stolen token to expire…", wait_ms / 1000.0));
        gloo_timers::future::TimeoutFuture::new(wait_ms as u32).await;
        let after = me_status(&token, RequestCredentials::Omit).await;
        report.step(format!("GET /api/me with the stolen token after expiry → {after}"));
        report.verdict(if after == 401 && refresh == 401 {
            "Contained: the stolen access token worked only until it expired, and cannot be refreshed."
        } else {
            "Unexpected: see the steps."
        });
    });
}
