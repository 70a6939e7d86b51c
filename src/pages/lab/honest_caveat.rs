//! The honest caveat: a script running in the page can still call refresh, because the browser
//! attaches the cookie to the page's own requests.

use leptos::task::spawn_local;
use web_sys::RequestCredentials;

use super::{refresh_status, About, Report};
use crate::client::store::Auth;

pub(super) const ABOUT: About = About {
    title: "The honest caveat",
    lab_only: false,
    button: "Call refresh from the page",
    explanation: "A script running in this page can still call the refresh endpoint: the browser attaches the cookie. What stands in the way is keeping scripts out (CSP, src/http/pages.rs), the custom header and Origin checks for other sites (src/auth/guard.rs), SameSite=Strict (src/auth/cookie.rs) and short access lifetimes (src/config.rs).",
};

pub(super) fn run(_: Auth, report: Report) {
    spawn_local(async move {
        let status = refresh_status(None, RequestCredentials::SameOrigin).await;
        report.step(format!(
            "POST /api/auth/refresh from this page (cookie attached by the browser) → {status}"
        ));
        report.verdict(if status == 200 {
            "It works: script in the page can refresh. The defence is keeping scripts out (CSP) and other sites out (SameSite, Origin, custom header)."
        } else {
            "Refused: see the steps."
        });
    });
}
