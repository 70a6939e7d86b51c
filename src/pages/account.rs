use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

use crate::api::{paths, Accepted, Me};
use crate::client::fetch::{get_authed, post_authed};
use crate::client::json;
use crate::client::refresh::logout;
use crate::client::store::{use_auth, AuthState, Session};
use crate::client::{now_ms, use_interval};
use crate::components::RequireAuth;

/// How often the page calls the protected API to show that the token still works.
const API_CHECK_MS: u32 = 3_000;

/// The protected page: who you are, how long the current access token has left, and the
/// protected API's live answer.
#[component]
pub fn Account() -> impl IntoView {
    view! {
        <Title text="Account · tokenpair" />
        <section>
            <h1>"Your account"</h1>
            <RequireAuth>
                <Details />
            </RequireAuth>
        </section>
    }
}

/// One call to the protected API, as shown on the page.
#[derive(Clone)]
struct ApiCheck {
    result: Result<Me, String>,
    at_ms: f64,
    count: u32,
}

#[component]
fn Details() -> impl IntoView {
    let now = RwSignal::new(now_ms());
    use_interval(250, move || now.set(now_ms()));
    view! {
        <div class="grid">
            <SignedInCard />
            <TokenCard now />
            <ApiCard now />
        </div>
    }
}

/// The session of this tab, tracked.
fn current_session() -> impl Fn() -> Option<Session> + Copy {
    let auth = use_auth();
    move || match auth.state() {
        AuthState::LoggedIn(session) => Some(session),
        _ => None,
    }
}

#[component]
fn SignedInCard() -> impl IntoView {
    let auth = use_auth();
    let session = current_session();
    view! {
        <article class="card">
            <h2>"Signed in as"</h2>
            <p class="email" aria-label="Email">
                {move || session().map(|s| s.user.email)}
            </p>
            <EmailStatus verified=move || session().is_some_and(|s| s.user.email_verified) />
            <p class="muted">"The access token that proves it lives only in this tab's memory."</p>
            <button class="button button-quiet" on:click=move |_| spawn_local(logout(auth))>
                "Log out"
            </button>
        </article>
    }
}

/// Whether the address is verified, and for one that is not, the verification mail again.
#[component]
fn EmailStatus(verified: impl Fn() -> bool + Copy + Send + Sync + 'static) -> impl IntoView {
    let auth = use_auth();
    let (pending, answer) = (RwSignal::new(false), RwSignal::new(None::<String>));
    let resend = move |_| {
        pending.set(true);
        spawn_local(async move {
            let sent = post_authed::<Accepted>(auth, paths::VERIFY_EMAIL, &()).await;
            let said =
                sent.map_or_else(|err| err.message(), |_| "Sent: open the link in the mail.".to_owned());
            answer.set(Some(said));
            pending.set(false);
        });
    };
    view! {
        <p class="muted small" aria-label="Email status">
            {move || if verified() { "Address verified." } else { "Address not verified yet." }}
        </p>
        <Show when=move || !verified()>
            <button class="button button-quiet" disabled=move || pending.get() on:click=resend>
                "Send the confirmation mail again"
            </button>
            <p class="muted small" role="status">
                {move || answer.get()}
            </p>
        </Show>
    }
}

/// How long the access token has left, as a countdown and a meter.
#[component]
fn TokenCard(now: RwSignal<f64>) -> impl IntoView {
    let auth = use_auth();
    let session = current_session();
    let seconds_left = move || session().map_or(0.0, |s| ((s.expires_at_ms - now.get()) / 1000.0).max(0.0));
    let fraction_left = move || {
        session().map_or(0.0, |s| {
            ((s.expires_at_ms - now.get()) / (s.expires_at_ms - s.received_at_ms)).clamp(0.0, 1.0)
        })
    };
    view! {
        <article class="card">
            <h2>"Access token"</h2>
            <p class="countdown" aria-label="Access token time left">
                {move || format_seconds(seconds_left())}
            </p>
            <div class="meter" role="presentation">
                <div class="meter-fill" style:width=move || format!("{:.1}%", fraction_left() * 100.0)></div>
            </div>
            <p class="muted">
                "Renewed silently shortly before it expires. Refreshes in this tab: "
                <span aria-label="Refresh count">{move || auth.refresh_count()}</span>
            </p>
        </article>
    }
}

/// `GET /api/me`, called on arrival and every few seconds, with its latest answer.
#[component]
fn ApiCard(now: RwSignal<f64>) -> impl IntoView {
    let auth = use_auth();
    let check = RwSignal::new(None::<ApiCheck>);
    let run_check = move || {
        spawn_local(async move {
            let result = get_authed::<Me>(auth, paths::ME).await.map_err(|err| err.message());
            let count = check.with_untracked(|c| c.as_ref().map_or(0, |c| c.count)) + 1;
            check.set(Some(ApiCheck { result, at_ms: now_ms(), count }));
        })
    };
    // Check on arrival, and again the moment a new token arrives after a failed check (back
    // online, server back): the card must not say "Failed" while the tab is fine again.
    Effect::new(move |first_run: Option<()>| {
        auth.current_token(); // tracked: this runs again on every new token
        let failed = check.with_untracked(|c| matches!(c, Some(ApiCheck { result: Err(_), .. })));
        if first_run.is_none() || failed {
            run_check();
        }
    });
    use_interval(API_CHECK_MS, run_check);
    view! {
        <article class="card">
            <h2>
                <code>"GET /api/me"</code>
            </h2>
            <p class="muted">"Checked from the token alone, no database query; re-checked every 3 s."</p>
            {move || {
                check
                    .get()
                    .map_or_else(
                        || view! { <p class="muted">"Calling the API…"</p> }.into_any(),
                        |c| api_answer(c, now),
                    )
            }}
        </article>
    }
}

fn api_answer(check: ApiCheck, now: RwSignal<f64>) -> AnyView {
    let ApiCheck { result, at_ms, count } = check;
    match result {
        Ok(me) => {
            let ago = move || {
                format!("{} · last {:.0} s ago", checks(count), ((now.get() - at_ms) / 1000.0).max(0.0))
            };
            view! {
                <p class="status status-ok" aria-label="API check">
                    "200 OK"
                </p>
                <pre class="json">{json::pretty(&me)}</pre>
                <p class="muted">{ago}</p>
            }
            .into_any()
        }
        Err(message) => view! {
            <p class="status status-error" aria-label="API check">
                "Failed"
            </p>
            <p>{message}</p>
            <p class="muted">{checks(count)}</p>
        }
        .into_any(),
    }
}

fn checks(count: u32) -> String {
    if count == 1 {
        "Checked once".into()
    } else {
        format!("Checked {count} times")
    }
}

fn format_seconds(seconds: f64) -> String {
    if seconds >= 60.0 {
        let whole = seconds.floor() as u64;
        format!("{}:{:02}", whole / 60, whole % 60)
    } else {
        format!("{seconds:.1} s")
    }
}
