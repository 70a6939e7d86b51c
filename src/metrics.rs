//! Counting the design article's claim: per API endpoint, how many requests were authenticated
//! from the JWT alone and how many SQL statements ran. `GET /metrics` exposes the counts in the
//! Prometheus text format.
//!
//! Attribution works through a task-local scope that `track` opens around each API request. It
//! holds the counters and the endpoint, nothing else: `AuthUser` counts a headless authentication
//! in it, and every statement in `db/` counts a query in it (`db::query` and its siblings), so
//! neither needs to be handed the counters. Statements outside a request (start-up, key reloads)
//! are not counted.

use std::fmt::Write;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Endpoint {
    endpoint: Route,
}

/// A route as `METHOD /path/{param}`, made per request without allocating: the method and
/// axum's matched path (a shared string) are only written out together when `/metrics` is read.
#[derive(Clone, Debug)]
struct Route {
    method: Method,
    path: Option<MatchedPath>,
}

impl Route {
    fn path(&self) -> &str {
        self.path.as_ref().map_or("unmatched", MatchedPath::as_str)
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.method == other.method && self.path() == other.path()
    }
}

impl Eq for Route {}

impl Hash for Route {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.method.hash(state);
        self.path().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> std::fmt::Result {
        write!(encoder, "{} {}", self.method, self.path())
    }
}

pub struct Metrics {
    registry: Registry,
    requests: Family<Endpoint, Counter>,
    headless: Family<Endpoint, Counter>,
    queries: Family<Endpoint, Counter>,
    revocations: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tokenpair");
        let (requests, headless, queries) = (Family::default(), Family::default(), Family::default());
        registry.register("requests", "API requests, by endpoint", requests.clone());
        registry.register(
            "headless_auth",
            "Requests authenticated from the access token alone, by endpoint",
            headless.clone(),
        );
        registry.register("db_queries", "SQL statements run, by the endpoint that ran them", queries.clone());
        let revocations = Gauge::default();
        registry.register(
            "revocations_in_memory",
            "Revoked sessions and users this instance refuses headlessly (src/auth/revoked.rs)",
            revocations.clone(),
        );
        Self { registry, requests, headless, queries, revocations }
    }
}

tokio::task_local! {
    static SCOPE: (Arc<Metrics>, Endpoint);
}

impl Metrics {
    /// The Prometheus text exposition of every counter, with the revocation set's size now.
    pub fn render(&self, revocations_in_memory: usize) -> String {
        self.revocations.set(revocations_in_memory as i64);
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

/// Middleware around every API route: counts the request and opens the scope the counts below
/// are attributed to.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = Route { method: request.method().clone(), path: request.extensions().get().cloned() };
    let label = Endpoint { endpoint: route };
    metrics.requests.get_or_create(&label).inc();
    SCOPE.scope((metrics, label), next.run(request)).await
}

/// Counts an authentication made from the JWT alone.
pub fn headless_auth() {
    let _ = SCOPE.try_with(|(metrics, endpoint)| metrics.headless.get_or_create(endpoint).inc());
}

/// Counts one SQL statement against the current endpoint.
pub fn db_query() {
    let _ = SCOPE.try_with(|(metrics, endpoint)| metrics.queries.get_or_create(endpoint).inc());
}
