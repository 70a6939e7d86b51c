use gloo_net::http::Method;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

use crate::api::{
    paths, OidcProvider, PasswordChange, Revoked, SecurityEvent, SessionInfo, WaysIn, PASSWORD_MAX_CHARS,
    PASSWORD_MIN_CHARS,
};
use crate::client::fetch::{get_authed, post_authed, send_authed_empty, ApiError};
use crate::client::local_time;
use crate::client::refresh::logout;
use crate::client::store::use_auth;
use crate::components::{use_providers, RequireAuth};

mod ways_in;

/// Where a user sees every session of theirs, ends any of them, links and unlinks social
/// logins, changes (or sets) the password, and reads what happened to the account.
#[component]
pub fn Sessions() -> impl IntoView {
    view! {
        <Title text="Sessions · tokenpair" />
        <section>
            <h1>"Sessions and security"</h1>
            <RequireAuth>
                <SessionsPanel />
            </RequireAuth>
        </section>
    }
}

/// A list loaded from the API: not yet, failed, or here.
type Loaded<T> = RwSignal<Option<Result<Vec<T>, ApiError>>>;

/// After an action: what it did, for the status line, and a reload of the lists.
#[derive(Clone, Copy)]
pub struct Done {
    notice: RwSignal<Option<String>>,
    version: RwSignal<u32>,
}

impl Done {
    fn report(&self, result: Result<String, ApiError>) {
        self.notice.set(Some(result.unwrap_or_else(|err| err.message())));
        self.version.update(|v| *v += 1);
    }
}

#[component]
fn SessionsPanel() -> impl IntoView {
    let auth = use_auth();
    // Back from linking a provider (`/sessions?linked=name`): say so.
    let linked = leptos_router::hooks::use_query_map().get_untracked().get("linked");
    let linked = linked
        .filter(|name| name.len() <= 32 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let done = Done {
        notice: RwSignal::new(linked.map(|name| format!("Linked {name}."))),
        version: RwSignal::new(0),
    };
    let sessions: Loaded<SessionInfo> = RwSignal::new(None);
    let events: Loaded<SecurityEvent> = RwSignal::new(None);
    let ways = RwSignal::new(None::<Result<WaysIn, ApiError>>);
    Effect::new(move || {
        done.version.track();
        spawn_local(async move {
            sessions.set(Some(get_authed(auth, paths::SESSIONS).await));
            ways.set(Some(get_authed(auth, paths::IDENTITIES).await));
            events.set(Some(get_authed(auth, paths::EVENTS).await));
        });
    });
    let has_password =
        Signal::derive(move || !matches!(ways.get(), Some(Ok(WaysIn { has_password: false, .. }))));
    view! {
        <p class="notice-line" role="status">
            {move || done.notice.get()}
        </p>
        <div class="grid grid-wide">
            <SessionsCard sessions done />
            <ways_in::WaysInCard ways done />
            <PasswordForm has_password on_done=move |message| done.report(Ok(message)) />
            <EventsCard events />
        </div>
    }
}

/// The live sessions, each revocable, and the two "log out" buttons.
#[component]
fn SessionsCard(sessions: Loaded<SessionInfo>, done: Done) -> impl IntoView {
    let auth = use_auth();
    let revoke = move |id: String| {
        spawn_local(async move {
            let path = format!("{}/{id}", paths::SESSIONS);
            done.report(
                send_authed_empty(auth, Method::DELETE, &path).await.map(|()| "Session revoked.".into()),
            );
        })
    };
    let logout_others = move |_| {
        spawn_local(async move {
            let result = post_authed::<Revoked>(auth, paths::LOGOUT_OTHERS, &()).await;
            done.report(result.map(|r| format!("Logged out {} other session(s).", r.revoked)));
        })
    };
    let logout_everywhere = move |_| {
        spawn_local(async move {
            // Whatever the server answered, this tab logs out (and tells the others).
            if let Err(err) = post_authed::<Revoked>(auth, paths::LOGOUT_ALL, &()).await {
                leptos::logging::warn!("log out everywhere: {}", err.message());
            }
            logout(auth).await;
        })
    };
    let providers = use_providers();
    let rows = move |list: Vec<SessionInfo>| {
        let known = providers.get();
        let way_in = move |name: &str| way_in_label(&known, name);
        view! {
            <ul class="list" aria-label="Sessions">
                {list
                    .into_iter()
                    .map(|s| {
                        view! { <SessionRow way_in=way_in(&s.signed_in_with) session=s on_revoke=revoke /> }
                    })
                    .collect_view()}
            </ul>
        }
    };
    view! {
        <article class="card">
            <h2>"Where you are logged in"</h2>
            {move || loaded(sessions.get(), rows)}
            <p class="actions">
                <button class="button button-quiet" on:click=logout_others>
                    "Log out other sessions"
                </button>
                <button class="button button-quiet" on:click=logout_everywhere>
                    "Log out everywhere"
                </button>
            </p>
            <p class="muted small">
                "Revoking a session stops its refresh token at once, and its access tokens too: every server refuses them within a second, although it checks them without the database."
            </p>
        </article>
    }
}

#[component]
fn EventsCard(events: Loaded<SecurityEvent>) -> impl IntoView {
    let rows = |list: Vec<SecurityEvent>| {
        view! {
            <ul class="list" aria-label="Security events">
                {list.into_iter().map(|e| view! { <EventRow event=e /> }).collect_view()}
            </ul>
        }
    };
    view! {
        <article class="card">
            <h2>"Security events"</h2>
            {move || loaded(events.get(), rows)}
        </article>
    }
}

/// "Loading…", the error, or the list drawn by `rows`.
fn loaded<T, V: IntoView + 'static>(
    state: Option<Result<Vec<T>, ApiError>>,
    rows: impl Fn(Vec<T>) -> V,
) -> AnyView {
    match state {
        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
        Some(Err(err)) => view! { <p class="form-error">{err.message()}</p> }.into_any(),
        Some(Ok(list)) => rows(list).into_any(),
    }
}

