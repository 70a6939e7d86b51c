//! A page on another site (this server under its other loopback name) posts to the refresh
//! endpoint with the user's browser, and reports back what it could read.

use super::{About, Report};
use crate::api::lab::AttackerReport;
use crate::api::paths;
use crate::client::store::Auth;
use crate::client::{browser, json};

pub(super) const ABOUT: About = About {
    title: "A cross-site request",
    lab_only: true,
    button: "Open a page on another site",
    explanation: "A page on another site (this server under its other loopback name) posts to the refresh endpoint with the user's browser.",
};

pub(super) fn run(_: Auth, report: Report) {
    let Some((host, port, origin)) = browser::location() else { return };
    let other_host = if host == "localhost" { "127.0.0.1" } else { "localhost" };
    let url = format!("http://{other_host}:{port}{}?target={origin}", paths::LAB_ATTACKER_PAGE);
    report.step(format!("opened {url}"));
    browser::open_window_and_listen(&url, move |data| {
        let Some(AttackerReport { results }) = json::from_js(data) else { return };
        for result in &results {
            report.step(format!("{}: the attacker read {}", result.label, result.read));
        }
        let leaked = results.iter().any(|r| r.read.contains("access_token"));
        report.verdict(if leaked { "Leaked a token!" } else { "Blocked: the other site got no token." });
    });
}
