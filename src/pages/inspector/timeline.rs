//! The inspector's timeline: this tab's access tokens as bars, their scheduled refreshes as
//! ticks, and the refresh calls as dots, drawn in SVG on the page's monotonic clock.

use leptos::prelude::*;

use crate::client::store::{use_auth, Outcome, TimelineEntry};

/// Draws the timeline as SVG: the last two and a half token lifetimes and the next one.
#[component]
pub fn Timeline(now: RwSignal<f64>) -> impl IntoView {
    let auth = use_auth();
    move || {
        let now = now.get();
        let entries = auth.timeline();
        let scale = Scale::around(now, last_lifetime(&entries));
        let mut lane = 0;
        let shapes = entries
            .into_iter()
            .filter_map(|entry| match entry {
                TimelineEntry::Token { received_at_ms, expires_at_ms, refresh_at_ms, from_other_tab } => {
                    (expires_at_ms >= scale.start).then(|| {
                        lane = 1 - lane;
                        let bar = Bar { received_at_ms, expires_at_ms, refresh_at_ms, from_other_tab, lane };
                        token_bar(scale, bar)
                    })
                }
                TimelineEntry::Refresh { started_at_ms, latency_ms, outcome } => (started_at_ms
                    >= scale.start)
                    .then(|| refresh_dot(scale, started_at_ms, latency_ms, outcome)),
            })
            .collect_view();
        view! {
            <svg class="timeline" viewBox="0 0 800 100" role="img" aria-label="Token timeline">
                {shapes}
                <line class="tl-now" x1=scale.x(now) x2=scale.x(now) y1="0" y2="100" />
            </svg>
        }
    }
}

/// The lifetime of the newest token, which sets the timeline's span.
fn last_lifetime(entries: &[TimelineEntry]) -> f64 {
    entries
        .iter()
        .rev()
        .find_map(|e| match e {
            TimelineEntry::Token { received_at_ms, expires_at_ms, .. } => {
                Some(expires_at_ms - received_at_ms)
            }
            _ => None,
        })
        .unwrap_or(60_000.0)
        .max(1_000.0)
}

/// Maps times on the page's clock to x positions on the 800-wide timeline.
#[derive(Clone, Copy)]
struct Scale {
    start: f64,
    end: f64,
}

impl Scale {
    const WIDTH: f64 = 800.0;

    fn around(now: f64, lifetime: f64) -> Self {
        Self { start: now - 2.5 * lifetime, end: now + lifetime }
    }

    fn x(self, t: f64) -> f64 {
        ((t - self.start) / (self.end - self.start) * Self::WIDTH).clamp(0.0, Self::WIDTH)
    }
}

/// One access token's life on the timeline.
struct Bar {
    received_at_ms: f64,
    expires_at_ms: f64,
    refresh_at_ms: f64,
    from_other_tab: bool,
    lane: u8,
}

fn token_bar(scale: Scale, bar: Bar) -> AnyView {
    let y = 12.0 + f64::from(bar.lane) * 26.0;
    let class = if bar.from_other_tab { "tl-token tl-shared" } else { "tl-token" };
    let (start, tick) = (scale.x(bar.received_at_ms), scale.x(bar.refresh_at_ms));
    let width = (scale.x(bar.expires_at_ms) - start).max(1.0);
    view! {
        <g>
            <rect class=class x=start y=y width=width height="18" rx="3" />
            <line class="tl-tick" x1=tick x2=tick y1=y - 3.0 y2=y + 21.0 />
        </g>
    }
    .into_any()
}

fn refresh_dot(scale: Scale, started_at_ms: f64, latency_ms: f64, outcome: Outcome) -> AnyView {
    let class = if outcome == Outcome::Renewed { "tl-refresh" } else { "tl-refresh tl-failed" };
    view! {
        <circle class=class cx=scale.x(started_at_ms) cy="82" r="6">
            <title>{format!("refresh: {}, {latency_ms:.0} ms", outcome.describe())}</title>
        </circle>
    }
    .into_any()
}
