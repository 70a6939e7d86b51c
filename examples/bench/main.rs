//! The side-by-side benchmark behind `scripts/bench.sh`: is checking a JWT headlessly really
//! cheaper than looking the session up in the database on every request, and by how much?
//!
//! This program is the load generator. It starts the server binary (built with
//! `--features ssr,bench`) four times: on SQLite, on SQLite with the verified-token cache
//! off, on SQLite with 10,000 revocations in memory, and on PostgreSQL (and at the end two
//! more on that PostgreSQL, to time revocations between instances: `revocation.rs`). It pins the servers to CPU 0 and itself to CPU 1 when there are
//! two, then runs every phase for a few seconds, in several rounds with the phase order
//! rotated between rounds, and reports medians over the rounds. The primary figure is the
//! server's CPU time per request, read from its own accounting (`/proc/<pid>/stat`), because
//! it holds still on a noisy machine; requests per second, p50 and p99 latency and peak RSS
//! come with it. Results go to `bench/results.json` and a chart to `bench/results.svg`.
//!
//! Usage: `bench <server-binary> [--rounds N] [--seconds S] [--postgres URL] [--client FILE]`

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, COOKIE, HOST, SET_COOKIE};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use reqwest::Client;
use serde_json::{json, Value};
use sqlx::migrate::MigrateDatabase;

mod dpop;
mod revocation;

const PASSWORD: &str = "correct horse battery";
const REFRESH_COOKIE: &str = "__Secure-tokenpair-refresh";
/// Concurrent connections of each measured phase.
const CONNECTIONS: usize = 16;

type Failure = Box<dyn std::error::Error>;

struct Settings {
    server_binary: String,
    rounds: usize,
    phase: Duration,
    postgres: Option<String>,
    client_results: Option<String>,
}