#[component]
fn SessionRow(
    session: SessionInfo,
    way_in: String,
    on_revoke: impl Fn(String) + Copy + 'static,
) -> impl IntoView {
    let id = session.id.clone();
    let agent = session.user_agent.clone().unwrap_or_else(|| "Unknown client".into());
    let facts = format!(
        "{} · signed in {} with {} · active {}",
        session.ip.clone().unwrap_or_default(),
        local_time(session.created_at),
        way_in,
        local_time(session.last_refreshed_at),
    );
    view! {
        <li class="list-item">
            <div>
                <strong>{short_agent(&agent)}</strong>
                {session.current.then(|| view! { <span class="badge">"This session"</span> })}
                <div class="muted small">{facts}</div>
            </div>
            {(!session.current)
                .then(|| {
                    view! {
                        <button
                            class="button button-small button-quiet"
                            on:click=move |_| on_revoke(id.clone())
                        >
                            "Revoke"
                        </button>
                    }
                })}
        </li>
    }
}

#[component]
fn EventRow(event: SecurityEvent) -> impl IntoView {
    view! {
        <li class="list-item">
            <div>
                <strong>{event.kind.label()}</strong>
                <div class="muted small">
                    {format!("{} · {}", local_time(event.at), event.ip.unwrap_or_default())}
                    {event.detail.map(|d| format!(" · {d}"))}
                </div>
            </div>
        </li>
    }
}

#[component]
fn PasswordForm(has_password: Signal<bool>, on_done: impl Fn(String) + Copy + 'static) -> impl IntoView {
    let auth = use_auth();
    let (current, new) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        pending.set(true);
        let change =
            PasswordChange { current_password: current.get_untracked(), new_password: new.get_untracked() };
        spawn_local(async move {
            match post_authed::<Revoked>(auth, paths::PASSWORD, &change).await {
                Ok(r) => {
                    error.set(None);
                    current.set(String::new());
                    new.set(String::new());
                    on_done(format!("Password saved. {} other session(s) logged out.", r.revoked));
                }
                Err(err) => error.set(Some(err.message())),
            }
            pending.set(false);
        });
    };
    view! {
        <form class="card form" on:submit=submit>
            <h2>{move || if has_password.get() { "Change password" } else { "Set a password" }}</h2>
            <Show when=move || has_password.get()>
                <div class="field">
                    <label for="current-password">"Current password"</label>
                    <input
                        id="current-password"
                        type="password"
                        autocomplete="current-password"
                        required
                        bind:value=current
                    />
                </div>
            </Show>
            <div class="field">
                <label for="new-password">"New password"</label>
                <input
                    id="new-password"
                    type="password"
                    autocomplete="new-password"
                    required
                    minlength=PASSWORD_MIN_CHARS.to_string()
                    maxlength=PASSWORD_MAX_CHARS.to_string()
                    bind:value=new
                />
                <p class="hint">"Every other session is logged out."</p>
            </div>
            <p class="form-error" role="alert">
                {move || error.get()}
            </p>
            <button type="submit" class="button" disabled=move || pending.get()>
                {move || if has_password.get() { "Change password" } else { "Set password" }}
            </button>
        </form>
    }
}

/// How a session began, for people: "a password", or the provider's label.
fn way_in_label(providers: &[OidcProvider], signed_in_with: &str) -> String {
    match providers.iter().find(|p| p.name == signed_in_with) {
        Some(provider) => provider.label.clone(),
        None if signed_in_with == "password" => "a password".to_owned(),
        None => signed_in_with.to_owned(),
    }
}

/// "Chrome on Linux"-like brevity is a parser's job; the first product token is enough here.
fn short_agent(agent: &str) -> String {
    let browser = ["Firefox", "Edg", "Chrome", "Safari"].into_iter().find(|name| agent.contains(name));
    match browser {
        Some("Edg") => "Edge".into(),
        Some(name) => name.into(),
        None => agent.chars().take(40).collect(),
    }
}
