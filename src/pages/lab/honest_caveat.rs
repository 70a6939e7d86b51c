//! The honest caveat: a script running in the page can still call refresh, because the browser
//! attaches the cookie to the page's own requests, and can still ask the page's DPoP key to sign
//! its proof: non-extractable is not unusable. Binding makes a theft end with the tab.

use super::{refresh_from_this_page, About, Report};
use crate::client::store::Auth;
use leptos::task::spawn_local;

pub(super) const ABOUT: About = About {
    title: "The honest caveat",
    lab_only: false,
    button: "Call refresh from the page",
    explanation: "A script running in this page can still call the refresh endpoint: the browser attaches the cookie, and the page's DPoP key, which no script can read out, still signs for whoever asks while the tab is open. Binding turns a theft into an attack that ends with the tab; what stands in the way first is keeping scripts out (CSP, src/http/pages.rs), then the custom header and Origin checks for other sites (src/auth/guard.rs), SameSite=Strict (src/auth/cookie.rs) and short access lifetimes (src/config.rs).",
};

pub(super) fn run(_: Auth, report: Report) {
    spawn_local(async move {
        let status = refresh_from_this_page().await;
        report.step(format!(
            "POST /api/auth/refresh from this page (cookie attached by the browser, proof signed by the page's key) → {status}"
        ));
        report.verdict(if status == 200 {
            "It works: script in the page can refresh, and have the key sign, while the tab is open. The defence is keeping scripts out (CSP) and other sites out (SameSite, Origin, custom header)."
        } else {
            "Refused: see the steps."
        });
    });
}
