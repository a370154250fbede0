//! W1 (the benchmark shape) and W2 (API traffic): whole traces within one request.

use crate::text::{alphanumeric, bool, double, email, int, patient_id, str, token, user_id};
use crate::{Emitted, Generator};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::span::{Event, SpanKind};
use opentelemetry_proto::tonic::trace::v1::{Span, Status, status::StatusCode};

const MS: u64 = 1_000_000;

/// What a span is, short of its attributes.
pub(crate) struct Shape<'a> {
    pub trace_id: &'a [u8],
    pub span_id: Vec<u8>,
    pub parent: &'a [u8],
    pub name: String,
    pub kind: SpanKind,
    pub start: u64,
    pub duration: u64,
}

pub(crate) fn span(shape: Shape<'_>, attributes: Vec<KeyValue>, error: Option<&str>) -> Span {
    Span {
        trace_id: shape.trace_id.to_vec(),
        span_id: shape.span_id,
        parent_span_id: shape.parent.to_vec(),
        // The SDKs' flags: "whether the parent is remote" is known (and it is not).
        flags: 0x100,
        name: shape.name,
        kind: shape.kind as i32,
        start_time_unix_nano: shape.start,
        end_time_unix_nano: shape.start + shape.duration,
        attributes,
        status: Some(match error {
            Some(message) => Status {
                code: StatusCode::Error as i32,
                message: message.into(),
            },
            None => Status::default(),
        }),
        ..Default::default()
    }
}

/// The OpenTelemetry benchmark's attributes: ten 20-character keys (`benchmark.attr.00000`, ...)
/// with 20-character random values.
pub(crate) fn benchmark_attributes(rng: &mut fastrand::Rng) -> Vec<KeyValue> {
    (0..10)
        .map(|k| str(&format!("benchmark.attr.{k:05}"), &alphanumeric(rng, 20)))
        .collect()
}

/// W1: a trace of ten spans (fewer if the request has less room), each with ten attributes of
/// 20-character keys and 20-character values.
pub(crate) fn benchmark_trace(g: &mut Generator, room: usize, out: &mut Vec<Emitted>) {
    let trace_id = g.trace_id();
    let root = g.span_id();
    let start = g.tick();
    let service = g.rng.usize(..g.services.len());
    for i in 0..room.min(10) {
        let span_id = if i == 0 { root.clone() } else { g.span_id() };
        let attributes = benchmark_attributes(&mut g.rng);
        let shape = Shape {
            trace_id: &trace_id,
            span_id,
            parent: if i == 0 { &[] } else { &root },
            name: if i == 0 {
                "load-generator-root".into()
            } else {
                format!("load-generator-{i}")
            },
            kind: if i == 0 {
                SpanKind::Server
            } else {
                SpanKind::Internal
            },
            start: start + i as u64 * 10_000,
            duration: g.rng.u64(100_000..5 * MS),
        };
        out.push(Emitted {
            service,
            span: span(shape, attributes, None),
        });
    }
}

/// The kinds of W2 traces.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Health,
    Normal { error: bool, slow: bool },
}

const ROUTES: [(&str, &str); 5] = [
    ("GET", "/v1/patients/{patient_id}/sleep-logs"),
    ("POST", "/v1/patients/{patient_id}/sleep-logs"),
    ("GET", "/v1/patients/{patient_id}/therapy/modules"),
    ("PUT", "/v1/users/{user_id}/profile"),
    ("GET", "/v1/patients/{patient_id}/questionnaires/isi"),
];