fn settings() -> Result<Settings, Failure> {
    let mut args = std::env::args().skip(1);
    let server_binary =
        args.next().ok_or("usage: bench <server-binary> [--rounds N] [--seconds S] [--postgres URL]")?;
    let mut settings = Settings {
        server_binary,
        rounds: 5,
        phase: Duration::from_secs(4),
        postgres: None,
        client_results: None,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--rounds" => settings.rounds = value.parse()?,
            "--seconds" => settings.phase = Duration::from_secs_f64(value.parse()?),
            "--postgres" => settings.postgres = Some(value).filter(|url| !url.is_empty()),
            "--client" => settings.client_results = Some(value),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(settings)
}

/// One running server process.
struct Server {
    name: &'static str,
    base: String,
    address: SocketAddr,
    child: Child,
    /// The SQLite file's folder, removed with the server.
    data: Option<tempfile::TempDir>,
}

impl Server {
    async fn start(
        name: &'static str,
        binary: &str,
        database_url: &str,
        env: &[(&str, &str)],
    ) -> Result<Self, Failure> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut command = if two_cpus() {
            let mut pinned = Command::new("taskset");
            pinned.args(["-c", "0", binary]);
            pinned
        } else {
            Command::new(binary)
        };
        let child = command
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_OUTPUT_NAME", "tokenpair")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .env("LOGIN_RATE_LIMIT", "100000000/1s")
            .env("LOGIN_ACCOUNT_RATE_LIMIT", "100000000/1s")
            .env("REFRESH_RATE_LIMIT", "100000000/1s")
            .env("PASSWORD_CHANGE_RATE_LIMIT", "100000000/1s")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()?;
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let server = Self { name, base: format!("http://{address}"), address, child, data: None };
        let deadline = Instant::now() + Duration::from_secs(60);
        while reqwest::get(format!("{}/healthz", server.base)).await.is_err() {
            if Instant::now() > deadline {
                return Err(format!("{name} did not start").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User plus system CPU time of the whole process so far, all threads, dead ones too.
    fn cpu_time(&self) -> Result<Duration, Failure> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))?;
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let fields: Vec<&str> = stat.rsplit_once(')').ok_or("odd /proc stat")?.1.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        Ok(Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second()))
    }

    /// Resident memory now, and the peak since the last `reset_peak`.
    fn memory_mb(&self) -> Result<(f64, f64), Failure> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let field = |name: &str| -> f64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        Ok((field("VmRSS:"), field("VmHWM:")))
    }

    /// CPU time of the database server, when it is another process (PostgreSQL's backends).
    fn database_cpu_time(&self) -> Duration {
        if self.name != "postgres" {
            return Duration::ZERO;
        }
        let mut ticks = 0u64;
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
            let Some((name, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(") ")) else {
                continue;
            };
            if name != "postgres" {
                continue;
            }
            let fields: Vec<&str> = rest.split_whitespace().collect();
            ticks += fields.get(11).and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
            ticks += fields.get(12).and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
        }
        Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second())
    }

    fn reset_peak(&self) {
        // "5" resets the peak resident set size (VmHWM) to the current one.
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the servers and the load generator can have a CPU each (read before `pin_self`
/// narrows what this process may use).
fn two_cpus() -> bool {
    static TWO: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TWO.get_or_init(|| {
        std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
            && Command::new("taskset").arg("--version").output().is_ok_and(|o| o.status.success())
    })
}

/// Moves this process (every thread) to CPU 1; the servers are started on CPU 0.
fn pin_self() -> Result<(), Failure> {
    if two_cpus() {
        let pid = std::process::id().to_string();
        let status =
            Command::new("taskset").args(["-a", "-p", "-c", "1", &pid]).stdout(Stdio::null()).status()?;
        if !status.success() {
            return Err("taskset could not pin the load generator".into());
        }
    }
    Ok(())
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// A logged-in user: the access token, its session id, and the refresh cookie's value.
struct Login {
    email: String,
    access: String,
    session_id: String,
    refresh: String,
}

async fn register(client: &Client, server: &Server) -> Result<Login, Failure> {
    let email = format!("bench-{}@example.com", uuid::Uuid::new_v4().simple());
    let response = client
        .post(format!("{}/api/auth/register", server.base))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await?;
    let refresh = refresh_cookie(response.headers()).ok_or("no refresh cookie")?;
    let body: Value = response.json().await?;
    let access = body["access_token"].as_str().ok_or("no access token")?.to_owned();
    let payload = access.split('.').nth(1).ok_or("not a JWT")?;
    let claims: Value = serde_json::from_slice(&base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        payload,
    )?)?;
    let session_id = claims["sid"].as_str().ok_or("no sid")?.to_owned();
    Ok(Login { email, access, session_id, refresh })
}

fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|cookie| {
        let value = cookie.strip_prefix(REFRESH_COOKIE)?.strip_prefix('=')?;
        Some(value.split(';').next()?.to_owned())
    })
}

/// What one connection sends, again and again.
#[derive(Clone)]
enum Work {
    Get {
        path: &'static str,
        bearer: Option<String>,
    },
    /// `GET /api/me` with a DPoP-bound token and a fresh proof each time, carrying each answer's
    /// nonce into the next proof (`dpop.rs`).
    GetBound {
        token: String,
        signer: std::sync::Arc<dpop::Signer>,
        nonce: String,
    },
    /// Refreshes its own session, carrying each new cookie into the next request.
    Refresh {
        cookie: String,
    },
    Login {
        body: Value,
    },
    /// A guess at the current password: its 403 (wrong password) and 503 (the hashing queue's
    /// half for password changes is full) are the expected answers.
    ChangePassword {
        bearer: String,
    },
}

/// What one phase measured.
#[derive(Default, Clone)]
struct Sample {
    requests: u64,
    errors: u64,
    cpu_us_per_request: f64,
    /// PostgreSQL's own CPU per request (its backends are other processes); 0 on SQLite.
    database_cpu_us_per_request: f64,
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    peak_rss_mb: f64,
    rss_after_mb: f64,
}

