//! The trace buffer, driven by a logical clock: nothing sleeps.

use super::buffer::{BufferLimits, TRACE_OVERHEAD, TraceBuffer, TraceId};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use spanwise_abi::{Level, TraceDecision, TraceDecisions};
use spanwise_batch::{Batch, BatchBuilder, kv};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn limits() -> BufferLimits {
    BufferLimits {
        decision_wait: WAIT,
        num_traces: 100,
        max_bytes: usize::MAX,
        sampled_cache_size: 10,
        non_sampled_cache_size: 10,
    }
}

fn id(n: u8) -> TraceId {
    [n; 16]
}

/// One request from `service`: a span named `name` for each trace number.
fn request(service: &str, spans: &[(u8, &str)]) -> Batch {
    let mut builder = BatchBuilder::new().resource(vec![kv("service.name", service)]);
    for (_, name) in spans {
        builder = builder.span(name, vec![]);
    }
    let mut request = builder.build().into_request();
    for (span, (trace, _)) in request.resource_spans[0].scope_spans[0]
        .spans
        .iter_mut()
        .zip(spans)
    {
        span.trace_id = id(*trace).to_vec();
    }
    Batch::from_request(request)
}

fn spans(batch: &Batch) -> Vec<(String, String, TraceId)> {
    batch
        .resource_spans()
        .iter()
        .flat_map(|r| {
            let service = r.resource.as_ref().unwrap().attributes[0]
                .value
                .as_ref()
                .map(|v| format!("{v:?}"))
                .unwrap();
            r.scope_spans
                .iter()
                .flat_map(|s| &s.spans)
                .map(move |s: &Span| {
                    (
                        service.clone(),
                        s.name.clone(),
                        s.trace_id.clone().try_into().unwrap(),
                    )
                })
        })
        .collect()
}

#[test]
fn a_trace_is_due_decision_wait_after_its_first_span() {
    let mut buffer = TraceBuffer::new(limits());
    buffer.add(request("api", &[(1, "a1"), (2, "b1")]), Duration::ZERO);
    buffer.add(request("db", &[(1, "a2")]), Duration::from_secs(10));
    assert_eq!((buffer.traces(), buffer.spans()), (2, 3));
    assert!(buffer.due(WAIT - Duration::from_millis(1)).is_empty());

    let due = buffer.due(WAIT);
    assert_eq!(due.trace_ids, [id(1), id(2)]);
    assert_eq!(due.early, 0);
    let rows = spans(&due.batch);
    // Each trace's rows hold its spans, under the resource they were sent with.
    let names = |trace: usize| -> Vec<(String, String)> {
        due.traces
            .get(trace)
            .unwrap()
            .iter()
            .map(|&row| {
                let (service, name, trace_id) = rows[row as usize].clone();
                assert_eq!(trace_id, due.trace_ids[trace]);
                (service, name)
            })
            .collect()
    };
    assert_eq!(names(0).len(), 2);
    assert!(names(0).iter().any(|(s, n)| s.contains("api") && n == "a1"));
    assert!(names(0).iter().any(|(s, n)| s.contains("db") && n == "a2"));
    assert_eq!(names(1).len(), 1);
    assert_eq!(due.batch.len(), 3);
    assert_eq!((buffer.traces(), buffer.spans(), buffer.bytes()), (0, 0, 0));
}

#[test]
fn past_num_traces_the_oldest_trace_is_decided_early() {
    let mut buffer = TraceBuffer::new(BufferLimits {
        num_traces: 2,
        ..limits()
    });
    for n in 1..=3 {
        buffer.add(
            request("api", &[(n, "s")]),
            Duration::from_secs(u64::from(n)),
        );
    }
    let due = buffer.due(Duration::from_secs(3));
    assert_eq!(due.trace_ids, [id(1)]);
    assert_eq!(due.early, 1);
    assert_eq!(buffer.traces(), 2);
}

#[test]
fn past_max_bytes_the_oldest_traces_are_decided_early() {
    let one = request("api", &[(1, "s")]);
    // Each of these traces of one span counts the same: measure one.
    let mut probe = TraceBuffer::new(limits());
    probe.add(request("api", &[(9, "s")]), Duration::ZERO);
    let size = probe.bytes();
    // The trace, and the span at its encoded size (and its entry).
    let encoded = one.resource_spans()[0].scope_spans[0].spans[0].encoded_len();
    assert!(size > TRACE_OVERHEAD + encoded, "{size}");
    let mut buffer = TraceBuffer::new(BufferLimits {
        max_bytes: 2 * size,
        ..limits()
    });
    buffer.add(one, Duration::ZERO);
    buffer.add(request("api", &[(2, "s")]), Duration::ZERO);
    assert_eq!(buffer.bytes(), 2 * size);
    assert!(
        buffer.due(Duration::ZERO).is_empty(),
        "at the limit, not past it"
    );
    buffer.add(request("api", &[(3, "s")]), Duration::ZERO);
    let due = buffer.due(Duration::ZERO);
    assert_eq!(
        (due.trace_ids.as_slice(), due.early),
        ([id(1)].as_slice(), 1)
    );
    assert_eq!(buffer.bytes(), 2 * size);
}

