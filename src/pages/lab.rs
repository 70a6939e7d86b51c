//! The attack lab: each demo runs an attack against this server, for real, and shows the
//! requests, the answers and the verdict. One demo per file in `lab/`; this file holds the page,
//! the frame every demo is shown in, and the probes the demos share.

use gloo_net::http::{Method, Request};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use web_sys::RequestCredentials;

use crate::api::lab::LabStatus;
use crate::api::paths;
use crate::client::json;
use crate::client::request::{self, to_cookie_endpoint, with_bearer, AccessToken, ApiCall};
use crate::client::store::{use_auth, Auth};
use crate::components::RequireAuth;

mod cross_site;
mod forged_tokens;
mod honest_caveat;
mod read_cookie;
mod replay_refresh;
mod revoke_stolen_token;
mod steal_access_token;

#[component]
pub fn Lab() -> impl IntoView {
    view! {
        <Title text="Attack lab · tokenpair" />
        <section>
            <h1>"Attack lab"</h1>
            <p class="muted">
                "Each button runs an attack against this server from this page. Demos marked LAB MODE need a capability no real page has; they run only when the server was started with TOKENPAIR_LAB=1 on a loopback address."
            </p>
            <RequireAuth>
                <Demos />
            </RequireAuth>
        </section>
    }
}

#[component]
fn Demos() -> impl IntoView {
    let lab_enabled = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(response) = Request::get(paths::LAB).send().await {
            lab_enabled.set(json::read::<LabStatus>(&response).await.is_ok_and(|s| s.enabled));
        }
    });
    let status = move || {
        if lab_enabled.get() {
            "Lab mode is ON on this server."
        } else {
            "Lab mode is off: the LAB MODE demos will be refused."
        }
    };
    view! {
        <p class="muted" role="status">
            {status}
        </p>
        <div class="grid grid-wide">
            <DemoCard about=steal_access_token::ABOUT run=steal_access_token::run />
            <DemoCard about=revoke_stolen_token::ABOUT run=revoke_stolen_token::run />
            <DemoCard about=read_cookie::ABOUT run=read_cookie::run />
            <DemoCard about=honest_caveat::ABOUT run=honest_caveat::run />
            <DemoCard about=replay_refresh::ABOUT run=replay_refresh::run />
            <DemoCard about=forged_tokens::ABOUT run=forged_tokens::run />
            <DemoCard about=cross_site::ABOUT run=cross_site::run />
        </div>
    }
}

/// One demo's output: the steps it took and its verdict.
#[derive(Clone, Copy)]
struct Report {
    steps: RwSignal<Vec<String>>,
    verdict: RwSignal<Option<String>>,
}

impl Report {
    fn new() -> Self {
        Self { steps: RwSignal::new(Vec::new()), verdict: RwSignal::new(None) }
    }

    fn step(&self, text: impl Into<String>) {
        self.steps.update(|steps| steps.push(text.into()));
    }

    fn verdict(&self, text: impl Into<String>) {
        self.verdict.set(Some(text.into()));
    }
}

/// What a demo card shows before it runs; each demo's file declares its own (`ABOUT`) beside
/// the `run` that attacks.
struct About {
    title: &'static str,
    lab_only: bool,
    button: &'static str,
    explanation: &'static str,
}

/// The card a demo runs in: its title, explanation and button, then its steps and verdict.
#[component]
fn DemoCard(about: About, run: impl Fn(Auth, Report) + Copy + 'static) -> impl IntoView {
    let auth = use_auth();
    let report = Report::new();
    let start = move |_| {
        report.steps.set(Vec::new());
        report.verdict.set(None);
        run(auth, report);
    };
    let steps = move || {
        report
            .steps
            .get()
            .into_iter()
            .map(|s| {
                view! {
                    <li>
                        <code>{s}</code>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <article class="card demo" aria-label=about.title>
            <h2>
                {about.title}
                {about.lab_only.then(|| view! { <span class="badge badge-lab">"LAB MODE"</span> })}
            </h2>
            <p class="muted small">{about.explanation}</p>
            <button class="button button-small" on:click=start>
                {about.button}
            </button>
            <ol class="steps-log small">{steps}</ol>
            <p class="verdict" aria-label="Verdict">
                {move || report.verdict.get()}
            </p>
        </article>
    }
}

/// `GET /api/me` with `token` as a bearer token and no DPoP proof: what a thief without this
/// browser's key can send; the status (0 if no answer).
async fn me_status(token: &str, credentials: RequestCredentials) -> u16 {
    let request = with_bearer(Request::get(paths::ME).credentials(credentials), Some(token));
    request.send().await.map_or(0, |r| r.status())
}

/// `GET /api/me` with `token` from this page, whose key signs a proof when the token is bound
/// (the honest caveat: a script in the page can ask it to); the status.
async fn me_from_this_page(token: &AccessToken) -> u16 {
    let call = ApiCall {
        method: Method::GET,
        path: paths::ME,
        access_token: Some(token),
        body: None,
        cookie_endpoint: false,
    };
    request::send(&call).await.map_or(0, |r| r.status())
}

/// `POST /api/auth/refresh` from this page as its own code sends it: the cookie attached by the
/// browser, a proof by the page's key; the status. The tab's memory does not learn the answer.
async fn refresh_from_this_page() -> u16 {
    request::post_with_cookie(paths::REFRESH, None).await.map_or(0, |r| r.status())
}

/// `POST /api/auth/refresh` as a script would send it, with an optional bearer; the status.
async fn refresh_status(bearer: Option<&str>, credentials: RequestCredentials) -> u16 {
    let request = with_bearer(to_cookie_endpoint(paths::REFRESH).credentials(credentials), bearer);
    request.send().await.map_or(0, |r| r.status())
}
