//! The `head-sampler` world (WIT 0.1.7) through the host: such a component loads as a
//! processor, is handed what the host read of the batch (trace ids, tracestate and priority
//! counts) with the call, and the tracestate fill and drop it returns are applied after its
//! other edits, or refused with the batch left as it was. The component is the test guest
//! `tests/guests/head-view`; the head sampler plugin, built for this world, is checked against
//! the collector in `head_sampler_wasm_parity.rs`.

use spanwise::runtime::{CallError, Limits, PluginContext, PluginInstance};
use spanwise_batch::{Batch, BatchBuilder, kv};
use std::sync::Arc;

/// Three spans, the first named `first`: tracestates on the second, `sampling.priority` (a
/// string, which counts too) on the third.
fn batch(first: &str) -> Batch {
    let mut request = BatchBuilder::new()
        .span(first, vec![])
        .span("b", vec![])
        .span("c", vec![kv("sampling.priority", "high")])
        .build()
        .into_request();
    request.resource_spans[0].scope_spans[0].spans[1].trace_state = "vendor=x".into();
    Batch::from_request(request)
}

fn instance() -> PluginInstance {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_tests::guest("head_view"), None)
        .unwrap();
    assert!(!plugin.is_sampler(), "a head sampler runs as a processor");
    plugin
        .instantiate(
            Arc::new(PluginContext::new("wasm/head")),
            Limits::default(),
            "{}",
        )
        .unwrap()
}

/// Each span's name, tracestate and `guest.view` attribute, in order.
fn spans(batch: &Batch) -> Vec<(String, String, Option<String>)> {
    batch
        .to_request()
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| {
            let view = s
                .attributes
                .iter()
                .find(|kv| kv.key == "guest.view")
                .and_then(|kv| kv.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(
                        opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s),
                    ) => Some(s.clone()),
                    _ => None,
                });
            (s.name.clone(), s.trace_state.clone(), view)
        })
        .collect()
}

#[test]
fn the_host_hands_over_what_it_read_of_the_batch() {
    let mut instance = instance();
    let mut batch = batch("view");
    instance.process(&mut batch).unwrap();
    let view = Some("len=3 ids=48 states=1 priorities=1".to_owned());
    assert!(
        spans(&batch).iter().all(|span| span.2 == view),
        "{:?}",
        spans(&batch)
    );
}

#[test]
fn returned_edits_are_applied_after_the_call() {
    let mut instance = instance();
    let mut batch = batch("a");
    instance.process(&mut batch).unwrap();
    assert_eq!(
        spans(&batch),
        vec![
            ("b".to_owned(), "ot=th:8".to_owned(), None),
            ("c".to_owned(), "ot=th:8".to_owned(), None),
        ]
    );
    assert_eq!(instance.only_dropped(), None, "it rewrote tracestates too");
}

#[test]
fn refused_returned_edits_fail_the_call_and_change_nothing() {
    let mut instance = instance();
    for (first, row) in [("bad-drop", 3), ("bad-fill", 10)] {
        let mut batch = batch(first);
        let before = batch.to_request();
        match instance.process(&mut batch) {
            Err(CallError::Failed(message)) => {
                assert_eq!(
                    message,
                    format!(
                        "edits could not be applied: row {row} is out of range: the batch has 3 \
                         Span rows"
                    )
                )
            }
            other => panic!("{first}: expected a failed call, got {other:?}"),
        }
        assert_eq!(batch.to_request(), before, "{first}: nothing applied");
    }
    // The instance goes on.
    let mut batch = batch("a");
    instance.process(&mut batch).unwrap();
    assert_eq!(spans(&batch).len(), 2);
    assert_eq!(instance.instantiations(), 1, "no trap, no new instance");
}
