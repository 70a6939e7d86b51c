//! A script in the page looks for the refresh token in `document.cookie`: it is not there.

use super::{About, Report};
use crate::client::browser;
use crate::client::store::Auth;

pub(super) const ABOUT: About = About {
    title: "Look for the refresh token",
    lab_only: false,
    button: "Read document.cookie",
    explanation: "The refresh cookie is HttpOnly: scripts cannot read it.",
};

pub(super) fn run(_: Auth, report: Report) {
    let cookies = browser::document_cookie();
    report.step(format!("document.cookie = {cookies:?}"));
    report.verdict(if cookies.contains("tokenpair-refresh") || cookies.contains("eyJ") {
        "Exposed: a token is readable by scripts!"
    } else {
        "Out of reach: scripts see no token, only the logged-in hint."
    });
}
