use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

use crate::api::{paths, SessionChain};
use crate::client::fetch::get_authed;
use crate::client::store::{use_auth, TimelineEntry};
use crate::client::{decode_jwt_parts, local_time, now_ms, use_interval};
use crate::components::RequireAuth;

mod binding;
mod timeline;

use binding::BindingCard;
use timeline::Timeline;

/// Watch the flow live: this tab's tokens and refreshes, the current token decoded, the
/// server's view of the session, and how many calls were answered without the database.
#[component]
pub fn Inspector() -> impl IntoView {
    view! {
        <Title text="Inspector · tokenpair" />
        <section>
            <h1>"Token inspector"</h1>
            <p class="muted">
                "Everything here is live: this tab's memory, this server's database and counters."
            </p>
            <RequireAuth>
                <Panels />
            </RequireAuth>
        </section>
    }
}

#[component]
fn Panels() -> impl IntoView {
    let auth = use_auth();
    let now = RwSignal::new(now_ms());
    use_interval(1_000, move || now.set(now_ms()));
    let chain = RwSignal::new(None::<SessionChain>);
    let metrics = RwSignal::new(Metrics::default());
    let load = move || {
        spawn_local(async move {
            if let Ok(fresh) = get_authed::<SessionChain>(auth, paths::CHAIN).await {
                chain.set(Some(fresh));
            }
            metrics.set(load_metrics().await);
        })
    };
    Effect::new(load);
    use_interval(2_000, load);
    view! {
        <div class="grid grid-wide">
            <TimelineCard now />
            <TokenCard />
            <BindingCard />
            <article class="card">
                <h2>"The server's view of this session"</h2>
                <ChainView chain />
            </article>
            <MetricsCard metrics />
        </div>
    }
}

/// The tab's token history as a timeline, with the counts above it.
#[component]
fn TimelineCard(now: RwSignal<f64>) -> impl IntoView {
    let auth = use_auth();
    let count = move |refreshes: bool| {
        auth.timeline().iter().filter(|e| matches!(e, TimelineEntry::Refresh { .. }) == refreshes).count()
    };
    let countdown = move || {
        auth.timeline()
            .iter()
            .rev()
            .find_map(|e| match e {
                TimelineEntry::Token { expires_at_ms, .. } => {
                    Some(((expires_at_ms - now.get()) / 1000.0).max(0.0))
                }
                _ => None,
            })
            .map_or_else(String::new, |s| format!("{s:.0} s"))
    };
    view! {
        <article class="card span-all">
            <h2>"This tab's timeline"</h2>
            <p class="muted">
                "Access token expires in " <strong aria-label="Countdown">{countdown}</strong>
                " · tokens received: " <span aria-label="Tokens received">{move || count(false)}</span>
                " · refreshes from this tab: " <span aria-label="Refreshes">{move || count(true)}</span>
            </p>
            <Timeline now />
            <p class="muted small">
                "Bars: each access token's life (hatched if another tab shared it). Ticks: when its refresh is scheduled. Dots: refresh calls (green rotated, red failed). The line is now."
            </p>
        </article>
    }
}

/// The current access token, decoded in the browser.
#[component]
fn TokenCard() -> impl IntoView {
    let auth = use_auth();
    let decoded = move || {
        auth.current_token().and_then(|t| decode_jwt_parts(&t)).map(|(header, claims)| {
            view! {
                <pre class="json" aria-label="Token header">
                    {header}
                </pre>
                <pre class="json" aria-label="Token claims">
                    {claims}
                </pre>
            }
        })
    };
    view! {
        <article class="card">
            <h2>"The current access token"</h2>
            <p class="muted small">
                "Decoded here in the browser; the signature is not checked here. The server checks it on every API call (src/auth/tokens.rs), from the token alone."
            </p>
            {decoded}
        </article>
    }
}

