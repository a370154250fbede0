//! An OTLP/JSON export request as the HTTP receiver takes it: decoded (serde_json's recursion
//! limit applies), indexed into a batch. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use spanwise_batch::Batch;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<ExportTraceServiceRequest>(data) {
        let batch = Batch::from_request(request);
        let _ = batch.len();
    }
});
