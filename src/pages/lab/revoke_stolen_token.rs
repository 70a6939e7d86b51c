//! The stolen access token again, used by a script in the page (which can have the page's DPoP
//! key sign for a bound token), but now its owner logs out everywhere: the copy stops working at
//! once rather than at its expiry, because every headless check consults the revocation set
//! (`src/auth/revoked.rs`).

use gloo_net::http::Method;
use leptos::task::spawn_local;

use super::{me_from_this_page, About, Report};
use crate::api::paths;
use crate::client::now_ms;
use crate::client::request::{self, AccessToken, ApiCall};
use crate::client::store::Auth;

pub(super) const ABOUT: About = About {
    title: "Revoke a stolen token",
    lab_only: false,
    button: "Steal it, then log out everywhere",
    explanation: "The copied token answers 200 to a script in the page (the page's key signs for it). Then the owner logs out everywhere: the server revokes every session in the database and in each instance's memory, so the copy is refused within a second instead of working until it expires. This tab is logged out too, at its next call.",
};

/// How long the demo keeps asking before it calls the copy still accepted.
const GIVE_UP_MS: f64 = 5_000.0;

pub(super) fn run(auth: Auth, report: Report) {
    let Some(token) = auth.access_token() else { return };
    spawn_local(async move {
        let before = me_from_this_page(&token).await;
        report.step(format!("GET /api/me with the copied token, from the page → {before}"));
        let call = ApiCall {
            method: Method::POST,
            path: paths::LOGOUT_ALL,
            access_token: Some(&token),
            body: None,
            cookie_endpoint: false,
        };
        let logout = request::send(&call).await.map_or(0, |response| response.status());
        report.step(format!("POST /api/auth/logout-all (the owner: log out everywhere) → {logout}"));
        let revoked_at = now_ms();
        let (after, tries) = ask_until_refused(&token, revoked_at).await;
        let delay = now_ms() - revoked_at;
        let tries = if tries == 1 { "the first try".to_owned() } else { format!("{tries} tries") };
        report.step(format!("GET /api/me with the copy → {after} after {delay:.0} ms ({tries})"));
        report.verdict(if before == 200 && logout == 200 && after == 401 {
            format!(
                "Revoked in {delay:.0} ms: the copy died with the session, not at its expiry. This tab's own session is gone too: its next call logs it out."
            )
        } else {
            "Unexpected: see the steps.".into()
        });
    });
}

/// Asks `/api/me` with `token` every 10 ms until it is refused or [`GIVE_UP_MS`] pass; the
/// last status and the number of tries.
async fn ask_until_refused(token: &AccessToken, since: f64) -> (u16, u32) {
    let mut tries = 0;
    loop {
        tries += 1;
        let status = me_from_this_page(token).await;
        if status == 401 || now_ms() - since > GIVE_UP_MS {
            return (status, tries);
        }
        gloo_timers::future::TimeoutFuture::new(10).await;
    }
}
