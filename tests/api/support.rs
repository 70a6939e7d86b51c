//! Harness pieces for the fault tests: the real `tokenpair` binary as a child process, and a
//! TCP proxy in front of PostgreSQL that can be cut and restored.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// Forwards TCP connections to `upstream` until cut: cutting drops every open connection and
/// refuses new ones (they are accepted and closed at once), as a network partition would.
pub struct CuttableProxy {
    pub addr: SocketAddr,
    cut: watch::Sender<bool>,
}

impl CuttableProxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (cut, watching) = watch::channel(false);
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let mut watching = watching.clone();
                if *watching.borrow() {
                    continue; // dropped: the client sees the connection closed
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else { return };
                    let mut inbound = inbound;
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watching.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Self { addr, cut }
    }

    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}
