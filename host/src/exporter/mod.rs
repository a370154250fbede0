//! Exporters: where a pipeline's batches go. Each exporter encodes the batch once, in its own
//! format.

mod debug;
mod file;
mod otlp_grpc;
mod otlp_http;

pub use debug::DebugExporter;
pub use file::FileExporter;
pub use otlp_grpc::OtlpGrpcExporter;
pub use otlp_http::OtlpHttpExporter;

use crate::config::ExporterConfig;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
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
    },
    /// One or more exporters failed.
    #[error("export failed: {0}")]
    Failed(String),
}

/// A destination for batches.
pub trait Exporter: Send + Sync {
    /// The exporter id from the config.
    fn id(&self) -> &str;

    /// Send one request.
    fn export<'a>(
        &'a self,
        request: &'a ExportTraceServiceRequest,
    ) -> BoxFuture<'a, Result<(), ExportError>>;

    /// Flush and release what the exporter holds.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Create the exporter `id` from its config; the error is the reason, for the config error.
pub fn build(id: &str, config: &ExporterConfig) -> Result<Arc<dyn Exporter>, String> {
    Ok(match config {
        ExporterConfig::Otlp(c) => Arc::new(OtlpGrpcExporter::new(id, c)?),
        ExporterConfig::OtlpHttp(c) => Arc::new(OtlpHttpExporter::new(id, c)?),
        ExporterConfig::File(c) => Arc::new(FileExporter::new(id, &c.path)?),
        ExporterConfig::Debug(c) => Arc::new(DebugExporter::new(id, c.verbosity)),
    })
}

/// Count the spans of a request.
pub fn span_count(request: &ExportTraceServiceRequest) -> usize {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}
