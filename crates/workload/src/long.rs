//! W3: traces of 5 to 200 spans, many open at once, so that each request carries pieces of many
//! traces and a long trace reaches the receiver over several requests. The root span comes
//! last, as SDKs send it (it ends last).

use crate::api::{Shape, benchmark_attributes, span};
use crate::text::{int, str};
use crate::{Emitted, Generator};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;

const MS: u64 = 1_000_000;

/// How many traces are open at once.
const OPEN: usize = 64;

/// The longest run of one trace's spans sent together.
const RUN: usize = 8;

struct OpenTrace {
    trace_id: Vec<u8>,
    root: Vec<u8>,
    service: usize,
    start: u64,
    duration: u64,
    size: usize,
    sent: usize,
    /// The span (by index; the root is the last) whose status is an error, if any.
    error_at: Option<usize>,
}

/// The traces being sent.
#[derive(Default)]
pub(crate) struct OpenTraces {
    open: Vec<OpenTrace>,
}

fn start_trace(g: &mut Generator) -> OpenTrace {
    let size = g.rng.usize(5..=200);
    let slow = g.rng.f64() < 0.10;
    let error = g.rng.f64() < 0.05;
    OpenTrace {
        trace_id: g.trace_id(),
        root: g.span_id(),
        service: g.rng.usize(..g.services.len()),
        start: g.tick(),
        duration: if slow {
            g.rng.u64(1_500 * MS..5_000 * MS)
        } else {
            g.rng.u64(10 * MS..500 * MS)
        },
        size,
        sent: 0,
        error_at: error.then(|| g.rng.usize(..size)),
    }
}

/// Up to `room` spans: a run of the next spans of one open trace.
pub(crate) fn next_spans(g: &mut Generator, room: usize, out: &mut Vec<Emitted>) {
    while g.long.open.len() < OPEN {
        let trace = start_trace(g);
        g.long.open.push(trace);
    }
    let pick = g.rng.usize(..g.long.open.len());
    let run = g.rng.usize(1..=RUN).min(room);
    for _ in 0..run {
        let trace = &g.long.open[pick];
        if trace.sent == trace.size {
            break;
        }
        let index = trace.sent;
        let is_root = index + 1 == trace.size;
        let error =
            (trace.error_at == Some(index)).then_some("deadline exceeded calling therapy-engine");
        let (trace_id, root, service, start, duration, size) = (
            trace.trace_id.clone(),
            trace.root.clone(),
            trace.service,
            trace.start,
            trace.duration,
            trace.size,
        );
        let span = if is_root {
            let attributes = vec![
                str("http.request.method", "GET"),
                str("http.route", "/v1/patients/{patient_id}/therapy/plan"),
                int(
                    "http.response.status_code",
                    if error.is_some() { 504 } else { 200 },
                ),
                str(
                    "url.full",
                    &format!(
                        "https://api.dtx.example/v1/patients/P-{:08}/therapy/plan",
                        g.rng.u32(10_000_000..100_000_000)
                    ),
                ),
                str("server.address", "api.dtx.example"),
            ];
            let shape = Shape {
                trace_id: &trace_id,
                span_id: root,
                parent: &[],
                name: "GET /v1/patients/{patient_id}/therapy/plan".into(),
                kind: SpanKind::Server,
                start,
                duration,
            };
            span(shape, attributes, error)
        } else {
            let attributes = benchmark_attributes(&mut g.rng);
            // Children start in order inside the root and end before it does.
            let offset = duration / size as u64 * index as u64;
            let shape = Shape {
                trace_id: &trace_id,
                span_id: g.span_id(),
                parent: &root,
                name: format!("step {index}"),
                kind: SpanKind::Internal,
                start: start + offset,
                duration: g.rng.u64(10_000..(duration - offset).max(10_001)),
            };
            span(shape, attributes, error)
        };
        out.push(Emitted { service, span });
        g.long.open[pick].sent += 1;
    }
    if g.long.open[pick].sent == g.long.open[pick].size {
        g.long.open.swap_remove(pick);
    }
}
