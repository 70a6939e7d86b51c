//! A script in the page looks for the refresh token in `document.cookie`: it is not there.

use leptos::prelude::*;

use super::{About, DemoCard, Report};
use crate::client::browser;
use crate::client::store::Auth;

#[component]
pub fn Demo() -> impl IntoView {
    let about = About {
        title: "Look for the refresh token",
        lab_only: false,
        button: "Read document.cookie",
        explanation: "The refresh cookie is HttpOnly: scripts cannot read it.",
    };
    view! { <DemoCard about run /> }
}

fn run(_: Auth, report: Report) {
    let cookies = browser::document_cookie();
    report.step(format!("document.cookie = {cookies:?}"));
    report.verdict(if cookies.contains("tokenpair-refresh") || cookies.contains("eyJ") {
        "Exposed: a token is readable by scripts!"
    } else {
        "Out of reach: scripts see no token, only the logged-in hint."
    });
}
