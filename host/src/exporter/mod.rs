//! Exporters: where a pipeline's batches go. Each exporter encodes the batch once, in its own
//! format.

mod debug;
mod file;
mod json;
mod otlp_grpc;
mod otlp_http;
mod persist;
mod queue;
pub mod retry;

pub use debug::DebugExporter;
pub use file::FileExporter;
pub use otlp_grpc::OtlpGrpcExporter;
pub use otlp_http::OtlpHttpExporter;
pub use queue::Delivery;
pub use retry::Retry;

use crate::config::{ExporterConfig, QueueConfig, RetryConfig};
use spanwise_batch::Batch;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future, as the exporter trait returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The destination refused or could not be reached.
    #[error("{exporter}: {reason}")]
    Destination {
        /// The exporter id.
        exporter: String,
        /// What went wrong.
        reason: String,
        /// Whether sending it again may succeed.
        retry: Retry,
    },
    /// One or more exporters failed.
    #[error("export failed: {0}")]
    Failed(String),
}

impl ExportError {
    /// Whether sending the batch again may succeed.
    pub fn retry(&self) -> Retry {
        match self {
            ExportError::Destination { retry, .. } => *retry,
            ExportError::Failed(_) => Retry::Never,
        }
    }
}

/// A destination for batches.
pub trait Exporter: Send + Sync {
    /// The exporter id from the config.
    fn id(&self) -> &str;

    /// Send one request.
    fn export<'a>(&'a self, request: &'a Batch) -> BoxFuture<'a, Result<(), ExportError>>;

    /// Send one request the caller shares with other exporters (a queue keeps it without a
    /// copy).
    fn export_shared(&self, request: Arc<Batch>) -> BoxFuture<'_, Result<(), ExportError>> {
        Box::pin(async move { self.export(&request).await })
    }

    /// The exporter's counters, if it keeps any (a sending queue does: sent, retried, lost).
    fn stats(&self) -> Option<&Arc<crate::telemetry::Counters>> {
        None
    }

    /// How many batches wait in the exporter's sending queue, and how many may; `None`
    /// without a queue.
    fn queue_size(&self) -> Option<(usize, usize)> {
        None
    }

    /// Flush and release what the exporter holds.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Create the exporter `id` from its config; the error is the reason, for the config error.
pub fn build(id: &str, config: &ExporterConfig) -> Result<Arc<dyn Exporter>, String> {
    Ok(match config {
        ExporterConfig::Otlp(c) => delivery(
            Arc::new(OtlpGrpcExporter::new(id, c)?),
            c.retry_on_failure,
            c.sending_queue.clone(),
        )?,
        ExporterConfig::OtlpHttp(c) => delivery(
            Arc::new(OtlpHttpExporter::new(id, c)?),
            c.retry_on_failure,
            c.sending_queue.clone(),
        )?,
        ExporterConfig::File(c) => {
            Arc::new(Counted::new(Arc::new(FileExporter::new(id, &c.path)?)))
        }
        ExporterConfig::Debug(c) => {
            Arc::new(Counted::new(Arc::new(DebugExporter::new(id, c.verbosity))))
        }
    })
}

/// `inner` behind its sending queue and retries (which also count what it sends, with both
/// off too).
fn delivery(
    inner: Arc<dyn Exporter>,
    retry: RetryConfig,
    queue: QueueConfig,
) -> Result<Arc<dyn Exporter>, String> {
    retry.check()?;
    queue.check()?;
    Ok(Arc::new(Delivery::new(inner, retry, queue)?))
}

/// An exporter with no queue of its own (`file`, `debug`), counting what it sent
/// (`batches_sent`, `spans_sent`) and what failed (`batches_lost`, `spans_lost`).
struct Counted {
    inner: Arc<dyn Exporter>,
    stats: Arc<crate::telemetry::Counters>,
}

impl Counted {
    fn new(inner: Arc<dyn Exporter>) -> Self {
        Self {
            inner,
            stats: Default::default(),
        }
    }
}

impl Exporter for Counted {
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn export<'a>(&'a self, request: &'a Batch) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            let result = self.inner.export(request).await;
            let spans = span_count(request) as u64;
            let (batches, spans_counter) = match result {
                Ok(()) => ("batches_sent", "spans_sent"),
                Err(_) => ("batches_lost", "spans_lost"),
            };
            self.stats.add(batches, 1);
            self.stats.add(spans_counter, spans);
            result
        })
    }

    fn stats(&self) -> Option<&Arc<crate::telemetry::Counters>> {
        Some(&self.stats)
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        self.inner.shutdown()
    }
}

/// Count the spans of a batch (without decoding one in wire form).
pub fn span_count(batch: &Batch) -> usize {
    batch.len()
}
