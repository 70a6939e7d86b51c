//! Counts that do not move with the machine (issue 19): user-space instructions per request,
//! counted by callgrind (Debian's `valgrind`). Time per request depends on the CPU, its clock
//! and its neighbours; the instructions the server executes for a request depend only on the
//! code and the request. (`perf stat` would count them natively, but these virtual machines
//! expose no hardware counters to their guests.)
//!
//! One server runs under callgrind on SQLite. For each kind of request: a warm-up, then
//! callgrind's counters are zeroed (`callgrind_control --zero`), the requests are sent one
//! at a time on one keep-alive connection, and the counters are dumped; the dump's total over
//! the number of requests is the figure. The kernel's work (the TCP stack) is not counted,
//! and the load generator runs natively, outside callgrind. Last, `/api/me` is counted again
//! with 10,000 revocations in the set: what a full set costs, in instructions.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use http_body_util::BodyExt;
use reqwest::Client;
use serde_json::{json, Value};

use super::{carry_on, dpop, open, register, request, Failure, Server, Work};
use super::{fill_revocation_set, FLOOR, FULL_SET_PHASE, ME, REFRESH, SQLITE_LOOKUP};

/// How many requests of each kind callgrind counts (a refresh executes the most).
const REQUESTS: [u64; 6] = [1000, 1000, 300, 300, 500, 200];
/// How many `/api/me` requests are counted again once the revocation set is full.
const FULL_SET_REQUESTS: u64 = 1000;
const WARM_UP: u64 = 30;
/// Where callgrind writes its dumps: `callgrind.out.1` is the first kind counted, and so on.
pub const DUMPS: &str = "target/callgrind";

/// Starts the server under callgrind and counts each kind of request.
pub async fn counts(binary: &str, client: &Client) -> Result<Value, Failure> {
    // The dumps stay for `callgrind_annotate` (which functions the instructions went to).
    let folder = std::path::Path::new(DUMPS);
    let _ = std::fs::remove_dir_all(folder);
    std::fs::create_dir_all(folder)?;
    let data = tempfile::tempdir()?;
    let out = folder.join("callgrind.out");
    let mut valgrind = Command::new("valgrind");
    valgrind.args(["--tool=callgrind", "--dump-instr=no", "--collect-jumps=no"]);
    valgrind.arg(format!("--callgrind-out-file={}", out.display()));
    valgrind.arg(format!("--log-file={}", folder.join("valgrind.log").display()));
    valgrind.arg(binary);
    let url = format!("sqlite://{}", data.path().join("bench.db").display());
    // Under callgrind the server runs some fifty times slower: a start takes a while.
    let server = Server::start_as("callgrind", valgrind, &url, &[], Duration::from_secs(300)).await?;
    let mut per_request = serde_json::Map::new();
    let mut requests = serde_json::Map::new();
    let kinds = kinds(client, &server).await?;
    let me = kinds.iter().find(|(name, _)| name == ME).map(|(_, work)| work.clone()).ok_or("no /api/me")?;
    let full_set = (FULL_SET_PHASE.to_owned(), me);
    for ((name, work), n) in kinds.into_iter().zip(REQUESTS).chain([(full_set, FULL_SET_REQUESTS)]) {
        if name == FULL_SET_PHASE {
            // The same token, the same process, 10,000 revocations later.
            fill_revocation_set(&server, client).await?;
        }
        per_request.insert(name.clone(), json!(count(&server, &out, work, n).await?.round()));
        requests.insert(name, json!(n));
    }
    Ok(
        json!({ "tool": valgrind_version(), "requests": requests, "per_request": per_request, "dumps": DUMPS }),
    )
}

/// The kinds of request counted, by name, each with what its connection sends.
async fn kinds(client: &Client, server: &Server) -> Result<Vec<(String, Work)>, Failure> {
    let user = register(client, server).await?;
    let mut kinds = vec![
        (FLOOR.to_owned(), Work::Get { path: "/bench/anonymous", bearer: None }),
        (ME.to_owned(), Work::Get { path: "/api/me", bearer: Some(user.access) }),
    ];
    kinds.extend(dpop::phases(client, server).await?);
    kinds.push((
        SQLITE_LOOKUP.to_owned(),
        Work::Get { path: "/bench/me-by-session", bearer: Some(user.session_id) },
    ));
    kinds.push((REFRESH.to_owned(), Work::Refresh { cookie: user.refresh }));
    Ok(kinds)
}

/// Instructions per request for `requests` of `work`, after a warm-up.
async fn count(server: &Server, out: &Path, mut work: Work, requests: u64) -> Result<f64, Failure> {
    send(server, &mut work, WARM_UP).await?;
    control(server, "--zero")?;
    send(server, &mut work, requests).await?;
    control(server, "--dump")?;
    Ok(latest_total(out)? as f64 / requests as f64)
}

/// `requests` of `work`, one after another on one connection; every answer must be a success.
pub async fn send(server: &Server, work: &mut Work, requests: u64) -> Result<(), Failure> {
    let mut sender = open(server.address).await?;
    for _ in 0..requests {
        sender.ready().await?;
        let response = sender.send_request(request(work, server.address)).await?;
        let status = response.status();
        carry_on(work, response.headers());
        response.into_body().collect().await?;
        if !status.is_success() {
            return Err(format!("a counted request answered {status}").into());
        }
    }
    Ok(())
}

fn control(server: &Server, action: &str) -> Result<(), Failure> {
    let done = Command::new("callgrind_control").arg(action).arg(server.pid().to_string()).output()?;
    if !done.status.success() {
        return Err(format!("callgrind_control {action}: {}", String::from_utf8_lossy(&done.stderr)).into());
    }
    Ok(())
}

/// The `totals:` line of the newest dump (`callgrind.out.1`, `.2`, …).
fn latest_total(out: &Path) -> Result<u64, Failure> {
    let folder = out.parent().ok_or("no folder")?;
    let prefix = format!("{}.", out.file_name().and_then(|n| n.to_str()).ok_or("odd name")?);
    let dumps: Vec<PathBuf> = std::fs::read_dir(folder)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix)))
        .collect();
    let number = |path: &PathBuf| -> u64 {
        path.extension().and_then(|e| e.to_str()).and_then(|e| e.parse().ok()).unwrap_or(0)
    };
    let newest = dumps.iter().max_by_key(|path| number(path)).ok_or("callgrind wrote no dump")?;
    let text = std::fs::read_to_string(newest)?;
    let total = text.lines().find_map(|line| line.strip_prefix("totals:")).ok_or("no totals line")?;
    Ok(total.split_whitespace().next().unwrap_or_default().parse()?)
}

fn valgrind_version() -> String {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .map(|out| format!("callgrind, {}", String::from_utf8_lossy(&out.stdout).trim()))
        .unwrap_or_else(|_| "callgrind".into())
}
