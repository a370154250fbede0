//! The `tail-sampler` world (WIT 0.1.4) through the host: a sampler component is told apart from
//! a processor at load, decides on traces given as row groups, its edits are applied only with
//! a full answer, and the `.wasm` answers as its native build does. The sampler is the test
//! guest `tests/guests/sampler`.

use opentelemetry_proto::tonic::trace::v1::Status;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use spanwise::runtime::{CallError, Limits, PluginContext};
use spanwise_batch::{Batch, BatchBuilder};
use spanwise_guest_sampler::TestSampler;
use spanwise_sdk::{Sampler, TraceDecision, native};
use std::sync::Arc;

/// Three traces of two spans: the first with an error span, the second's id ending in an even
/// byte, the third's in an odd one.
fn three_traces() -> (Batch, Vec<Vec<u32>>) {
    let mut builder = BatchBuilder::new();
    for name in ["a1", "a2", "b1", "b2", "c1", "c2"] {
        builder = builder.span(name, vec![]);
    }
    let mut request = builder.build().into_request();
    for (i, span) in request.resource_spans[0].scope_spans[0]
        .spans
        .iter_mut()
        .enumerate()
    {
        let trace = i / 2;
        span.trace_id = [[0xAB; 15].as_slice(), &[[2, 4, 7][trace]]].concat();
        if i == 1 {
            span.status = Some(Status {
                code: StatusCode::Error as i32,
                message: "boom".into(),
            });
        }
    }
    (
        Batch::from_request(request),
        vec![vec![0, 1], vec![2, 3], vec![4, 5]],
    )
}

fn seen(batch: &Batch) -> usize {
    batch
        .resource_spans()
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .filter(|s| s.attributes.iter().any(|kv| kv.key == "sampler.seen"))
        .count()
}

#[test]
fn a_sampler_component_decides_on_traces_as_its_native_build() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_tests::guest("sampler"), None)
        .unwrap();
    assert!(plugin.is_sampler());
    let mut instance = plugin
        .instantiate(
            Arc::new(PluginContext::new("tail_sampling")),
            Limits::default(),
            "{}",
        )
        .unwrap();
    let (mut batch, traces) = three_traces();
    let decisions = instance.decide(&mut batch, &traces).unwrap();
    assert_eq!(
        decisions,
        [
            TraceDecision::keep(1.0, "errors"),
            TraceDecision::keep(0.5, "default"),
            TraceDecision::drop("default"),
        ]
    );
    assert_eq!(seen(&batch), 6, "the sampler's edits are applied");

    let (mut native_batch, traces) = three_traces();
    let mut sampler = TestSampler::configure("{}").unwrap();
    let native_decisions = native::decide(&mut sampler, &mut native_batch, &traces).unwrap();
    assert_eq!(native_decisions, decisions);
    assert_eq!(native_batch.to_request(), batch.to_request());
}

#[test]
fn an_answer_of_the_wrong_length_fails_the_call_and_applies_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_tests::guest("sampler"), None)
        .unwrap();
    let mut instance = plugin
        .instantiate(
            Arc::new(PluginContext::new("tail_sampling")),
            Limits::default(),
            r#"{"short": true}"#,
        )
        .unwrap();
    let (mut batch, traces) = three_traces();
    let before = batch.to_request();
    match instance.decide(&mut batch, &traces) {
        Err(CallError::Failed(message)) => {
            assert_eq!(
                message,
                "internal error: the sampler gave 2 decisions for 3 traces"
            )
        }
        other => panic!("expected a failed call, got {other:?}"),
    }
    assert_eq!(batch.to_request(), before, "nothing applied");
    let mut sampler = TestSampler::configure(r#"{"short": true}"#).unwrap();
    let (mut native_batch, traces) = three_traces();
    assert!(native::decide(&mut sampler, &mut native_batch, &traces).is_err());
}

#[test]
fn processors_and_samplers_are_told_apart() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let noop = runtime.load(&spanwise_tests::guest("noop"), None).unwrap();
    assert!(!noop.is_sampler());
    let context = || Arc::new(PluginContext::new("x"));
    let mut processor = noop
        .instantiate(context(), Limits::default(), "{}")
        .unwrap();
    let (mut batch, traces) = three_traces();
    assert!(matches!(
        processor.decide(&mut batch, &traces),
        Err(CallError::Failed(m)) if m.contains("a processor cannot decide")
    ));
    let sampler = runtime
        .load(&spanwise_tests::guest("sampler"), None)
        .unwrap();
    let mut sampler = sampler
        .instantiate(context(), Limits::default(), "{}")
        .unwrap();
    assert!(matches!(
        sampler.process(&mut batch),
        Err(CallError::Failed(m)) if m.contains("a tail sampler cannot run as a processor")
    ));
}