/// W2: a health check (one span in one trace of ten), or a request of one to eight spans: a
/// server span, then database, outbound HTTP and internal spans under it; 5% of them fail,
/// 10% are slow.
pub(crate) fn api_trace(g: &mut Generator, room: usize, out: &mut Vec<Emitted>) {
    let kind = if g.rng.f64() < 0.10 {
        Kind::Health
    } else {
        Kind::Normal {
            error: g.rng.f64() < 0.05,
            slow: g.rng.f64() < 0.10,
        }
    };
    let trace_id = g.trace_id();
    let root = g.span_id();
    let start = g.tick();
    let service = g.rng.usize(..3);
    let host = ["sleep-api", "patient-portal", "therapy-engine"][service];

    if kind == Kind::Health {
        let url = format!(
            "https://{host}.dtx-prod.svc.cluster.local:8080/health?probe=kubelet&check=readiness&n={}",
            g.rng.u32(..1_000_000)
        );
        let mut attributes = vec![
            str("http.request.method", "GET"),
            str("url.full", &url),
            str("url.path", "/health"),
            str("url.scheme", "https"),
            str("http.route", "/health"),
            int("http.response.status_code", 200),
            str(
                "server.address",
                &format!("{host}.dtx-prod.svc.cluster.local"),
            ),
            int("server.port", 8080),
            str(
                "client.address",
                &format!("10.0.{}.{}", g.rng.u8(..8), g.rng.u8(1..255)),
            ),
            str("user_agent.original", "kube-probe/1.31"),
            str("network.protocol.version", "1.1"),
        ];
        fill(&mut g.rng, &mut attributes);
        let shape = Shape {
            trace_id: &trace_id,
            span_id: root,
            parent: &[],
            name: "GET /health".into(),
            kind: SpanKind::Server,
            start,
            duration: g.rng.u64(50_000..900_000),
        };
        out.push(Emitted {
            service,
            span: span(shape, attributes, None),
        });
        return;
    }
    let Kind::Normal { error, slow } = kind else {
        unreachable!("health checks returned above")
    };

    let (method, route) = ROUTES[g.rng.usize(..ROUTES.len())];
    let patient = patient_id(&mut g.rng);
    let user = user_id(&mut g.rng);
    let mail = email(&mut g.rng);
    let path = route
        .replace("{patient_id}", &patient)
        .replace("{user_id}", &user);
    let url = long_url(&mut g.rng, host, &path, &user, &mail);
    let duration = if slow {
        g.rng.u64(1_000 * MS..5_000 * MS)
    } else {
        g.rng.u64(5 * MS..300 * MS)
    };
    let status = if error {
        [500, 502, 503][g.rng.usize(..3)]
    } else {
        [200, 200, 201, 204][g.rng.usize(..4)]
    };
    let mut attributes = vec![
        str("http.request.method", method),
        str("url.full", &url),
        str("url.path", &path),
        str("url.query", url.split_once('?').map_or("", |(_, q)| q)),
        str("url.scheme", "https"),
        str("http.route", route),
        int("http.response.status_code", status),
        str("server.address", "api.dtx.example"),
        int("server.port", 443),
        str("client.address", &format!("203.0.113.{}", g.rng.u8(1..255))),
        str("user_agent.original", "DTx-App/4.2 (iOS 18.1; iPhone15,3)"),
        str("enduser.id", &user),
        str("patient.id", &patient),
        str("user.email", &mail),
        str("http.request.header.x-request-id", &token(&mut g.rng, 22)),
    ];
    fill(&mut g.rng, &mut attributes);
    let message = error.then(|| format!("upstream failed for {mail}"));
    let mut server = span(
        Shape {
            trace_id: &trace_id,
            span_id: root.clone(),
            parent: &[],
            name: format!("{method} {route}"),
            kind: SpanKind::Server,
            start,
            duration,
        },
        attributes,
        message.as_deref(),
    );
    if let Some(message) = &message {
        server.events.push(Event {
            time_unix_nano: start + duration - MS / 2,
            name: "exception".into(),
            attributes: vec![
                str("exception.type", "UpstreamError"),
                str("exception.message", message),
                str(
                    "exception.stacktrace",
                    "Traceback (most recent call last):\n  File \"app/api.py\", line 88, in sleep_logs\nUpstreamError",
                ),
            ],
            dropped_attributes_count: 0,
        });
    }
    out.push(Emitted {
        service,
        span: server,
    });

    let children = g.rng.usize(0..8).min(room.saturating_sub(1));
    for i in 0..children {
        let child_start = start + duration / (children as u64 + 1) * i as u64;
        let child_duration = duration / (children as u64 + 2);
        let (name, kind, mut attributes) = match g.rng.u8(..3) {
            0 => (
                "SELECT dtx.sleep_logs".to_owned(),
                SpanKind::Client,
                vec![
                    str("db.system.name", "postgresql"),
                    str("db.namespace", "dtx"),
                    str("db.collection.name", "sleep_logs"),
                    str("db.operation.name", "SELECT"),
                    str(
                        "db.query.text",
                        &format!(
                            "SELECT id, started_at, minutes FROM sleep_logs WHERE patient_id = '{patient}' ORDER BY started_at DESC LIMIT 30"
                        ),
                    ),
                    str("server.address", "pg-primary.dtx-prod.svc.cluster.local"),
                    int("server.port", 5432),
                ],
            ),
            1 => {
                let url = long_url(&mut g.rng, "therapy-engine", &path, &user, &mail);
                (
                    "GET".to_owned(),
                    SpanKind::Client,
                    vec![
                        str("http.request.method", "GET"),
                        str("url.full", &url),
                        int("http.response.status_code", status),
                        str(
                            "server.address",
                            "therapy-engine.dtx-prod.svc.cluster.local",
                        ),
                        int("server.port", 8080),
                        str("patient.id", &patient),
                    ],
                )
            }
            _ => (
                "render sleep summary".to_owned(),
                SpanKind::Internal,
                vec![
                    str("code.function.name", "render_summary"),
                    str("code.file.path", "app/summary.py"),
                    int("code.line.number", 42),
                    str("enduser.id", &user),
                ],
            ),
        };
        fill(&mut g.rng, &mut attributes);
        let shape = Shape {
            trace_id: &trace_id,
            span_id: g.span_id(),
            parent: &root,
            name,
            kind,
            start: child_start,
            duration: child_duration,
        };
        out.push(Emitted {
            service,
            span: span(shape, attributes, None),
        });
    }
}

