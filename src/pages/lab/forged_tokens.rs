//! Forged access tokens (alg none, another key, expired, tampered), each sent to `/api/me`.

use leptos::task::spawn_local;
use web_sys::RequestCredentials;

use super::{me_status, About, Report};
use crate::api::lab::Forgery;
use crate::api::paths;
use crate::client::fetch::{post_authed, ApiError};
use crate::client::store::Auth;

pub(super) const ABOUT: About = About {
    title: "Forged tokens",
    lab_only: true,
    button: "Forge and send",
    explanation: "alg none, another key, expired, tampered: each is sent to /api/me; the reason is what the server's verification says.",
};

pub(super) fn run(auth: Auth, report: Report) {
    spawn_local(async move {
        let forged = match post_authed::<Vec<Forgery>>(auth, paths::LAB_FORGE, &()).await {
            Ok(forged) => forged,
            Err(ApiError::Status { status: 404, .. }) => {
                return report.verdict("Lab mode is off: no forging endpoint.")
            }
            Err(err) => return report.verdict(format!("The server would not forge: {}", err.message())),
        };
        let mut refused = 0;
        for forgery in &forged {
            let status = me_status(&forgery.token, RequestCredentials::SameOrigin).await;
            refused += usize::from(status == 401);
            report.step(format!("{} → {status} ({})", forgery.name, forgery.reason));
        }
        report.verdict(if refused == forged.len() {
            format!("All {refused} forgeries refused.")
        } else {
            "Some forgery was accepted!".into()
        });
    });
}
