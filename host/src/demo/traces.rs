//! Realistic traces of a digital-therapeutics API, for `spanwise demo`: a sleep-log creation, a
//! questionnaire being scored, a Kubernetes health check, a slow report and a failed request,
//! with user and patient identifiers and URLs carrying tokens.

use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::Event;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use spanwise_batch::{Batch, kv};

const MS: u64 = 1_000_000;

struct Trace {
    id: [u8; 16],
    next_span: u64,
    start: u64,
}

impl Trace {
    fn new(seed: u64, start: u64) -> Self {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&(0x6474_7800_0000_0000 | seed).to_be_bytes());
        id[8..].copy_from_slice(&seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes());
        Self {
            id,
            next_span: seed << 8,
            start,
        }
    }

    fn span(
        &mut self,
        parent: Option<&Span>,
        name: &str,
        kind: i32,
        offset_ms: u64,
        duration_ms: u64,
        attributes: Vec<KeyValue>,
    ) -> Span {
        self.next_span += 1;
        Span {
            trace_id: self.id.to_vec(),
            span_id: self.next_span.to_be_bytes().to_vec(),
            parent_span_id: parent.map(|p| p.span_id.clone()).unwrap_or_default(),
            name: name.to_owned(),
            kind,
            start_time_unix_nano: self.start + offset_ms * MS,
            end_time_unix_nano: self.start + (offset_ms + duration_ms) * MS,
            attributes,
            ..Default::default()
        }
    }
}

const SERVER: i32 = 2;
const CLIENT: i32 = 3;
const INTERNAL: i32 = 1;
const PRODUCER: i32 = 4;

fn http_server(method: &str, url: &str, route: &str, status: i64) -> Vec<KeyValue> {
    let target = url
        .splitn(4, '/')
        .nth(3)
        .map(|t| format!("/{t}"))
        .unwrap_or_default();
    vec![
        kv("http.request.method", method),
        kv("url.full", url),
        kv("http.target", target.as_str()),
        kv("http.route", route),
        kv("http.response.status_code", status),
        kv("user_agent.original", "DTx-App/4.2 (iOS 18.1)"),
    ]
}