#[test]
fn late_spans_follow_the_decision_and_the_caches_are_bounded() {
    let mut buffer = TraceBuffer::new(BufferLimits {
        sampled_cache_size: 1,
        ..limits()
    });
    let decisions = TraceDecisions::from(vec![
        TraceDecision::keep(0.5, "slow"),
        TraceDecision::drop("default"),
        TraceDecision::keep(1.0, ""),
    ]);
    let decided = |index| decisions.get(index).unwrap();
    buffer.remember(id(1), decided(0));
    buffer.remember(id(2), decided(1));
    let added = buffer.add(
        request("api", &[(1, "late kept"), (2, "late dropped"), (3, "new")]),
        Duration::ZERO,
    );
    assert_eq!(added.late_kept.batch.len(), 1);
    assert_eq!(spans(&added.late_kept.batch)[0].1, "late kept");
    assert_eq!(added.late_kept.traces.to_lists(), [vec![0]]);
    assert_eq!(
        added.late_decisions,
        TraceDecisions::from(vec![TraceDecision::keep(0.5, "slow")])
    );
    assert!(
        spans(&added.late_kept.batch)[0].0.contains("api"),
        "with its resource"
    );
    assert_eq!((added.late_dropped, added.held), (1, 1));
    // The kept cache holds one id: remembering another forgets trace 1.
    buffer.remember(id(4), decided(2));
    let added = buffer.add(request("api", &[(1, "again")]), Duration::ZERO);
    assert_eq!((added.late_kept.batch.len(), added.held), (0, 1));
    // A decision can change its mind once: the id moves between the caches.
    buffer.remember(id(2), decided(2));
    let added = buffer.add(request("api", &[(2, "now kept")]), Duration::ZERO);
    assert_eq!(added.late_kept.batch.len(), 1);
}

#[test]
fn drain_gives_every_held_trace_oldest_first() {
    let mut buffer = TraceBuffer::new(limits());
    buffer.add(request("api", &[(5, "a"), (6, "b")]), Duration::ZERO);
    buffer.add(
        request("api", &[(7, "c"), (5, "a2")]),
        Duration::from_secs(1),
    );
    let due = buffer.drain();
    assert_eq!(due.trace_ids, [id(5), id(6), id(7)]);
    assert_eq!(due.batch.len(), 4);
    assert_eq!(
        due.traces.iter().map(<[u32]>::len).collect::<Vec<_>>(),
        [2, 1, 1]
    );
    assert_eq!(buffer.traces(), 0);
    assert!(buffer.drain().is_empty());
}

#[test]
fn a_trace_seen_again_after_it_was_due_starts_over() {
    let mut buffer = TraceBuffer::new(limits());
    buffer.add(request("api", &[(1, "first")]), Duration::ZERO);
    assert_eq!(buffer.due(WAIT).trace_ids, [id(1)]);
    buffer.add(request("api", &[(1, "second")]), WAIT);
    assert!(buffer.due(WAIT + WAIT / 2).is_empty());
    assert_eq!(buffer.due(WAIT * 2).trace_ids, [id(1)]);
}

#[test]
fn a_kept_spans_threshold_only_rises() {
    // One trace: a span head-sampled at 10% (th:e666), one kept by a head rule at 100% (th:0),
    // one never sampled. The sampler keeps the trace at 50% (th:8).
    let mut request = BatchBuilder::new()
        .span("sibling", vec![])
        .span("error", vec![])
        .span("fresh", vec![])
        .build()
        .into_request();
    let states = ["ot=rv:f0000000000000;th:e666", "ot=th:0", "vendor=x"];
    for (span, state) in request.resource_spans[0].scope_spans[0]
        .spans
        .iter_mut()
        .zip(states)
    {
        span.trace_id = id(1).to_vec();
        span.trace_state = state.to_owned();
    }
    let mut buffer = TraceBuffer::new(limits());
    buffer.add(Batch::from_request(request), Duration::ZERO);
    let mut due = buffer.drain();
    let outcome = super::decisions::apply(
        &mut due,
        &vec![TraceDecision::keep(0.5, "errors")].into(),
        false,
    )
    .unwrap();
    assert_eq!(outcome.traces_kept, 1);
    let mut written = names_and_states(&due.batch);
    written.sort();
    assert_eq!(
        written,
        [
            ("error".to_owned(), "ot=th:8".to_owned()),
            ("fresh".to_owned(), "ot=th:8,vendor=x".to_owned()),
            (
                "sibling".to_owned(),
                "ot=rv:f0000000000000;th:e666".to_owned()
            ),
        ]
    );
}

