//! Fixtures shared by the benches and the gate: realistic batches and the components to run.

use spanwise_batch::{Batch, BatchBuilder, kv};

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

/// The URL plugin's config used by the benches: every feature on.
pub const URL_CONFIG: &str =
    r#"{"keep_params": ["page"], "collapse_ids": true, "span_names": true, "max_length": 512}"#;

/// A batch of `spans` spans with twenty string attributes each, ten of which carry identifiers:
/// the masking plugin's bench input.
pub fn identifier_batch(spans: usize) -> Batch {
    let mut builder = BatchBuilder::new().resource(vec![kv("service.name", "sleep-api")]);
    for i in 0..spans {
        let mut attributes = Vec::with_capacity(20);
        for k in 0..10 {
            attributes.push(kv(
                &format!("id.{k}"),
                format!("patient-{:08}-{k}", 10_000_000 + i).as_str(),
            ));
            attributes.push(kv(&format!("plain.{k}"), format!("value {i} {k}").as_str()));
        }
        builder = builder.span(&format!("POST /v1/sleep-logs/{i}"), attributes);
    }
    builder.build()
}

/// The masking plugin's bench config: the collector's `hash` action on the ten identifier keys.
pub const REDACT_CONFIG: &str = r#"{"actions": [
    {"key": "id.0", "action": "hash"}, {"key": "id.1", "action": "hash"},
    {"key": "id.2", "action": "hash"}, {"key": "id.3", "action": "hash"},
    {"key": "id.4", "action": "hash"}, {"key": "id.5", "action": "hash"},
    {"key": "id.6", "action": "hash"}, {"key": "id.7", "action": "hash"},
    {"key": "id.8", "action": "hash"}, {"key": "id.9", "action": "hash"}
]}"#;

/// A batch of `spans` HTTP server spans like [`http_batch`]'s, one in ten a health check
/// (`http.route` `/health`) and one in ten (others) shorter than a millisecond: the filter
/// plugin's bench input.
pub fn health_batch(spans: usize) -> Batch {
    let mut batch = http_batch(spans).into_request();
    let all = batch.resource_spans[0].scope_spans[0].spans.iter_mut();
    for (i, span) in all.enumerate() {
        if i % 10 == 0 {
            for kv in &mut span.attributes {
                if kv.key == "http.route" {
                    *kv = spanwise_batch::kv("http.route", "/health");
                }
            }
        }
        if i % 10 == 5 {
            span.end_time_unix_nano = span.start_time_unix_nano + 400_000;
        }
    }
    Batch::from_request(batch)
}

/// The filter plugin's bench config: two conditions like the platform's, an attribute and a
/// duration.
pub const FILTER_CONFIG: &str = r#"{"traces": {"span": [
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

/// `traces` traces of five spans for the tail sampler: [`traced_batch`] with a failed span in
/// every twentieth trace and every tenth trace (of the others) made 2.5 s long; with the rows of
/// each trace, as the host hands them to a sampler.
pub fn tail_batch(traces: usize) -> (Batch, Vec<Vec<u32>>) {
    use opentelemetry_proto::tonic::trace::v1::Status;
    let mut request = traced_batch(traces * 5).into_request();
    for (i, span) in request.resource_spans[0].scope_spans[0]
        .spans
        .iter_mut()
        .enumerate()
    {
        let trace = i / 5;
        if trace % 20 == 0 && i % 5 == 2 {
            span.status = Some(Status {
                code: 2,
                message: "upstream failed".into(),
            });
        }
        if trace % 20 == 1 && i % 5 == 0 {
            span.end_time_unix_nano = span.start_time_unix_nano + 2_500_000_000;
        }
    }
    let rows = (0..traces)
        .map(|t| (t as u32 * 5..t as u32 * 5 + 5).collect())
        .collect();
    (Batch::from_request(request), rows)
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
