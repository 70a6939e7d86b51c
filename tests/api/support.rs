//! Harness pieces for the fault tests: the real `tokenpair` binary as a child process, and a
//! TCP proxy in front of PostgreSQL whose link can be cut or stalled, and restored.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::GENEROUS_LIMITS;

/// The server binary, running on its own port; killed (if still running) when dropped.
pub struct ServerProcess {
    pub base: String,
    pub child: Child,
}

impl ServerProcess {
    /// Starts `tokenpair` on `database_url` and waits until `/healthz` answers.
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[("RUST_LOG", "warn")], Stdio::null()).await
    }

    /// Starts it with extra environment and its logs (stdout) going to `logs`.
    pub async fn start_with(database_url: &str, settings: &[(&str, &str)], logs: Stdio) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_tokenpair"))
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_OUTPUT_NAME", "tokenpair")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .envs(GENEROUS_LIMITS)
            .envs(settings.iter().copied())
            .stdout(logs)
            .spawn()
            .expect("the tokenpair binary starts");
        let server = Self { base: format!("http://127.0.0.1:{port}"), child };
        server.wait_until_healthy().await;
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    async fn wait_until_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if reqwest::get(self.url("/healthz")).await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become healthy within a minute");
    }

    /// Sends a signal by name (`TERM`, `KILL`) with the system's `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill").args([format!("-{name}"), self.pid()]).status().expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to exit, up to `limit`.
    pub async fn wait_for_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("process status") {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit within {limit:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now (the OS picks it; we let go of it for the child).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// The state of the link a [`LinkProxy`] stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Up,
    /// Refused at once: open connections are dropped, new ones accepted and closed.
    Cut,
    /// Silent: connections stay open and nothing crosses in either direction until the link is
    /// back, as in a network partition that heals before TCP gives up.
    Stalled,
}

/// A TCP proxy in front of `upstream` whose link can be cut (the database refuses) or stalled
/// (the database stops answering mid-statement), then restored.
pub struct LinkProxy {
    pub addr: SocketAddr,
    link: watch::Sender<Link>,
}

impl LinkProxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (link, watching) = watch::channel(Link::Up);
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if *watching.borrow() == Link::Cut {
                    continue; // dropped: the client sees the connection closed
                }
                tokio::spawn(relay(inbound, upstream, watching.clone()));
            }
        });
        Self { addr, link }
    }

    /// A proxy in front of `database`'s PostgreSQL server, and the database's URL through it;
    /// `None` on SQLite.
    pub async fn in_front_of(database: &crate::helpers::TestDatabase) -> Option<(Self, String)> {
        let server = database.postgres_server.clone()?;
        let host_and_port =
            server.split("://").last().and_then(|rest| rest.rsplit('@').next()).expect("host:port");
        let upstream = tokio::net::lookup_host(host_and_port)
            .await
            .expect("resolve the server")
            .next()
            .expect("an address");
        let proxy = Self::start(upstream).await;
        let through_proxy = database.url.replace(&upstream.to_string(), &proxy.addr.to_string());
        assert_ne!(through_proxy, database.url, "the app connects through the proxy");
        Some((proxy, through_proxy))
    }

    pub fn cut(&self) {
        self.link.send_replace(Link::Cut);
    }

    pub fn stall(&self) {
        self.link.send_replace(Link::Stalled);
    }

    pub fn restore(&self) {
        self.link.send_replace(Link::Up);
    }
}

/// Carries one connection both ways while the link is up, holds its bytes while it is stalled,
/// and drops it when the link is cut.
async fn relay(inbound: TcpStream, upstream: SocketAddr, mut link: watch::Receiver<Link>) {
    if link.wait_for(|link| *link != Link::Stalled).await.map_or(true, |link| *link == Link::Cut) {
        return;
    }
    let Ok(outbound) = TcpStream::connect(upstream).await else { return };
    let (from_client, to_client) = inbound.into_split();
    let (from_server, to_server) = outbound.into_split();
    tokio::select! {
        _ = pump(from_client, to_server, link.clone()) => {}
        _ = pump(from_server, to_client, link.clone()) => {}
        _ = link.wait_for(|link| *link == Link::Cut) => {}
    }
}

/// Copies what `from` sends to `to`, holding each read until the link is not stalled.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut link: watch::Receiver<Link>) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let Ok(read @ 1..) = from.read(&mut buffer).await else { return };
        if link.wait_for(|link| *link != Link::Stalled).await.is_err() {
            return;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
