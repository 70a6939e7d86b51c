//! A copy of the refresh cookie, replayed after the real one has rotated on: the server sees a
//! rotated token come back, calls it reuse, and revokes the whole session.

use gloo_net::http::Response;
use leptos::task::spawn_local;

use super::{refresh_from_this_page, About, Report};
use crate::api::lab::{Replayed, StolenCookie};
use crate::api::{paths, EventKind};
use crate::client::json;
use crate::client::request::to_cookie_endpoint;
use crate::client::store::Auth;

pub(super) const ABOUT: About = About {
    title: "Replay a stolen refresh token",
    lab_only: true,
    button: "Copy, rotate twice, replay",
    explanation: "A copy of the refresh cookie, replayed after the real one has rotated on: reuse detected, and the whole session is revoked. This logs you out at your next refresh.",
};

pub(super) fn run(_: Auth, report: Report) {
    spawn_local(async move {
        let Some(stolen) = copy_cookie(report, true).await else { return };
        for _ in 0..2 {
            let status = refresh_from_this_page().await;
            report.step(format!("the user's browser refreshes (rotation) → {status}"));
        }
        let Some(replayed) = replay(&stolen).await else {
            return report.verdict("The replay got no readable answer: see the steps.");
        };
        report.step(format!("the thief replays the copy → {} ({})", replayed.status, replayed.explanation));
        let after = refresh_from_this_page().await;
        report.step(format!(
            "the user's next refresh → {after} (this tab logs out at its next scheduled refresh)"
        ));
        let reuse_detected = EventKind::ReuseDetected.name();
        report.verdict(match (replayed.outcome.as_str(), after) {
            (outcome, 401) if outcome == reuse_detected => {
                "Reuse detected: the whole session is revoked; thief and user are both logged out.".to_owned()
            }
            (outcome, _) => format!("Unexpected: the replay was {outcome}, the user's refresh {after}."),
        });
    });
}

/// The lab's stand-in for malware reading the cookie jar: the HttpOnly cookie, copied. Without
/// lab mode there is nothing to copy with: `verdict_if_off` says so as the demo's verdict.
pub(super) async fn copy_cookie(report: Report, verdict_if_off: bool) -> Option<StolenCookie> {
    let Ok(copy) = to_cookie_endpoint(paths::LAB_COPY_COOKIE).send().await else {
        report.verdict("Cannot reach the server.");
        return None;
    };
    if copy.status() == 404 && !verdict_if_off {
        report.step("copy the HttpOnly cookie → 404 (lab mode is off)");
        return None;
    }
    if !copy.ok() {
        report.step(format!("copy the HttpOnly cookie → {}", copy.status()));
        report.verdict(match copy.status() {
            404 => "Lab mode is off: the cookie cannot be copied (as it should be).".to_owned(),
            status => format!("The copy was refused ({status}): see the steps."),
        });
        return None;
    }
    let stolen = json::read::<StolenCookie>(&copy).await.ok()?;
    let start: String = stolen.refresh_token.chars().take(16).collect();
    report.step(format!("copied the refresh cookie: {start}…"));
    Some(stolen)
}

/// The thief's refresh with the copy, run by the server (no DPoP key); what the refresh decided.
pub(super) async fn replay(stolen: &StolenCookie) -> Option<Replayed> {
    let request = json::with_body(to_cookie_endpoint(paths::LAB_REPLAY), stolen).ok()?;
    let response: Response = request.send().await.ok()?;
    json::read::<Replayed>(&response).await.ok()
}
