//! `google.rpc.Status`, the error body of OTLP/HTTP, and the OTLP success response.

use crate::pipeline::Report;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};

/// The `google.rpc.Status` message (without details), as OTLP/HTTP error bodies carry it.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize)]
pub struct RpcStatus {
    /// A `google.rpc.Code`.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// What went wrong.
    #[prost(string, tag = "2")]
    pub message: String,
}

/// The success response, with partial success when processors dropped spans.
pub fn response(report: &Report) -> ExportTraceServiceResponse {
    let dropped = report.dropped_spans();
    ExportTraceServiceResponse {
        partial_success: (dropped > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: dropped as i64,
            error_message: report.message(),
        }),
    }
}
