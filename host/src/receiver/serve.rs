//! Serving an axum router over HTTP/1.1 with the timeouts a server facing untrusted clients
//! needs, which `axum::serve` does not set: a client must send a request's headers within
//! `read_header_timeout` (slow-loris), and a response write that makes no progress for
//! `write_timeout` ends the connection (a client that never reads). Shutdown stops accepting,
//! lets requests in flight finish and closes idle connections.

use axum::serve::Listener;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tokio_io_timeout::TimeoutStream;

/// The per-connection timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// How long a client may take to send a request's headers.
    pub read_header: Duration,
    /// How long a write may make no progress.
    pub write: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            read_header: Duration::from_secs(10),
            write: Duration::from_secs(30),
        }
    }
}

/// Serve `router` on the connections of `listener` until `stop` completes, then drain.
pub async fn serve<L>(
    mut listener: L,
    router: axum::Router,
    timeouts: Timeouts,
    stop: impl Future<Output = ()>,
) where
    L: Listener,
{
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (io, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let mut io = TimeoutStream::new(io);
        io.set_write_timeout(Some(timeouts.write));
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(timeouts.read_header)
            .serve_connection(
                TokioIo::new(Box::pin(io)),
                TowerToHyperService::new(router.clone()),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