#[test]
fn a_request_in_wire_form_is_held_and_given_back_as_a_decoded_one_is() {
    // Two services, traces across both, one trace with a span in each; the resource's schema
    // URL and the scope go back with the spans.
    let mut first = request("api", &[(1, "a"), (2, "b"), (1, "c")]).into_request();
    first.resource_spans[0].schema_url = "https://opentelemetry.io/schemas/1.26.0".into();
    first.resource_spans.extend(
        request("db", &[(2, "d"), (3, "e")])
            .into_request()
            .resource_spans,
    );
    let wire = Batch::from_encoded(first.encode_to_vec().into()).unwrap();
    assert!(wire.is_wire_only());
    let decoded = Batch::from_request(first.clone());

    let mut from_wire = TraceBuffer::new(limits());
    let mut from_decoded = TraceBuffer::new(limits());
    assert_eq!(from_wire.add(wire, Duration::ZERO).held, 5);
    assert_eq!(from_decoded.add(decoded, Duration::ZERO).held, 5);
    assert_eq!(from_wire.bytes(), from_decoded.bytes());
    let (a, b) = (from_wire.drain(), from_decoded.drain());
    assert!(a.batch.is_wire_only(), "due traces go on in wire form");
    assert_eq!(a.batch.encoded(), b.batch.encoded());
    assert_eq!(a.trace_ids, [id(1), id(2), id(3)]);
    assert_eq!(a.traces, b.traces);
    // Each trace's rows are its spans: trace 2 has "b" (api) and "d" (db).
    let names: Vec<Vec<String>> = a
        .traces
        .iter()
        .map(|rows| {
            rows.iter()
                .map(|&row| spans(&a.batch)[row as usize].1.clone())
                .collect()
        })
        .collect();
    assert_eq!(names, [vec!["a", "c"], vec!["b", "d"], vec!["e"]]);
    let request = a.batch.to_request();
    assert_eq!(
        request.resource_spans[0].schema_url,
        "https://opentelemetry.io/schemas/1.26.0"
    );
    assert_eq!(
        request.resource_spans[0].scope_spans[0].scope,
        first.resource_spans[0].scope_spans[0].scope
    );
}

#[test]
fn decisions_apply_to_due_traces_in_indexed_wire_form() {
    // Three traces; the second dropped, the others kept at 50%. The buffer gives due traces in
    // indexed wire form, which the sampler's reads (span and resource attributes among them)
    // and the decisions' edits use without decoding, unless `sampling.policy` is recorded,
    // which decodes it: both give the same spans with the same tracestates.
    let decisions: TraceDecisions = vec![
        TraceDecision::keep(0.5, "errors"),
        TraceDecision::drop("default"),
        TraceDecision::keep(0.5, "errors"),
    ]
    .into();
    let mut outputs = Vec::new();
    for record_policy in [false, true] {
        let mut buffer = TraceBuffer::new(limits());
        buffer.add(
            request("api", &[(1, "a"), (2, "b"), (3, "c"), (1, "d")]),
            Duration::ZERO,
        );
        let mut due = buffer.drain();
        assert!(due.batch.is_indexed());
        assert_eq!(due.batch.status_codes(), [0; 4], "read from the index");
        let services = due.batch.str_attribute(Level::Resource, "service.name");
        assert_eq!(services.get(3), Some("api"));
        assert!(
            due.batch.is_indexed(),
            "resource attributes read from the index"
        );
        let outcome = super::decisions::apply(&mut due, &decisions, record_policy).unwrap();
        assert_eq!((outcome.traces_kept, outcome.spans_dropped), (2, 1));
        assert_eq!(due.batch.is_indexed(), !record_policy);
        outputs.push(names_and_states(&due.batch));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(
        outputs[0],
        [("a", "ot=th:8"), ("d", "ot=th:8"), ("c", "ot=th:8")]
            .map(|(n, s)| (n.to_owned(), s.to_owned()))
    );
}

/// Each span of `batch` as `(name, tracestate)`, in order.
fn names_and_states(batch: &Batch) -> Vec<(String, String)> {
    batch
        .to_request()
        .resource_spans
        .into_iter()
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .map(|s| (s.name, s.trace_state))
        .collect()
}
