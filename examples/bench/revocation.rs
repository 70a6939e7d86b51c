//! The figures of headless revocation (`src/auth/revoked.rs`): how long a revocation on one
//! instance takes to reach another on the same PostgreSQL (its notification), how long with that
//! instance's notifications cut (its 15 s catch-up), and that a refresh of a revoked session is
//! still refused. The cost of a full revocation set is a phase of its own in `main.rs`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::{median, register, round, Failure, Server, REFRESH_COOKIE};

/// Revocations timed with the notifications flowing, and with them cut.
const REVOCATIONS: usize = 200;
const REVOCATIONS_CUT: usize = 5;
/// How far apart the revocations with notifications cut are, so they meet the catch-up at
/// different points of its 15 s period.
const CUT_SPACING: Duration = Duration::from_secs(3);

/// A TCP proxy in front of PostgreSQL for instance B's listener, whose link can be cut.
struct Proxy {
    addr: SocketAddr,
    cut: watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Result<Self, Failure> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (cut, watching) = watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *watching.borrow() {
                    continue; // refused: dropped at once
                }
                let mut watching = watching.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watching.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Ok(Self { addr, cut })
    }
}

/// `postgres://user@host:port/db` → `host:port`, resolved.
async fn upstream_of(url: &str) -> Result<SocketAddr, Failure> {
    let authority = url.split("://").nth(1).and_then(|rest| rest.split('/').next()).ok_or("odd URL")?;
    let host_and_port = authority.rsplit('@').next().ok_or("odd URL")?;
    Ok(tokio::net::lookup_host(host_and_port).await?.next().ok_or("no address")?)
}

/// Starts instance A and instance B (its listener through a proxy) on `database_url`, then
/// times revocations from A to B with the notifications flowing, and with them cut.
pub async fn figures(client: &Client, binary: &str, database_url: &str) -> Result<Value, Failure> {
    let upstream = upstream_of(database_url).await?;
    let proxy = Proxy::start(upstream).await?;
    let listen_url = database_url.replace(&upstream.to_string(), &proxy.addr.to_string());
    let a = Server::start("postgres-a", binary, database_url, &[]).await?;
    let b =
        Server::start("postgres-b", binary, database_url, &[("DATABASE_LISTEN_URL", &listen_url)]).await?;
    let mut flowing = Vec::new();
    let mut refreshes_refused = 0;
    for _ in 0..REVOCATIONS {
        let (took, refresh) = one_revocation(client, &a, &b, Duration::from_secs(5)).await?;
        flowing.push(took.as_secs_f64() * 1000.0);
        refreshes_refused += usize::from(refresh == StatusCode::UNAUTHORIZED);
    }
    proxy.cut.send_replace(true);
    let cut = with_notifications_cut(client, &a, &b).await?;
    proxy.cut.send_replace(false);
    Ok(json!({
        "revocations": REVOCATIONS,
        "propagation_p50_ms": round(quantile(&mut flowing, 0.50), 2),
        "propagation_p99_ms": round(quantile(&mut flowing, 0.99), 2),
        "propagation_max_ms": round(quantile(&mut flowing, 1.0), 2),
        "refreshes_of_revoked_sessions_refused": refreshes_refused,
        "revocations_with_notifications_cut": cut.len(),
        "propagation_cut_median_ms": round(median(&mut cut.clone()), 0),
        "propagation_cut_max_ms": round(cut.iter().copied().fold(0.0, f64::max), 0),
    }))
}

/// Revocations spaced [`CUT_SPACING`] apart, each timed until B refuses it (at most 20 s).
async fn with_notifications_cut(client: &Client, a: &Server, b: &Server) -> Result<Vec<f64>, Failure> {
    let timed = (0..REVOCATIONS_CUT as u32).map(|i| async move {
        tokio::time::sleep(CUT_SPACING * i).await;
        one_revocation(client, a, b, Duration::from_secs(20)).await
    });
    let mut taken = Vec::new();
    for result in futures::future::join_all(timed).await {
        taken.push(result?.0.as_secs_f64() * 1000.0);
    }
    Ok(taken)
}

/// A user registers on A and B verifies their token; A logs them out everywhere; the time from
/// A's answer until B refuses the token, and what B answers a refresh of the session.
async fn one_revocation(
    client: &Client,
    a: &Server,
    b: &Server,
    limit: Duration,
) -> Result<(Duration, StatusCode), Failure> {
    let user = register(client, a).await?;
    let me = |server: &Server| client.get(format!("{}/api/me", server.base)).bearer_auth(&user.access).send();
    if me(b).await?.status() != StatusCode::OK {
        return Err("B refused a fresh token".into());
    }
    let revoked =
        client.post(format!("{}/api/auth/logout-all", a.base)).bearer_auth(&user.access).send().await?;
    if revoked.status() != StatusCode::OK {
        return Err(format!("log out everywhere answered {}", revoked.status()).into());
    }
    let since = Instant::now();
    while me(b).await?.status() != StatusCode::UNAUTHORIZED {
        if since.elapsed() > limit {
            return Err(format!("B still accepted a revoked token after {limit:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let took = since.elapsed();
    let refresh = client
        .post(format!("{}/api/auth/refresh", b.base))
        .header("x-requested-with", "tokenpair")
        .header("cookie", format!("{REFRESH_COOKIE}={}", user.refresh))
        .send()
        .await?;
    Ok((took, refresh.status()))
}

fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let index = ((values.len() as f64 - 1.0) * q).round() as usize;
    values.get(index).copied().unwrap_or(f64::NAN)
}
