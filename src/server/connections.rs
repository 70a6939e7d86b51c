//! The accept loop: what a connection may cost the server before it has said anything useful.
//!
//! - **Headers within `HEADER_TIMEOUT`** (10 s): a client that connects and then sends its
//!   request line and headers slowly, or not at all (slowloris), is disconnected. hyper's HTTP/1
//!   server enforces it once it has a timer; `axum::serve` gives it none, hence this loop.
//! - **At most `MAX_CONNECTIONS` open.** Past that, a new connection is served by the shedding
//!   router of `http/health.rs` instead of the app: `/healthz` still answers 200 (so a load
//!   balancer does not take a busy instance out), everything else `503` + `Retry-After`, with
//!   a 2 s header timeout and the connection closed after the answer. Past a further quarter of
//!   the cap, connections are closed at once.
//! - **A whole request within `REQUEST_TIMEOUT`** (30 s): the router's own middleware
//!   (`http/middleware.rs`), since it covers reading the body, which happens in the handler.
//!
//! Every connection's requests carry the peer's address (`ConnectInfo`) and the address it was
//! accepted on (`LocalAddr`, for the lab's loopback check). On shutdown the loop stops
//! accepting and waits for open connections to finish their requests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

pub use crate::http::LocalAddr;

/// How long a shed connection may take to send its headers.
const SHED_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// What the accept loop enforces.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open connections finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shed: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let overflow = Arc::new(Semaphore::new(limits.max_connections / 4 + 1));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => { pause_after(err).await; continue; }
            },
            () = &mut shutdown => break,
        };
        let (router, permit, header_timeout) = if let Ok(permit) = Arc::clone(&open).try_acquire_owned() {
            (app.clone(), permit, limits.header_timeout)
        } else if let Ok(permit) = Arc::clone(&overflow).try_acquire_owned() {
            tracing::warn!(%peer, max = limits.max_connections, "connection limit reached; shedding");
            (shed.clone(), permit, SHED_HEADER_TIMEOUT.min(limits.header_timeout))
        } else {
            continue; // dropping the stream closes it
        };
        let connection = Connection { stream, peer, local, router, header_timeout };
        tokio::spawn(connection.run(&graceful, permit));
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    router: Router,
    header_timeout: Duration,
}

impl Connection {
    /// The connection's HTTP/1 exchange, watched by `graceful`; holds `permit` until it ends.
    fn run(self, graceful: &GracefulShutdown, permit: OwnedSemaphorePermit) -> impl Future<Output = ()> {
        let Self { stream, peer, local, router, header_timeout } = self;
        let service = router.map_request(move |request: Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            request.extensions_mut().insert(LocalAddr(local));
            request
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let watched = graceful.watch(connection);
        async move {
            if let Err(err) = watched.await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
            drop(permit);
        }
    }
}

/// After a failed `accept`: out of file descriptors or memory is worth a pause and a log line
/// (retrying at once would spin); a connection reset before it was accepted is not.
async fn pause_after(err: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(err.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(error = %err, "accepting a connection failed; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