/// Runs `work` (one entry per connection) against `server` for `length`; returns what was
/// measured and each connection's work as it ended (a refresh carries its latest cookie on).
async fn load(server: &Server, work: Vec<Work>, length: Duration) -> Result<(Sample, Vec<Work>), Failure> {
    server.reset_peak();
    let cpu_before = server.cpu_time()?;
    let database_before = server.database_cpu_time();
    let started = Instant::now();
    let deadline = started + length;
    let connections = work.into_iter().map(|work| connection(server.address, work, deadline));
    let results = futures::future::join_all(connections).await;
    let elapsed = started.elapsed();
    let cpu = server.cpu_time()? - cpu_before;
    let database_cpu = server.database_cpu_time().saturating_sub(database_before);
    let mut latencies = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut errors = 0;
    let mut after = Vec::new();
    for (histogram, failed, work) in results {
        latencies.add(histogram)?;
        errors += failed;
        after.push(work);
    }
    let requests = latencies.len();
    let sample = Sample {
        requests,
        errors,
        cpu_us_per_request: cpu.as_secs_f64() * 1e6 / requests.max(1) as f64,
        database_cpu_us_per_request: database_cpu.as_secs_f64() * 1e6 / requests.max(1) as f64,
        requests_per_second: requests as f64 / elapsed.as_secs_f64(),
        p50_ms: latencies.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: latencies.value_at_quantile(0.99) as f64 / 1000.0,
        max_ms: latencies.max() as f64 / 1000.0,
        peak_rss_mb: server.memory_mb()?.1,
        rss_after_mb: server.memory_mb()?.0,
    };
    Ok((sample, after))
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// A keep-alive HTTP/1.1 connection of its own, straight on hyper: the generator should cost
/// far less per request than the server it measures (as wrk would), so that the server, not
/// the generator, is what runs out of CPU.
async fn open(address: SocketAddr) -> Result<Sender, Failure> {
    let stream = tokio::net::TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

fn request(work: &Work, address: SocketAddr) -> Request<Full<Bytes>> {
    let builder = Request::builder().header(HOST, address.to_string());
    let built = match work {
        Work::Get { path, bearer } => {
            let builder = builder.uri(*path);
            match bearer {
                Some(token) => builder.header(AUTHORIZATION, format!("Bearer {token}")),
                None => builder,
            }
            .body(Full::default())
        }
        Work::GetBound { token, signer, nonce } => builder
            .uri("/api/me")
            .header(AUTHORIZATION, format!("DPoP {token}"))
            .header("dpop", signer.proof(nonce, token))
            .body(Full::default()),
        Work::Refresh { cookie } => builder
            .method(Method::POST)
            .uri("/api/auth/refresh")
            .header("x-requested-with", "tokenpair")
            .header(COOKIE, format!("{REFRESH_COOKIE}={cookie}"))
            .body(Full::default()),
        Work::Login { body } => builder
            .method(Method::POST)
            .uri("/api/auth/login")
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string()))),
        Work::ChangePassword { bearer } => builder
            .method(Method::POST)
            .uri("/api/auth/password")
            .header(CONTENT_TYPE, "application/json")
            .header(AUTHORIZATION, format!("Bearer {bearer}"))
            .body(Full::new(Bytes::from(
                json!({ "current_password": "a guess at it", "new_password": "a brand new passphrase" })
                    .to_string(),
            ))),
    };
    built.expect("a well-formed request")
}

