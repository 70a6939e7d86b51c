//! A script in the page takes the access token and uses it from elsewhere. Bound to this
//! browser's DPoP key (`src/auth/dpop.rs`), the copy is refused at once, and so is a copy of the
//! refresh cookie; a plain bearer token (`DPOP=off`) works until it expires, and cannot be
//! refreshed without the cookie.

use leptos::task::spawn_local;
use web_sys::RequestCredentials;

use super::replay_refresh::{copy_cookie, replay};
use super::{me_from_this_page, me_status, refresh_status, About, Report};
use crate::client::store::Auth;

pub(super) const ABOUT: About = About {
    title: "Steal the access token",
    lab_only: false,
    button: "Steal and use it",
    explanation: "An injected script can read what the page holds in memory. Bound to this browser's key (DPoP), the copy is refused from anywhere without the key, and a copied refresh cookie is refused the same way, while the page's own calls go on. Unbound (DPOP=off), the copy works until it expires, then 401; refreshing with it and no cookie: 401.",
};

pub(super) fn run(auth: Auth, report: Report) {
    let Some(token) = auth.access_token() else { return };
    if !token.bound {
        return run_unbound(auth, report, token.token);
    }
    spawn_local(async move {
        let elsewhere = me_status(&token.token, RequestCredentials::Omit).await;
        report
            .step(format!("GET /api/me with the copied token, from a context without the key → {elsewhere}"));
        let own = me_from_this_page(&token).await;
        report.step(format!("GET /api/me from this page, its key signing the proof → {own}"));
        let cookie = copied_cookie_without_the_key(report).await;
        report.verdict(match (elsewhere, own, cookie.as_deref()) {
            (401, 200, Some("dpop_key_mismatch")) => {
                "Useless elsewhere: the copied token and the copied refresh cookie are both refused without this browser's key."
            }
            (401, 200, None) => "Useless elsewhere: the copied token is refused without this browser's key.",
            _ => "Unexpected: see the steps.",
        });
    });
}

/// With lab mode on: the refresh cookie copied and presented by the thief, who has no key; what
/// the refresh decided (`None` when the cookie cannot be copied).
async fn copied_cookie_without_the_key(report: Report) -> Option<String> {
    let stolen = copy_cookie(report, false).await?;
    let replayed = replay(&stolen).await?;
    report.step(format!(
        "the thief refreshes with the copy, no key → {} ({})",
        replayed.status, replayed.explanation
    ));
    Some(replayed.outcome)
}

fn run_unbound(auth: Auth, report: Report, token: String) {
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
