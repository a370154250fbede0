//! Fixtures shared by the benches and the gate: realistic batches and the components to run.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use spanwise_batch::{Batch, BatchBuilder, kv};
pub use spanwise_workload::{Generator, Workload};

/// A batch of `spans` HTTP server spans with ten attributes each, URLs carrying tokens and ids:
/// the URL plugin's everyday input.
pub fn http_batch(spans: usize) -> Batch {
    let mut builder = BatchBuilder::new().resource(vec![
        kv("service.name", "sleep-api"),
        kv("deployment.environment.name", "prod"),
    ]);
    for i in 0..spans {
        let patient = 10_000 + i;
        builder = builder.span(
            &format!("GET /v1/patients/{patient}/sleep-logs"),
            vec![
                kv("http.request.method", "GET"),
                kv(
                    "url.full",
                    format!("https://api.dtx.example/v1/patients/{patient}/sleep-logs?page=2&session_token=eyJhbGciOiJIUzI1NiJ9.{i}").as_str(),
                ),
                kv("http.target", format!("/v1/patients/{patient}/sleep-logs?page=2").as_str()),
                kv("url.query", "page=2&session_token=abc"),
                kv("http.route", "/v1/patients/{patient_id}/sleep-logs"),
                kv("http.response.status_code", 200i64),
                kv("server.address", "api.dtx.example"),
                kv("user_agent.original", "DTx-App/4.2 (iOS 18.1)"),
                kv("enduser.id", format!("u-{i}").as_str()),
                kv("network.protocol.version", "1.1"),
            ],
        );
    }
    builder.build()
}

/// A batch of `spans` spans of twenty attributes each, ten of them identifiers (`id.0` ..
/// `id.9`, patient ids) and ten plain values: issue 6's masking shape, with
/// [`HASHED_REDACT_CONFIG`].
pub fn identifier_batch(spans: usize) -> Batch {
    let mut builder = BatchBuilder::new().resource(vec![kv("service.name", "sleep-api")]);
    for i in 0..spans {
        let mut attributes = Vec::with_capacity(20);
        for k in 0..10 {
            let id = format!("patient-{:08}-{k}", 10_000_000 + i);
            attributes.push(kv(&format!("id.{k}"), id.as_str()));
            attributes.push(kv(&format!("plain.{k}"), format!("value {i} {k}").as_str()));
        }
        builder = builder.span(&format!("POST /v1/sleep-logs/{i}"), attributes);
    }
    builder.build()
}

/// The masking config of issue 6's shape: the collector's `hash` action (SHA-256) on the ten
/// identifier keys of [`identifier_batch`].
pub const HASHED_REDACT_CONFIG: &str = r#"{"actions": [
    {"key": "id.0", "action": "hash"}, {"key": "id.1", "action": "hash"},
    {"key": "id.2", "action": "hash"}, {"key": "id.3", "action": "hash"},
    {"key": "id.4", "action": "hash"}, {"key": "id.5", "action": "hash"},
    {"key": "id.6", "action": "hash"}, {"key": "id.7", "action": "hash"},
    {"key": "id.8", "action": "hash"}, {"key": "id.9", "action": "hash"}
]}"#;

/// The URL plugin's config used by the benches: every feature on.
pub const URL_CONFIG: &str =
    r#"{"keep_params": ["page"], "collapse_ids": true, "span_names": true, "max_length": 512}"#;

/// The platform's filter (as `benches/load/platform.yaml`): health checks and spans shorter
/// than a millisecond.
pub const PLATFORM_FILTER_CONFIG: &str = r#"{"traces": {"span": [
    "attributes[\"http.route\"] == \"/health\"",
    "end_time_unix_nano - start_time_unix_nano < 1000000"
]}}"#;

/// A batch of `spans` spans like [`http_batch`]'s in traces of five spans, with trace ids from a
/// fixed-seed generator (as random as an SDK's): the head sampler's bench input.
pub fn traced_batch(spans: usize) -> Batch {
    let mut batch = http_batch(spans).into_request();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut trace_id = Vec::new();
    for (i, span) in batch.resource_spans[0].scope_spans[0]
        .spans
        .iter_mut()
        .enumerate()
    {
        if i % 5 == 0 {
            trace_id = [next().to_be_bytes(), next().to_be_bytes()].concat();
        }
        span.trace_id = trace_id.clone();
    }
    Batch::from_request(batch)
}

/// The tail sampler's bench config: the platform's categories (errors 50%, slow 30%, the rest
/// 10%) after a `drop` of health checks.
pub const TAIL_SAMPLER_CONFIG: &str = r#"{
    "policies": [{"name": "no-health", "type": "drop", "drop": {"drop_sub_policy": [
        {"name": "health", "type": "string_attribute",
         "string_attribute": {"key": "http.route", "values": ["/health"]}}]}}],
    "rates": [
        {"name": "errors", "when": {"status_code": "ERROR"}, "percentage": 50},
        {"name": "slow", "when": {"latency": {"threshold_ms": 2000}}, "percentage": 30},
        {"name": "default", "percentage": 10}]}"#;

/// The head sampler's bench config: stage's 30%, consistent (proportional) mode.
pub const HEAD_SAMPLER_CONFIG: &str = r#"{"mode": "proportional", "sampling_percentage": 30}"#;

/// A batch of `spans` spans of `workload`, from the seed every bench uses.
pub fn workload_batch(workload: Workload, spans: usize) -> Batch {
    Batch::from_request(workload_request(workload, spans))
}

/// The OTLP request [`workload_batch`] is made of.
pub fn workload_request(workload: Workload, spans: usize) -> ExportTraceServiceRequest {
    Generator::new(workload, BENCH_SEED).request(spans)
}

/// The seed of every bench workload.
pub const BENCH_SEED: u64 = 42;

/// The rows of each trace in `batch`, traces in the order their first span comes: what the
/// host hands a tail sampler.
pub fn trace_rows(batch: &Batch) -> spanwise_batch::TraceRows {
    let request = batch.to_request();
    let mut order: Vec<Vec<u32>> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let spans = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans);
    for (row, span) in spans.enumerate() {
        let at = *index.entry(span.trace_id.clone()).or_insert_with(|| {
            order.push(Vec::new());
            order.len() - 1
        });
        order[at].push(row as u32);
    }
    spanwise_batch::TraceRows::from_lists(&order)
}

/// The name of the key [`PLATFORM_REDACT_CONFIG`] hashes with, and its value in the benches.
pub const PLATFORM_KEY: (&str, &[u8]) = ("identifiers", b"bench-key-not-a-secret");

/// The platform's masking (as `benches/load/platform.yaml`): user ids keyed-hashed, patient ids
/// deleted, e-mail addresses and patient ids masked inside every string value.
pub const PLATFORM_REDACT_CONFIG: &str = r#"{
    "actions": [
        {"key": "enduser.id", "action": "hash", "hash_function": "hmac-sha256", "key_name": "identifiers"},
        {"key": "patient.id", "action": "delete"}],
    "redaction": {
        "allow_all_keys": true,
        "ignored_keys": ["enduser.id"],
        "blocked_values": ["[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}", "\\bP-[0-9]{4,}\\b"],
        "hash_function": "hmac-sha256",
        "key_name": "identifiers"}}"#;
pub mod engines;
pub mod interleave;
pub mod overhead;
pub mod pairs;