/// One closed-loop connection: send, wait for the whole answer, record, repeat.
async fn connection(address: SocketAddr, mut work: Work, deadline: Instant) -> (Histogram<u64>, u64, Work) {
    let mut latencies = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
    let mut errors = 0;
    let mut sender: Option<Sender> = None;
    while Instant::now() < deadline {
        // Keep the connection while the server keeps it; otherwise open another.
        let kept = match sender.take() {
            Some(mut kept) => kept.ready().await.is_ok().then_some(kept),
            None => None,
        };
        let ready = match kept {
            Some(kept) => Some(kept),
            None => open(address).await.ok(),
        };
        let Some(mut ready) = ready else {
            errors += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let sent = Instant::now();
        let Ok(response) = ready.send_request(request(&work, address)).await else {
            errors += 1;
            continue;
        };
        sender = Some(ready);
        // A login phase may send a wrong password on purpose: its 401 is the expected answer.
        let status = response.status();
        let ok = status.is_success()
            || (matches!(work, Work::Login { .. }) && status == 401)
            || (matches!(work, Work::ChangePassword { .. }) && (status == 403 || status == 503));
        carry_on(&mut work, response.headers());
        let read = response.into_body().collect().await.is_ok();
        let _ = latencies.record(sent.elapsed().as_micros().max(1) as u64);
        if !(ok && read) {
            errors += 1;
        }
    }
    (latencies, errors, work)
}

/// What a connection's next request takes from this answer: a refresh its new cookie, a bound
/// call the next nonce.
fn carry_on(work: &mut Work, headers: &HeaderMap) {
    match work {
        Work::Refresh { cookie } => {
            if let Some(next) = refresh_cookie(headers) {
                *cookie = next;
            }
        }
        Work::GetBound { nonce, .. } => {
            if let Some(next) = headers.get("dpop-nonce").and_then(|value| value.to_str().ok()) {
                *nonce = next.to_owned();
            }
        }
        _ => {}
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The median of each figure over the rounds.
fn summarise(samples: &[Sample]) -> Value {
    let pick = |f: fn(&Sample) -> f64| median(&mut samples.iter().map(f).collect::<Vec<_>>());
    json!({
        "rounds": samples.len(),
        "requests": samples.iter().map(|s| s.requests).sum::<u64>(),
        "errors": samples.iter().map(|s| s.errors).sum::<u64>(),
        "cpu_us_per_request": round(pick(|s| s.cpu_us_per_request), 1),
        "database_cpu_us_per_request": round(pick(|s| s.database_cpu_us_per_request), 1),
        "requests_per_second": round(pick(|s| s.requests_per_second), 0),
        "p50_ms": round(pick(|s| s.p50_ms), 3),
        "p99_ms": round(pick(|s| s.p99_ms), 3),
        "max_ms_of_all_rounds": round(samples.iter().map(|s| s.max_ms).fold(0.0, f64::max), 3),
        "peak_rss_mb": round(pick(|s| s.peak_rss_mb), 1),
        "rss_after_mb": round(pick(|s| s.rss_after_mb), 1),
    })
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let memory = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let total = memory
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .nth(1)
        .and_then(|kb| kb.parse::<f64>().ok());
    json!({
        "cpu": model.unwrap_or("unknown"),
        "cpus": std::fs::read_to_string("/proc/cpuinfo").map_or(1, |info| info.matches("processor\t").count()),
        "memory_gb": total.map(|kb| round(kb / 1024.0 / 1024.0, 1)),
        "kernel": kernel.trim(),
        "pinned": if two_cpus() { "servers on CPU 0, load generator on CPU 1" } else { "not pinned" },
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let settings = settings()?;
    pin_self()?;
    sqlx::any::install_default_drivers();
    let client = Client::builder().pool_max_idle_per_host(64).build()?;

    let mut servers = Vec::new();
    let sqlite_servers = [
        ("sqlite", vec![]),
        ("sqlite-no-cache", vec![("VERIFIED_TOKEN_CACHE", "0")]),
        // Revocations stay in the set for one access lifetime: long enough for the whole run.
        ("sqlite-revocations", vec![("ACCESS_TOKEN_TTL", "3h")]),
    ];
    for (name, env) in sqlite_servers {
        let data = tempfile::tempdir()?;
        let url = format!("sqlite://{}", data.path().join("bench.db").display());
        let mut server = Server::start(name, &settings.server_binary, &url, &env).await?;
        server.data = Some(data);
        if name == "sqlite-revocations" {
            fill_revocation_set(&server, &url, &client).await?;
        }
        servers.push(server);
    }
    let postgres_database = match &settings.postgres {
        Some(server_url) => {
            let url = format!(
                "{}/tokenpair_bench_{}",
                server_url.trim_end_matches('/'),
                uuid::Uuid::new_v4().simple()
            );
            sqlx::Postgres::create_database(&url).await?;
            servers.push(Server::start("postgres", &settings.server_binary, &url, &[]).await?);
            Some(url)
        }
        None => {
            eprintln!("PostgreSQL phases skipped: pass --postgres postgres://user@host:port");
            None
        }
    };
    let idle_rss: BTreeMap<&str, f64> =
        servers.iter().map(|s| (s.name, s.memory_mb().map(|m| round(m.0, 1)).unwrap_or(f64::NAN))).collect();

    let mut result = run(&settings, &client, &servers).await;
    if let (Ok(report), Some(url)) = (&mut result, &postgres_database) {
        eprintln!("revocation propagation between two instances on PostgreSQL");
        report["revocation"] = revocation::figures(&client, &settings.server_binary, url).await?;
    }
    drop(servers);
    if let Some(url) = postgres_database {
        sqlx::Postgres::force_drop_database(&url).await?;
    }
    let mut report = result?;
    report["machine"] = machine();
    report["idle_rss_mb_after_start"] = json!(idle_rss);
    if let Some(path) = &settings.client_results {
        report["client"] = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    }
    report["goals"] = goals(&report);
    std::fs::create_dir_all("bench")?;
    std::fs::write("bench/results.json", serde_json::to_string_pretty(&report)? + "\n")?;
    std::fs::write("bench/results.svg", chart(&report))?;
    println!("{}", table(&report));
    println!("wrote bench/results.json and bench/results.svg");
    Ok(())
}

/// How many revocations the full-set phase holds in memory: half sessions, half users.
const REVOCATIONS_IN_SET: usize = 10_000;

/// Writes [`REVOCATIONS_IN_SET`] revocations into the server's database, as the triggers would,
/// and waits for its catch-up (every 15 s) to take them all in.
async fn fill_revocation_set(server: &Server, url: &str, client: &Client) -> Result<(), Failure> {
    let pool = sqlx::AnyPool::connect(url).await?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let mut tx = pool.begin().await?;
    for i in 0..REVOCATIONS_IN_SET {
        let kind = if i % 2 == 0 { "session" } else { "user" };
        sqlx::query("INSERT INTO revocations (kind, subject, at) VALUES ($1, $2, $3)")
            .bind(kind)
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let wanted = format!("tokenpair_revocations_in_memory {REVOCATIONS_IN_SET}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client.get(format!("{}/metrics", server.base)).send().await?.text().await?.contains(&wanted) {
        if Instant::now() > deadline {
            return Err("the revocation set did not fill within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

/// Every phase, `rounds` times, in a rotated order.
async fn run(settings: &Settings, client: &Client, servers: &[Server]) -> Result<Value, Failure> {
    let server = |name: &str| servers.iter().find(|s| s.name == name);
    let mut phases: Vec<(String, &Server, Vec<Work>)> = Vec::new();
    for s in servers {
        let user = register(client, s).await?;
        let all = |work: Work| vec![work; CONNECTIONS];
        if s.name == "sqlite" {
            phases.push((
                "unauthenticated (floor)".into(),
                s,
                all(Work::Get { path: "/bench/anonymous", bearer: None }),
            ));
        }
        let me = all(Work::Get { path: "/api/me", bearer: Some(user.access.clone()) });
        match s.name {
            "sqlite" => {
                phases.push(("/api/me, JWT (verified-token cache on)".into(), s, me));
                for (name, bound) in dpop::phases(client, s).await? {
                    phases.push((name, s, vec![bound; CONNECTIONS]));
                }
            }
            "sqlite-no-cache" => phases.push(("/api/me, JWT (cache off)".into(), s, me)),
            "sqlite-revocations" => phases.push((FULL_SET_PHASE.into(), s, me)),
            _ => {}
        }
        if s.name == "sqlite" || s.name == "postgres" {
            let engine = if s.name == "sqlite" { "SQLite" } else { "PostgreSQL" };
            let lookup = Work::Get { path: "/bench/me-by-session", bearer: Some(user.session_id.clone()) };
            phases.push((format!("session lookup per request, {engine}"), s, all(lookup)));
            let mut sessions = Vec::new();
            for _ in 0..CONNECTIONS {
                sessions.push(Work::Refresh { cookie: register(client, s).await?.refresh });
            }
            phases.push((format!("/api/auth/refresh, {engine}"), s, sessions));
        }
    }
    let sqlite = server("sqlite").ok_or("no sqlite server")?;
    let login_user = register(client, sqlite).await?;
    let login =
        |email: &str, password: &str| Work::Login { body: json!({ "email": email, "password": password }) };
    phases.push((
        "/api/auth/login, Argon2id".into(),
        sqlite,
        vec![login(&login_user.email, PASSWORD); CONNECTIONS],
    ));

    let mut samples: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
    let mut flood: Vec<(Sample, Sample)> = Vec::new();
    let mut timing: Vec<(f64, f64)> = Vec::new();
    let mut password_flood: Vec<Sample> = Vec::new();
    let me_during_flood = Work::Get { path: "/api/me", bearer: Some(login_user.access.clone()) };
    for round in 0..settings.rounds {
        eprintln!("round {} of {}", round + 1, settings.rounds);
        let count = phases.len();
        for i in (0..count).map(|i| (i + round) % count) {
            let (name, server, work) = &phases[i];
            let (sample, after) = load(server, work.clone(), settings.phase).await?;
            samples.entry(name.clone()).or_default().push(sample);
            phases[i].2 = after;
        }
        // /api/me while logins flood the same server: hashing must not starve it.
        let me_load = load(sqlite, vec![me_during_flood.clone(); 4], settings.phase);
        let login_load = load(sqlite, vec![login(&login_user.email, PASSWORD); 8], settings.phase);
        let (me, logins) = futures::future::join(me_load, login_load).await;
        let (idle_me, _) = load(sqlite, vec![me_during_flood.clone(); 4], settings.phase).await?;
        flood.push((idle_me, me?.0));
        logins?;
        // Unknown email against wrong password, one request at a time.
        let one_by_one = settings.phase / 2;
        let (unknown, _) = load(sqlite, vec![login("nobody@example.com", PASSWORD)], one_by_one).await?;
        let (wrong, _) = load(sqlite, vec![login(&login_user.email, "wrong password!")], one_by_one).await?;
        timing.push((unknown.p50_ms, wrong.p50_ms));
        password_flood.push(login_during_password_flood(sqlite, client, &login_user, settings.phase).await?);
    }

    let phases: BTreeMap<String, Value> =
        samples.iter().map(|(name, s)| (name.clone(), summarise(s))).collect();
    let idle: Vec<Sample> = flood.iter().map(|(idle, _)| idle.clone()).collect();
    let busy: Vec<Sample> = flood.iter().map(|(_, busy)| busy.clone()).collect();
    let mut unknown: Vec<f64> = timing.iter().map(|t| t.0).collect();
    let mut wrong: Vec<f64> = timing.iter().map(|t| t.1).collect();
    Ok(json!({
        "settings": { "rounds": settings.rounds, "seconds_per_phase": settings.phase.as_secs_f64(), "connections": CONNECTIONS },
        "phases": phases,
        "login_flood": { "me_idle": summarise(&idle), "me_during_flood": summarise(&busy) },
        "password_change_flood": { "login_during_flood": summarise(&password_flood) },
        "login_timing": { "unknown_email_p50_ms": round(median(&mut unknown), 2), "wrong_password_p50_ms": round(median(&mut wrong), 2) },
    }))
}

/// One real login after another while 32 connections of a self-registered user send guesses
/// at their current password. Every rate limit is lifted in the benchmark, so each guess
/// reaches the hasher: the worst case, as from many accounts on many addresses. Returns what
/// the login measured.
async fn login_during_password_flood(
    server: &Server,
    client: &Client,
    user: &Login,
    length: Duration,
) -> Result<Sample, Failure> {
    const GUESSERS: usize = 32;
    let guesser = register(client, server).await?;
    let guesses = load(server, vec![Work::ChangePassword { bearer: guesser.access }; GUESSERS], length);
    let login = Work::Login { body: json!({ "email": user.email, "password": PASSWORD }) };
    let logins = async {
        // Let the flood fill the queue first.
        tokio::time::sleep(Duration::from_millis(300)).await;
        load(server, vec![login], length - Duration::from_millis(600)).await
    };
    let (guessed, logged_in) = futures::future::join(guesses, logins).await;
    guessed?;
    Ok(logged_in?.0)
}

const FULL_SET_PHASE: &str = "/api/me, JWT, 10,000 revocations in memory";

fn figure(report: &Value, phase: &str, field: &str) -> f64 {
    report["phases"][phase][field].as_f64().unwrap_or(f64::NAN)
}

/// The issue's goals, each with the measured value and whether it is met.
fn goals(report: &Value) -> Value {
    let cpu = |phase: &str| figure(report, phase, "cpu_us_per_request");
    let me = cpu("/api/me, JWT (verified-token cache on)");
    let floor = cpu("unauthenticated (floor)");
    let ratio =
        |value: f64, goal: &str, ok: bool| json!({ "value": round(value, 2), "goal": goal, "met": ok });
    let me_ratio = me / floor;
    let sqlite_ratio = cpu("session lookup per request, SQLite") / me;
    // On SQLite the database's work happens inside the server process, so its CPU counts; a
    // PostgreSQL backend is another process, so add its CPU for the same comparison.
    let pg_lookup = "session lookup per request, PostgreSQL";
    let pg_app_only = cpu(pg_lookup) / me;
    let pg_ratio = (cpu(pg_lookup) + figure(report, pg_lookup, "database_cpu_us_per_request")) / me;
    let flood = &report["login_flood"];
    let p99 = flood["me_during_flood"]["p99_ms"].as_f64().unwrap_or(f64::NAN)
        / flood["me_idle"]["p99_ms"].as_f64().unwrap_or(f64::NAN);
    let timing = &report["login_timing"];
    let timing_ratio = timing["unknown_email_p50_ms"].as_f64().unwrap_or(f64::NAN)
        / timing["wrong_password_p50_ms"].as_f64().unwrap_or(f64::NAN);
    let idle_rss = report["idle_rss_mb_after_start"]["sqlite"].as_f64().unwrap_or(f64::NAN);
    let flood_rss = flood["me_during_flood"]["peak_rss_mb"].as_f64().unwrap_or(f64::NAN);
    let during_guesses = &report["password_change_flood"]["login_during_flood"];
    let slowest_login = during_guesses["max_ms_of_all_rounds"].as_f64().unwrap_or(f64::NAN);
    let all_logged_in = during_guesses["errors"].as_u64() == Some(0);
    let mut goals = json!({
        "cpu_me_over_floor": ratio(me_ratio, "<= 1.3", me_ratio <= 1.3),
        "cpu_sqlite_lookup_over_me": ratio(sqlite_ratio, ">= 3.5", sqlite_ratio >= 3.5),
        "cpu_postgres_lookup_over_me": ratio(pg_ratio, ">= 7 (server + PostgreSQL CPU)", pg_ratio >= 7.0),
        // Not a goal: shown beside the one above, so "met" is null.
        "cpu_postgres_lookup_over_me_server_only": json!({ "value": round(pg_app_only, 2), "goal": "(for reference)", "met": null }),
        "me_p99_flood_over_idle": ratio(p99, "<= 2", p99 <= 2.0),
        "login_unknown_over_wrong_password": ratio(timing_ratio, "1.00 ± 0.05", (timing_ratio - 1.0).abs() <= 0.05),
        "idle_rss_mb": ratio(idle_rss, "<= 40", idle_rss <= 40.0),
        "login_flood_peak_rss_mb": ratio(flood_rss, "<= 120", flood_rss <= 120.0),
        "login_during_password_change_flood_max_ms": ratio(
            slowest_login,
            "< 2000, and every login 200",
            slowest_login < 2000.0 && all_logged_in
        ),
    });
    if let (Some(goals), Value::Object(more)) = (goals.as_object_mut(), revocation_goals(report, floor)) {
        goals.extend(more);
    }
    if let (Some(goals), Value::Object(more)) = (goals.as_object_mut(), dpop::goals(report)) {
        goals.extend(more);
    }
    goals
}

/// Headless revocation: a full set costs `/api/me` nothing measurable, and a revocation reaches
/// another instance within a second (16 s with its notifications cut); a refresh of a revoked
/// session is refused, as always.
fn revocation_goals(report: &Value, floor: f64) -> Value {
    let goal =
        |value: f64, goal: &str, ok: bool| json!({ "value": round(value, 2), "goal": goal, "met": ok });
    let full_set = figure(report, FULL_SET_PHASE, "cpu_us_per_request") / floor;
    let mut goals = json!({
        "cpu_me_with_10k_revocations_over_floor": goal(full_set, "<= 1.15", full_set <= 1.15),
    });
    let revocation = &report["revocation"];
    if let Some(revocations) = revocation["revocations"].as_u64() {
        let field = |name: &str| revocation[name].as_f64().unwrap_or(f64::NAN);
        let (p99, cut) = (field("propagation_p99_ms"), field("propagation_cut_max_ms"));
        let refused = field("refreshes_of_revoked_sessions_refused");
        goals["revocation_propagation_p99_ms"] = goal(p99, "<= 1000", p99 <= 1000.0);
        goals["revocation_propagation_notifications_cut_max_ms"] = goal(cut, "<= 16000", cut <= 16000.0);
        goals["refresh_of_revoked_session_refused"] =
            goal(refused, &format!("{revocations} of {revocations} get 401"), refused == revocations as f64);
    }
    goals
}

/// The phases in reading order: the floor, the two designs, then the database-bound endpoints.
fn in_order(report: &Value) -> Vec<(String, Value)> {
    const ORDER: [&str; 11] = [
        "unauthenticated (floor)",
        "/api/me, JWT (verified-token cache on)",
        FULL_SET_PHASE,
        "/api/me, JWT (cache off)",
        dpop::PHASES[0].1,
        dpop::PHASES[1].1,
        "session lookup per request, SQLite",
        "session lookup per request, PostgreSQL",
        "/api/auth/refresh, SQLite",
        "/api/auth/refresh, PostgreSQL",
        "/api/auth/login, Argon2id",
    ];
    let phases = report["phases"].as_object().cloned().unwrap_or_default();
    let rank = |name: &str| ORDER.iter().position(|known| *known == name).unwrap_or(ORDER.len());
    let mut listed: Vec<(String, Value)> = phases.into_iter().collect();
    listed.sort_by_key(|(name, _)| rank(name));
    listed
}

/// The results as a Markdown table, for the README.
fn table(report: &Value) -> String {
    let mut out = String::from(
        "| endpoint | server CPU µs/request | + PostgreSQL's CPU | requests/s | p50 ms | p99 ms | peak RSS MB |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    {
        for (name, p) in in_order(report) {
            out += &format!(
                "| {name} | {} | {} | {} | {} | {} | {} |\n",
                p["cpu_us_per_request"],
                if p["database_cpu_us_per_request"].as_f64() > Some(0.0) {
                    p["database_cpu_us_per_request"].to_string()
                } else {
                    "–".into()
                },
                p["requests_per_second"],
                p["p50_ms"],
                p["p99_ms"],
                p["peak_rss_mb"]
            );
        }
    }
    out += "\n| goal | measured | target | met |\n|---|---:|---|---|\n";
    if let Some(goals) = report["goals"].as_object() {
        for (name, g) in goals {
            out += &format!(
                "| {name} | {} | {} | {} |\n",
                g["value"],
                g["goal"].as_str().unwrap_or(""),
                match g["met"].as_bool() {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "–",
                }
            );
        }
    }
    out
}

/// A horizontal bar chart of server CPU per request, one bar per phase.
fn chart(report: &Value) -> String {
    let phases: Vec<(String, f64)> = in_order(report)
        .into_iter()
        .map(|(name, v)| {
            let total = v["cpu_us_per_request"].as_f64().unwrap_or(0.0)
                + v["database_cpu_us_per_request"].as_f64().unwrap_or(0.0);
            (name, total)
        })
        .collect();
    let (label_width, bar_width, row) = (330.0, 420.0, 28.0);
    // A log scale: a login costs a thousand times what the others do.
    let scale = |us: f64| us.max(1.0).log10();
    let longest = phases.iter().map(|p| scale(p.1)).fold(1.0, f64::max);
    let height = 60.0 + row * phases.len() as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="13">
<text x="10" y="22" font-size="15" font-weight="bold">CPU time per request, µs (server + PostgreSQL; median of rounds; log scale)</text>
"#,
        w = label_width + bar_width + 90.0
    );
    for (i, (name, value)) in phases.iter().enumerate() {
        let y = 40.0 + row * i as f64;
        let width = bar_width * scale(*value) / longest;
        let colour = if name.contains("session lookup") {
            "#c0392b"
        } else if name.contains("/api/me") {
            "#27ae60"
        } else {
            "#7f8c8d"
        };
        svg += &format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{name}</text><rect x=\"{bx}\" y=\"{y}\" width=\"{width:.1}\" height=\"18\" fill=\"{colour}\"/><text x=\"{vx:.1}\" y=\"{ty}\">{value:.1}</text>\n",
            lx = label_width - 8.0,
            ty = y + 14.0,
            bx = label_width,
            vx = label_width + width + 6.0,
            name = name.replace('&', "&amp;").replace('<', "&lt;"),
        );
    }
    svg + "</svg>\n"
}
