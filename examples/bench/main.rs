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
mod growth;
mod history;
mod instructions;
mod report;
mod revocation;
mod timing;

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
    /// Pairs of requests in each timing-equality test (`timing.rs`).
    pairs: usize,
    /// Whether to count instructions under callgrind (`instructions.rs`).
    count_instructions: bool,
}

impl Settings {
    /// A run with the full settings goes into `bench/results.json`; a shorter one is a trial.
    fn is_full(&self) -> bool {
        self.rounds >= 5
            && self.phase >= Duration::from_secs(4)
            && self.pairs >= 400
            && self.count_instructions
    }
}

fn settings() -> Result<Settings, Failure> {
    let mut args = std::env::args().skip(1);
    let server_binary =
        args.next().ok_or("usage: bench <server-binary> [--rounds N] [--seconds S] [--postgres URL] [--pairs N] [--instructions yes|no]")?;
    let mut settings = Settings {
        server_binary,
        rounds: 5,
        phase: Duration::from_secs(4),
        postgres: None,
        client_results: None,
        pairs: 500,
        count_instructions: true,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--rounds" => settings.rounds = value.parse()?,
            "--seconds" => settings.phase = Duration::from_secs_f64(value.parse()?),
            "--postgres" => settings.postgres = Some(value).filter(|url| !url.is_empty()),
            "--client" => settings.client_results = Some(value),
            "--pairs" => settings.pairs = value.parse()?,
            "--instructions" => settings.count_instructions = value == "yes",
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(settings)
}

/// One running server process.
struct Server {
    name: &'static str,
    /// The database it runs on.
    url: String,
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
        let command = if two_cpus() {
            let mut pinned = Command::new("taskset");
            pinned.args(["-c", "0", binary]);
            pinned
        } else {
            Command::new(binary)
        };
        Self::start_as(name, command, database_url, env, Duration::from_secs(60)).await
    }

    /// Starts `command` (the server binary, or something that runs it) and waits `patience`
    /// for it to answer.
    async fn start_as(
        name: &'static str,
        mut command: Command,
        database_url: &str,
        env: &[(&str, &str)],
        patience: Duration,
    ) -> Result<Self, Failure> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = command
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_OUTPUT_NAME", "tokenpair")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .env("LOGIN_RATE_LIMIT", "100000000/1s")
            .env("LOGIN_ACCOUNT_RATE_LIMIT", "100000000/1s")
            .env("REFRESH_RATE_LIMIT", "100000000/1s")
            .env("PASSWORD_CHANGE_RATE_LIMIT", "100000000/1s")
            .env("PASSWORD_RESET_RATE_LIMIT", "100000000/1s")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()?;
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let server = Self {
            name,
            url: database_url.to_owned(),
            base: format!("http://{address}"),
            address,
            child,
            data: None,
        };
        let deadline = Instant::now() + patience;
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
    let Some(refresh) = refresh_cookie(response.headers()) else {
        let status = response.status();
        return Err(format!("registration answered {status}: {}", response.text().await?).into());
    };
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

/// Waits until the server's mail queue has stayed empty for `quiet`.
async fn until_no_mail_is_queued(server: &Server, quiet: Duration) -> Result<(), Failure> {
    let pool = sqlx::AnyPool::connect(&server.url).await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut empty_since = None;
    while empty_since.is_none_or(|since: Instant| since.elapsed() < quiet) {
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox").fetch_one(&pool).await?;
        empty_since = if queued == 0 { empty_since.or(Some(Instant::now())) } else { None };
        if Instant::now() > deadline {
            return Err(format!("{queued} mails still queued after two minutes").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pool.close().await;
    Ok(())
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
    /// "Forgot your password?" for the address in `body`.
    ResetRequest {
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
        Work::ResetRequest { body } => builder
            .method(Method::POST)
            .uri("/api/auth/password-reset")
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
        // Each round's, in the order of the rounds: `report::marginals` subtracts the floor of
        // the same round.
        "cpu_us_by_round": samples.iter().map(|s| round(s.cpu_us_per_request, 2)).collect::<Vec<_>>(),
        "database_cpu_us_by_round": samples.iter().map(|s| round(s.database_cpu_us_per_request, 2)).collect::<Vec<_>>(),
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
            fill_revocation_set(&server, &client).await?;
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
    if let Ok(report) = &mut result {
        extra_figures(report, &settings, &client, &servers, postgres_database.as_deref()).await?;
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
    report["marginal_cpu_us"] = report::marginals(&report);
    report["goals"] = report::goals(&report);
    history::keep(report, settings.is_full())
}

/// The figures measured once per run, after the rounds: timing equality, database growth,
/// instruction counts, and revocation between two instances.
async fn extra_figures(
    report: &mut Value,
    settings: &Settings,
    client: &Client,
    servers: &[Server],
    postgres: Option<&str>,
) -> Result<(), Failure> {
    let sqlite = servers.iter().find(|s| s.name == "sqlite").ok_or("no sqlite server")?;
    eprintln!("timing equality: logins, then password-reset requests, interleaved");
    report["timing_equality"] = timing_figures(sqlite, client, settings.pairs).await?;
    eprintln!("database growth per 1,000 refreshes");
    let mut growth = serde_json::Map::new();
    for server in servers.iter().filter(|s| s.name == "sqlite" || s.name == "postgres") {
        growth.insert(server.name.to_owned(), growth::per_thousand_refreshes(server, client).await?);
    }
    report["database_growth"] = Value::Object(growth);
    if settings.count_instructions {
        eprintln!("instructions per request, under callgrind (a few minutes)");
        report["instructions"] = instructions::counts(&settings.server_binary, client).await?;
    }
    if let Some(url) = postgres {
        eprintln!("revocation propagation between two instances on PostgreSQL");
        report["revocation"] = revocation::figures(client, &settings.server_binary, url).await?;
    }
    Ok(())
}

/// Unknown email against wrong password at login, and a known against an unknown address
/// asking for a reset link: each pair of kinds interleaved, `pairs` of each. A reset request's
/// work waits up to `recovery::AFTER_ANSWER_JITTER_MS` after its answer, so that test lasts
/// eighty times as long at least (40 s): the work lands inside it, on both kinds alike or not,
/// and the pairs (50,000 to 85,000, by the machine) are many enough for an interval within ± 2 %
/// despite the spikes that work makes. Then it waits for the mail queue to empty, so the work
/// weighs on nothing measured after.
async fn timing_figures(server: &Server, client: &Client, pairs: usize) -> Result<Value, Failure> {
    let user = register(client, server).await?;
    let login =
        |email: &str, password: &str| Work::Login { body: json!({ "email": email, "password": password }) };
    let logins = timing::compare(
        server.address,
        ("unknown_email", login("nobody@example.com", PASSWORD)),
        ("wrong_password", login(&user.email, "wrong password!")),
        (pairs, Duration::ZERO),
        |status| status == 401,
    )
    .await?;
    let reset = |email: &str| Work::ResetRequest { body: json!({ "email": email }) };
    let jitter = Duration::from_millis(tokenpair::auth::recovery::AFTER_ANSWER_JITTER_MS.into());
    let resets = timing::compare(
        server.address,
        ("known_email", reset(&user.email)),
        ("unknown_email", reset("nobody@example.com")),
        (pairs, 80 * jitter),
        |status| status == 202,
    )
    .await?;
    until_no_mail_is_queued(server, jitter).await?;
    Ok(json!({ "login": logins, "password_reset_request": resets }))
}

/// How many revocations the full-set phase holds in memory: half sessions, half users.
const REVOCATIONS_IN_SET: usize = 10_000;

/// Writes [`REVOCATIONS_IN_SET`] revocations into the server's database, as the triggers would,
/// and waits for its catch-up (every 15 s; slower under callgrind) to take them all in.
async fn fill_revocation_set(server: &Server, client: &Client) -> Result<(), Failure> {
    let pool = sqlx::AnyPool::connect(&server.url).await?;
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
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client.get(format!("{}/metrics", server.base)).send().await?.text().await?.contains(&wanted) {
        if Instant::now() > deadline {
            return Err("the revocation set did not fill within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

/// The phases' names, as `bench/results.json` keys them.
const FLOOR: &str = "unauthenticated (floor)";
const ME: &str = "/api/me, JWT (verified-token cache on)";
const ME_CACHE_OFF: &str = "/api/me, JWT (cache off)";
const FULL_SET_PHASE: &str = "/api/me, JWT, 10,000 revocations in memory";
/// The floor again, on the server that holds the full set: the full set's ratio compares two
/// requests of one process, as the other ratios do.
const FULL_SET_FLOOR: &str = "unauthenticated (floor), 10,000 revocations in memory";
const SQLITE_LOOKUP: &str = "session lookup per request, SQLite";
const POSTGRES_LOOKUP: &str = "session lookup per request, PostgreSQL";
const REFRESH: &str = "/api/auth/refresh, SQLite";
const LOGIN: &str = "/api/auth/login, Argon2id";

type Phase<'a> = (String, &'a Server, Vec<Work>);

/// Every phase of the rounds: which server, and what each of its connections sends.
async fn phases<'a>(client: &Client, servers: &'a [Server]) -> Result<Vec<Phase<'a>>, Failure> {
    let mut phases: Vec<Phase> = Vec::new();
    let all = |work: Work| vec![work; CONNECTIONS];
    for s in servers {
        let user = register(client, s).await?;
        let me = all(Work::Get { path: "/api/me", bearer: Some(user.access.clone()) });
        match s.name {
            "sqlite" => {
                phases.push((FLOOR.into(), s, all(Work::Get { path: "/bench/anonymous", bearer: None })));
                phases.push((ME.into(), s, me));
                for (name, bound) in dpop::phases(client, s).await? {
                    phases.push((name, s, all(bound)));
                }
                let body = json!({ "email": user.email, "password": PASSWORD });
                phases.push((LOGIN.into(), s, all(Work::Login { body })));
            }
            "sqlite-no-cache" => phases.push((ME_CACHE_OFF.into(), s, me)),
            "sqlite-revocations" => {
                phases.push((
                    FULL_SET_FLOOR.into(),
                    s,
                    all(Work::Get { path: "/bench/anonymous", bearer: None }),
                ));
                phases.push((FULL_SET_PHASE.into(), s, me));
            }
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
    Ok(phases)
}

/// Every phase, `rounds` times, in a rotated order; after each round, `/api/me` during a
/// login flood and a login during a password-change flood.
async fn run(settings: &Settings, client: &Client, servers: &[Server]) -> Result<Value, Failure> {
    let mut phases = phases(client, servers).await?;
    let sqlite = servers.iter().find(|s| s.name == "sqlite").ok_or("no sqlite server")?;
    let login_user = register(client, sqlite).await?;
    let login = Work::Login { body: json!({ "email": login_user.email, "password": PASSWORD }) };
    let mut samples: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
    let (mut idle, mut busy, mut password_flood) = (Vec::new(), Vec::new(), Vec::new());
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
        let login_load = load(sqlite, vec![login.clone(); 8], settings.phase);
        let (me, logins) = futures::future::join(me_load, login_load).await;
        idle.push(load(sqlite, vec![me_during_flood.clone(); 4], settings.phase).await?.0);
        busy.push(me?.0);
        logins?;
        password_flood.push(login_during_password_flood(sqlite, client, &login_user, settings.phase).await?);
    }
    let phases: BTreeMap<String, Value> =
        samples.iter().map(|(name, s)| (name.clone(), summarise(s))).collect();
    Ok(json!({
        "settings": { "rounds": settings.rounds, "seconds_per_phase": settings.phase.as_secs_f64(), "connections": CONNECTIONS, "timing_pairs": settings.pairs },
        "phases": phases,
        "login_flood": { "me_idle": summarise(&idle), "me_during_flood": summarise(&busy) },
        "password_change_flood": { "login_during_flood": summarise(&password_flood) },
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
