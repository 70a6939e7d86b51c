use gloo_net::http::Request;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use serde::Deserialize;
use web_sys::RequestCredentials;

use crate::api::{paths, CSRF_HEADER, CSRF_HEADER_VALUE};
use crate::client::fetch::post_authed;
use crate::client::json;
use crate::client::store::{use_auth, Auth};
use crate::components::RequireAuth;

/// The attack lab: each demo runs an attack against this server, for real, and shows the
/// requests, the answers and the verdict.
#[component]
pub fn Lab() -> impl IntoView {
    view! {
        <Title text="Attack lab · tokenpair"/>
        <section>
            <h1>"Attack lab"</h1>
            <p class="muted">"Each button runs an attack against this server from this page. Demos marked LAB MODE need a capability no real page has; they run only when the server was started with TOKENPAIR_LAB=1 on a loopback address."</p>
            <RequireAuth>
                <Demos/>
            </RequireAuth>
        </section>
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

#[component]
fn Demo(
    title: &'static str,
    lab_only: bool,
    button: &'static str,
    explanation: &'static str,
    run: impl Fn(Auth, Report) + Copy + 'static,
) -> impl IntoView {
    let auth = use_auth();
    let report = Report::new();
    let start = move |_| {
        report.steps.set(Vec::new());
        report.verdict.set(None);
        run(auth, report);
    };
    view! {
        <article class="card demo" aria-label=title>
            <h2>{title} {lab_only.then(|| view! { <span class="badge badge-lab">"LAB MODE"</span> })}</h2>
            <p class="muted small">{explanation}</p>
            <button class="button button-small" on:click=start>{button}</button>
            <ol class="steps-log small">{move || report.steps.get().into_iter().map(|s| view! { <li><code>{s}</code></li> }).collect_view()}</ol>
            <p class="verdict" aria-label="Verdict">{move || report.verdict.get()}</p>
        </article>
    }
}

#[component]
fn Demos() -> impl IntoView {
    let lab_enabled = RwSignal::new(false);
    spawn_local(async move {
        #[derive(Deserialize)]
        struct Status {
            enabled: bool,
        }
        if let Ok(response) = Request::get(paths::LAB).send().await {
            lab_enabled.set(json::read::<Status>(&response).await.is_ok_and(|s| s.enabled));
        }
    });
    view! {
        <p class="muted" role="status">{move || if lab_enabled.get() { "Lab mode is ON on this server." } else { "Lab mode is off: the LAB MODE demos will be refused." }}</p>
        <div class="grid grid-wide">
            <Demo title="Steal the access token" lab_only=false button="Steal and use it"
                explanation="An injected script can read what the page holds in memory. It uses the token from a context without cookies: it works until the token expires, then 401. Refreshing with it and no cookie: 401."
                run=steal_access_token/>
            <Demo title="Look for the refresh token" lab_only=false button="Read document.cookie"
                explanation="The refresh cookie is HttpOnly: scripts cannot read it."
                run=read_document_cookie/>
            <Demo title="The honest caveat" lab_only=false button="Call refresh from the page"
                explanation="A script running in this page can still call the refresh endpoint: the browser attaches the cookie. What stands in the way is keeping scripts out (CSP, src/server.rs), the custom header and Origin checks for other sites (src/auth/guard.rs), SameSite=Strict (src/auth/cookie.rs) and short access lifetimes (src/config.rs)."
                run=refresh_from_page/>
            <Demo title="Replay a stolen refresh token" lab_only=true button="Copy, rotate twice, replay"
                explanation="A copy of the refresh cookie, replayed after the real one has rotated on: reuse detected, and the whole session is revoked. This logs you out at your next refresh."
                run=replay_stolen_refresh_token/>
            <Demo title="Forged tokens" lab_only=true button="Forge and send"
                explanation="alg none, another key, expired, tampered: each is sent to /api/me; the reason is what the server's verification says."
                run=send_forged_tokens/>
            <Demo title="A cross-site request" lab_only=true button="Open a page on another site"
                explanation="A page on another site (this server under its other loopback name) posts to the refresh endpoint with the user's browser."
                run=cross_site_request/>
        </div>
    }
}

fn steal_access_token(auth: Auth, report: Report) {
    let Some(token) = auth.current_token() else { return };
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

fn read_document_cookie(_: Auth, report: Report) {
    let cookies = document_cookie();
    report.step(format!("document.cookie = {cookies:?}"));
    report.verdict(if cookies.contains("tokenpair-refresh") || cookies.contains("eyJ") {
        "Exposed: a token is readable by scripts!"
    } else {
        "Out of reach: scripts see no token, only the logged-in hint."
    });
}

fn refresh_from_page(_: Auth, report: Report) {
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

fn replay_stolen_refresh_token(_: Auth, report: Report) {
    spawn_local(async move {
        let copy =
            Request::post("/api/auth/lab/copy-cookie").header(CSRF_HEADER, CSRF_HEADER_VALUE).send().await;
        let Ok(copy) = copy else { return report.verdict("Cannot reach the server.") };
        if !copy.ok() {
            report.step(format!("copy the HttpOnly cookie → {}", copy.status()));
            return report.verdict("Lab mode is off: the cookie cannot be copied (as it should be).");
        }
        #[derive(Deserialize, serde::Serialize)]
        struct Stolen {
            refresh_token: String,
        }
        let Ok(stolen) = json::read::<Stolen>(&copy).await else { return };
        report.step(format!(
            "copied the refresh cookie: {}…",
            &stolen.refresh_token[..16.min(stolen.refresh_token.len())]
        ));
        for _ in 0..2 {
            let status = refresh_status(None, RequestCredentials::SameOrigin).await;
            report.step(format!("the user's browser refreshes (rotation) → {status}"));
        }
        /// What the server says happened to the thief's replay.
        #[derive(Deserialize)]
        struct Replayed {
            status: u16,
            outcome: String,
        }
        let replay = json::with_body(
            Request::post("/api/auth/lab/replay").header(CSRF_HEADER, CSRF_HEADER_VALUE),
            &stolen,
        );
        let answer = match replay {
            Ok(request) => match request.send().await {
                Ok(response) => json::read::<Replayed>(&response).await.ok(),
                Err(_) => None,
            },
            Err(_) => None,
        };
        let (replay_status, outcome) = answer.map_or((0, String::new()), |a| (a.status, a.outcome));
        report.step(format!("the thief replays the copy → {replay_status} \"{outcome}\""));
        let after = refresh_status(None, RequestCredentials::SameOrigin).await;
        report.step(format!(
            "the user's next refresh → {after} (this tab logs out at its next scheduled refresh)"
        ));
        report.verdict(if replay_status == 401 && after == 401 {
            "Reuse detected: the whole session is revoked; thief and user are both logged out."
        } else {
            "Unexpected: see the steps."
        });
    });
}

fn send_forged_tokens(auth: Auth, report: Report) {
    spawn_local(async move {
        #[derive(Deserialize)]
        struct Forgery {
            name: String,
            token: String,
            reason: String,
        }
        let forged = post_authed::<Vec<Forgery>>(auth, "/api/lab/forge", &()).await;
        let Ok(forged) = forged else { return report.verdict("Lab mode is off: no forging endpoint.") };
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

fn cross_site_request(_: Auth, report: Report) {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::prelude::*;
        use wasm_bindgen::JsCast;
        let Some(window) = web_sys::window() else { return };
        let location = window.location();
        let (Ok(host), Ok(port), Ok(origin)) = (location.hostname(), location.port(), location.origin())
        else {
            return;
        };
        let other_host = if host == "localhost" { "127.0.0.1" } else { "localhost" };
        let url = format!("http://{other_host}:{port}/lab/attacker?target={origin}");
        report.step(format!("opened {url}"));
        let handler = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let Some(AttackerReport { results }) = json::from_js(event.data()) else { return };
            for result in &results {
                report.step(format!("{}: the attacker read {}", result.label, result.read));
            }
            let leaked = results.iter().any(|r| r.read.contains("access_token"));
            report.verdict(if leaked { "Leaked a token!" } else { "Blocked: the other site got no token." });
        });
        window.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        handler.forget();
        let _ = window.open_with_url(&url);
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = report;
}

/// What the attacker's page posts back: each attempt and what it could read.
#[cfg(target_arch = "wasm32")]
#[derive(Deserialize)]
struct AttackerReport {
    #[serde(rename = "tokenpairLab")]
    results: Vec<AttackAttempt>,
}

#[cfg(target_arch = "wasm32")]
#[derive(Deserialize)]
struct AttackAttempt {
    label: String,
    read: String,
}

/// `GET /api/me` with `token`; the status (0 if no answer).
async fn me_status(token: &str, credentials: RequestCredentials) -> u16 {
    let request =
        Request::get(paths::ME).credentials(credentials).header("Authorization", &format!("Bearer {token}"));
    request.send().await.map_or(0, |r| r.status())
}

/// `POST /api/auth/refresh` as a script would send it, with an optional bearer; the status.
async fn refresh_status(bearer: Option<&str>, credentials: RequestCredentials) -> u16 {
    let request =
        Request::post(paths::REFRESH).credentials(credentials).header(CSRF_HEADER, CSRF_HEADER_VALUE);
    let request = match bearer {
        Some(token) => request.header("Authorization", &format!("Bearer {token}")),
        None => request,
    };
    request.send().await.map_or(0, |r| r.status())
}

fn document_cookie() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
            .and_then(|d| d.cookie().ok())
            .unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    String::new()
}