/// A URL of 80 to 2,048 characters: `path` on `host`, a query string with the user's id and
/// e-mail address, and a session token that pads it to a length drawn at random.
fn long_url(rng: &mut fastrand::Rng, host: &str, path: &str, user: &str, mail: &str) -> String {
    let target = rng.usize(80..=2048);
    let mut url = format!(
        "https://{host}.dtx.example{path}?page={}&user_id={user}&email={mail}&session_token=",
        rng.u8(1..20)
    );
    let pad = target.saturating_sub(url.len()).max(8);
    url.push_str(&token(rng, pad));
    url.truncate(2048);
    url
}

/// Pad `attributes` with the platform's own attributes (strings, numbers, flags) to a count
/// drawn between 15 and 25.
fn fill(rng: &mut fastrand::Rng, attributes: &mut Vec<KeyValue>) {
    let target = rng.usize(15..=25);
    let mut n = 0;
    while attributes.len() < target {
        attributes.push(match n {
            0 => bool("app.feature_flag.sleep_coach", rng.bool()),
            1 => int("app.request.bytes", rng.i64(100..200_000)),
            2 => bool("app.cache.hit", rng.bool()),
            3 => double("app.risk.score", rng.f64()),
            4 => str(
                "app.locale",
                ["en-GB", "de-DE", "fr-FR", "nl-NL"][rng.usize(..4)],
            ),
            5 => str("app.tenant.id", &format!("tenant-{:04}", rng.u16(..2000))),
            6 => int("app.client.build", rng.i64(4000..4200)),
            7 => int("app.retry.count", rng.i64(0..3)),
            8 => str(
                "app.therapy.module",
                ["cbt-i", "sleep-diary", "relaxation"][rng.usize(..3)],
            ),
            _ => str(&format!("app.extra.{n:02}"), &alphanumeric(rng, 12)),
        });
        n += 1;
    }
    attributes.truncate(target);
}