fn resource(service: &str, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: Some(Resource {
            attributes: vec![
                kv("service.name", service),
                kv("service.version", "2026.11.3"),
                kv("deployment.environment.name", "dev"),
                kv(
                    "k8s.pod.name",
                    format!("{service}-7d9f8b6c5-x2x9q").as_str(),
                ),
            ],
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            scope: Some(InstrumentationScope {
                name: "opentelemetry.instrumentation.fastapi".into(),
                version: "0.49b0".into(),
                ..Default::default()
            }),
            spans,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The demo's traffic: one batch per request, as SDK exporters would send them.
pub fn demo_batches(now_nanos: u64) -> Vec<(&'static str, Batch)> {
    let mut out = Vec::new();

    let mut t = Trace::new(1, now_nanos);
    let root = t.span(
        None,
        "POST /v1/patients/48213/sleep-logs",
        SERVER,
        0,
        84,
        [
            http_server(
                "POST",
                "https://api.dtx.example/v1/patients/48213/sleep-logs?session_token=eyJhbGciOiJIUzI1NiJ9.cGF0aWVudA.sig&lang=en",
                "/v1/patients/{patient_id}/sleep-logs",
                201,
            ),
            vec![kv("enduser.id", "u-1842"), kv("patient.id", "P-48213")],
        ]
        .concat(),
    );
    let insert = t.span(
        Some(&root),
        "INSERT sleep_logs",
        CLIENT,
        12,
        31,
        vec![
            kv("db.system.name", "postgresql"),
            kv(
                "db.query.text",
                "INSERT INTO sleep_logs (patient_id, slept_at, minutes) VALUES ($1, $2, $3)",
            ),
        ],
    );
    let publish = t.span(
        Some(&root),
        "sleep-log.created publish",
        PRODUCER,
        50,
        9,
        vec![
            kv("messaging.system", "kafka"),
            kv("messaging.destination.name", "sleep-log.created"),
        ],
    );
    out.push((
        "sleep-log creation",
        Batch::from_resource_spans(vec![resource("sleep-api", vec![root, insert, publish])]),
    ));

    let mut t = Trace::new(2, now_nanos + 200 * MS);
    let root = t.span(
        None,
        "POST /v1/questionnaires/phq-9/responses",
        SERVER,
        0,
        142,
        [
            http_server(
                "POST",
                "https://api.dtx.example/v1/questionnaires/phq-9/responses?patient_id=P-48213&access_token=ya29.a0Af&page=1",
                "/v1/questionnaires/{questionnaire}/responses",
                202,
            ),
            vec![kv("enduser.id", "u-1842")],
        ]
        .concat(),
    );
    let score = t.span(
        Some(&root),
        "score questionnaire",
        INTERNAL,
        20,
        70,
        vec![
            kv("questionnaire.id", "phq-9"),
            kv("questionnaire.items", 9i64),
        ],
    );
    let call = t.span(
        Some(&score),
        "GET /v2/scores/3f2b8c1e-9d4a-4f6b-8e2a-1c5d7e9f0a1b",
        CLIENT,
        30,
        40,
        vec![
            kv("http.request.method", "GET"),
            kv("url.full", "http://scoring.dtx.internal:8080/v2/scores/3f2b8c1e-9d4a-4f6b-8e2a-1c5d7e9f0a1b?api_key=sk_live_51Hx"),
            kv("http.response.status_code", 200i64),
        ],
    );
    out.push((
        "questionnaire processing",
        Batch::from_resource_spans(vec![resource("questionnaire-api", vec![root, score, call])]),
    ));

    let mut t = Trace::new(3, now_nanos + 400 * MS);
    let mut health = t.span(
        None,
        "GET /healthz",
        SERVER,
        0,
        1,
        http_server("GET", "http://10.42.0.17:8080/healthz", "/healthz", 200),
    );
    health
        .attributes
        .push(kv("user_agent.original", "kube-probe/1.31"));
    out.push((
        "health check",
        Batch::from_resource_spans(vec![resource("sleep-api", vec![health])]),
    ));

    let mut t = Trace::new(4, now_nanos + 600 * MS);
    let root = t.span(
        None,
        "GET /v1/patients/77/reports",
        SERVER,
        0,
        2_830,
        [
            http_server(
                "GET",
                "https://api.dtx.example/v1/patients/77/reports?page=2&access_token=eyJraWQiOiJ&email=jane.doe%40example.com",
                "/v1/patients/{patient_id}/reports",
                200,
            ),
            vec![kv("patient.id", "P-00077")],
        ]
        .concat(),
    );
    let render = t.span(
        Some(&root),
        "render pdf report",
        INTERNAL,
        100,
        2_650,
        vec![kv("report.pages", 14i64)],
    );
    out.push((
        "slow report",
        Batch::from_resource_spans(vec![resource("reports-api", vec![root, render])]),
    ));

    let mut t = Trace::new(5, now_nanos + 900 * MS);
    let mut failed = t.span(
        None,
        "POST /v1/sleep-logs",
        SERVER,
        0,
        23,
        [
            http_server(
                "POST",
                "https://api.dtx.example/v1/sleep-logs?device_id=9f1c2d3e4b5a69788796a5b4",
                "/v1/sleep-logs",
                500,
            ),
            vec![
                kv("url.query", "device_id=9f1c2d3e4b5a69788796a5b4"),
                kv("error.type", "IntegrityError"),
            ],
        ]
        .concat(),
    );
    failed.status = Some(Status {
        code: 2,
        message: "duplicate sleep log for patient P-48213".into(),
    });
    failed.events.push(Event {
        time_unix_nano: failed.start_time_unix_nano + 20 * MS,
        name: "exception".into(),
        attributes: vec![
            kv("exception.type", "IntegrityError"),
            kv("exception.message", "duplicate key (patient_id)=(P-48213)"),
        ],
        ..Default::default()
    });
    let mut broken = t.span(
        Some(&failed),
        "legacy webhook",
        CLIENT,
        5,
        3,
        vec![kv("url.full", "webhook endpoint not configured")],
    );
    broken.attributes.push(kv("http.request.method", "POST"));
    out.push((
        "failed request",
        Batch::from_resource_spans(vec![resource("sleep-api", vec![failed, broken])]),
    ));

    out
}