/// The server's per-endpoint counters, and its revocation set.
#[component]
fn MetricsCard(metrics: RwSignal<Metrics>) -> impl IntoView {
    let revocations = move || metrics.with(|m| m.revocations_in_memory.clone()).unwrap_or_else(|| "–".into());
    let rows = move || {
        metric_rows(metrics.get().per_endpoint)
            .into_iter()
            .map(|(endpoint, [requests, headless, sql])| {
                view! {
                    <tr>
                        <td>
                            <code>{endpoint}</code>
                        </td>
                        <td>{requests}</td>
                        <td>{headless}</td>
                        <td>{sql}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <article class="card">
            <h2>"Headless vs database"</h2>
            <p class="muted small">
                "Per endpoint, from this server's /metrics: requests, those authenticated from the JWT alone, and SQL statements run."
            </p>
            <table class="table" aria-label="Metrics">
                <thead>
                    <tr>
                        <th>"Endpoint"</th>
                        <th>"Requests"</th>
                        <th>"Headless"</th>
                        <th>"SQL"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <p class="muted small">
                "Revocations this server holds in memory: "
                <strong aria-label="Revocations in memory">{revocations}</strong>
                ". Each is a session revoked, or a user disabled or whose password changed, in the last access-token lifetime: every headless check looks the token up there (src/auth/revoked.rs), so a revoked session's token is refused at once."
            </p>
        </article>
    }
}

#[component]
fn ChainView(chain: RwSignal<Option<SessionChain>>) -> impl IntoView {
    move || {
        chain.get().map(|chain| {
            view! {
                <p class="muted small">
                    "Session " <code>{chain.session_id.chars().take(8).collect::<String>()}</code>
                    ": each refresh token, by the start of its id."
                </p>
                <ol class="list" aria-label="Rotation chain">
                    {chain
                        .tokens
                        .into_iter()
                        .map(|link| {
                            view! {
                                <li class="list-item small">
                                    <span>
                                        <code>{link.jti_prefix}</code>
                                        {link.parent_prefix.map(|p| format!(" ← {p}"))}
                                    </span>
                                    <span class="muted">
                                        {format!("issued {}", local_time(link.issued_at))}
                                        {match link.rotated_at {
                                            Some(at) => format!(" · rotated {}", local_time(at)),
                                            None => " · current".into(),
                                        }}
                                    </span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
                <h3 class="small">"Decisions"</h3>
                <ul class="list" aria-label="Decisions">
                    {chain
                        .decisions
                        .into_iter()
                        .take(12)
                        .map(|event| {
                            view! {
                                <li class="list-item small">
                                    <span>{event.kind.label()}{event.detail.map(|d| format!(": {d}"))}</span>
                                    <span class="muted">{local_time(event.at)}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
        })
    }
}

/// One row per endpoint: requests, headless authentications, SQL statements.
fn metric_rows(samples: Vec<(String, String, String)>) -> BTreeMap<String, [String; 3]> {
    let mut rows = BTreeMap::<String, [String; 3]>::new();
    for (endpoint, counter, value) in samples {
        let row = rows.entry(endpoint).or_insert_with(|| ["0".into(), "0".into(), "0".into()]);
        let column = match counter.as_str() {
            "requests" => 0,
            "headless_auth" => 1,
            _ => 2,
        };
        row[column] = value;
    }
    rows
}

/// What the inspector reads from the server's `/metrics`.
#[derive(Clone, Default)]
struct Metrics {
    /// (endpoint, counter, value)
    per_endpoint: Vec<(String, String, String)>,
    revocations_in_memory: Option<String>,
}

/// Reads the server's Prometheus counters.
async fn load_metrics() -> Metrics {
    let Ok(response) = gloo_net::http::Request::get(paths::METRICS).send().await else {
        return Metrics::default();
    };
    let text = response.text().await.unwrap_or_default();
    let per_endpoint = text
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("tokenpair_")?;
            let (name, rest) = rest.split_once("_total{endpoint=\"")?;
            let (endpoint, value) = rest.split_once("\"} ")?;
            Some((endpoint.to_owned(), name.to_owned(), value.trim().to_owned()))
        })
        .collect();
    let revocations_in_memory = text
        .lines()
        .find_map(|line| line.strip_prefix("tokenpair_revocations_in_memory "))
        .map(|value| value.trim().to_owned());
    Metrics { per_endpoint, revocations_in_memory }
}
