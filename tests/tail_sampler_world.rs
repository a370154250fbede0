//! The tail sampler worlds through the host: a sampler component is told apart from a processor
//! at load, decides on traces given as row groups, its edits are applied only with a full
//! answer, and the `.wasm` answers as its native build does. The sampler is the test guest
//! `tests/guests/sampler` (the SDK's `flat-tail-sampler` world of WIT 0.1.5); a sampler built
//! against the released 0.1.4 `tail-sampler` world (`tests/guests/sampler-0.1.4`) still runs.

use opentelemetry_proto::tonic::trace::v1::Status;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use spanwise::runtime::{CallError, Limits, PluginContext};
use spanwise_batch::{Batch, BatchBuilder};
use spanwise_guest_sampler::TestSampler;
use spanwise_sdk::{Sampler, TraceDecision, TraceDecisions, TraceRows, native};
use std::sync::Arc;

/// Three traces of two spans: the first with an error span, the second's id ending in an even
/// byte, the third's in an odd one.
fn three_traces() -> (Batch, TraceRows) {
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
        TraceRows::from_lists(&[vec![0, 1], vec![2, 3], vec![4, 5]]),
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

/// A configured instance of test guest `guest`, which must load as a tail sampler.
fn sampler(guest: &str, config: &str) -> spanwise::runtime::PluginInstance {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime.load(&spanwise_tests::guest(guest), None).unwrap();
    assert!(plugin.is_sampler());
    plugin
        .instantiate(
            Arc::new(PluginContext::new("tail_sampling")),
            Limits::default(),
            config,
        )
        .unwrap()
}

#[test]
fn a_sampler_component_decides_on_traces_as_its_native_build() {
    let mut instance = sampler("sampler", "{}");
    let (mut batch, traces) = three_traces();
    let decisions = instance.decide(&mut batch, &traces).unwrap();
    assert_eq!(decisions, expected_decisions());
    assert_eq!(decisions.policies, ["errors", "default"], "each name once");
    assert_eq!(seen(&batch), 6, "the sampler's edits are applied");

    let (mut native_batch, traces) = three_traces();
    let mut sampler = TestSampler::configure("{}").unwrap();
    let native_decisions = native::decide(&mut sampler, &mut native_batch, &traces).unwrap();
    assert_eq!(native_decisions, decisions);
    assert_eq!(native_batch.to_request(), batch.to_request());
}

/// What both test samplers decide on `three_traces`.
fn expected_decisions() -> TraceDecisions {
    TraceDecisions::from(vec![
        TraceDecision::keep(1.0, "errors"),
        TraceDecision::keep(0.5, "default"),
        TraceDecision::drop("default"),
    ])
}

#[test]
fn a_sampler_built_against_the_released_0_1_4_world_still_decides() {
    let mut instance = sampler("sampler_0_1_4", "{}");
    let (mut batch, traces) = three_traces();
    let before = batch.to_request();
    let decisions = instance.decide(&mut batch, &traces).unwrap();
    assert_eq!(decisions, expected_decisions());
    assert_eq!(batch.to_request(), before, "it records no edit");
}

#[test]
fn an_answer_of_the_wrong_length_fails_the_call_and_applies_nothing() {
    let mut instance = sampler("sampler", r#"{"short": true}"#);
    let (mut batch, traces) = three_traces();
    let before = batch.to_request();
    match instance.decide(&mut batch, &traces) {
        Err(CallError::Failed(message)) => {
            assert_eq!(
                message,
                "internal error: the sampler gave 2 probabilities and 2 policies for 3 traces"
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

/// The pipelines of `spanwise_tests::tail_config` with the test sampler.
fn tail_pipeline(dir: &std::path::Path, extra: &str) -> Vec<spanwise::pipeline::Pipeline> {
    let config = spanwise_tests::tail_config(dir, &spanwise_tests::guest("sampler"), "", extra);
    let runtime = spanwise_tests::runtime(&dir.join("cache"));
    spanwise::pipeline::build_pipelines(&config, &runtime).expect("the pipeline builds")
}

/// The exported spans: `(name, tracestate, sampling.policy)`.
fn exported(dir: &std::path::Path) -> Vec<(String, String, Option<String>)> {
    spanwise_tests::read_jsonl(&dir.join("traces.jsonl"))
        .into_iter()
        .flat_map(|r| r.resource_spans)
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .map(|s| {
            let policy = s
                .attributes
                .iter()
                .find(|kv| kv.key == "sampling.policy")
                .map(|kv| format!("{:?}", kv.value.as_ref().unwrap().value.as_ref().unwrap()));
            (s.name, s.trace_state, policy)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_sampling_writes_thresholds_and_policies_and_decides_everything_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let pipelines = tail_pipeline(dir.path(), "");
    let (batch, _) = three_traces();
    pipelines[0].consume(batch).await.unwrap();
    assert!(exported(dir.path()).is_empty(), "held for decision_wait");
    pipelines[0].shutdown().await;

    let mut spans = exported(dir.path());
    spans.sort();
    let policy = |name: &str| Some(format!("StringValue({name:?})"));
    assert_eq!(
        spans,
        [
            ("a1".to_owned(), "ot=th:0".to_owned(), policy("errors")),
            ("a2".to_owned(), "ot=th:0".to_owned(), policy("errors")),
            ("b1".to_owned(), "ot=th:8".to_owned(), policy("default")),
            ("b2".to_owned(), "ot=th:8".to_owned(), policy("default")),
        ]
    );
    let stats = &pipelines[0].summaries()[0].stats;
    assert_eq!(stats["traces_kept"], 2);
    assert_eq!(stats["traces_dropped"], 1);
    assert_eq!(stats["spans_dropped"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_num_traces_the_oldest_trace_is_decided_and_its_late_spans_follow_it() {
    let dir = tempfile::tempdir().unwrap();
    let pipelines = tail_pipeline(dir.path(), "    num_traces: 1");
    let (batch, _) = three_traces();
    // One trace at a time: each new trace makes the one before it due.
    let mut request = batch.into_request();
    let spans = std::mem::take(&mut request.resource_spans[0].scope_spans[0].spans);
    let one = |spans: Vec<opentelemetry_proto::tonic::trace::v1::Span>| {
        let mut r = request.clone();
        r.resource_spans[0].scope_spans[0].spans = spans;
        Batch::from_request(r)
    };
    pipelines[0]
        .consume(one(spans[0..2].to_vec()))
        .await
        .unwrap();
    pipelines[0]
        .consume(one(spans[2..4].to_vec()))
        .await
        .unwrap();
    // Trace a was decided (kept: it has an error); its late span goes straight on.
    let mut late = spans[0].clone();
    late.name = "a3 (late)".into();
    pipelines[0].consume(one(vec![late])).await.unwrap();
    pipelines[0].shutdown().await;

    let spans = exported(dir.path());
    let names: Vec<&str> = spans.iter().map(|s| s.0.as_str()).collect();
    for name in ["a1", "a2", "a3 (late)", "b1", "b2"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let late = spans.iter().find(|s| s.0 == "a3 (late)").unwrap();
    assert_eq!(
        (late.1.as_str(), late.2.as_deref()),
        ("ot=th:0", Some("StringValue(\"errors\")")),
        "a late span is marked as its trace was"
    );
    let stats = &pipelines[0].summaries()[0].stats;
    assert_eq!(stats["traces_decided_early"], 1);
    assert_eq!(stats["late_spans_kept"], 1);
}

#[test]
fn a_processor_is_refused_as_a_sampler() {
    let dir = tempfile::tempdir().unwrap();
    let config = spanwise_tests::tail_config(dir.path(), &spanwise_tests::guest("noop"), "", "");
    let runtime = spanwise_tests::runtime(&dir.path().join("cache"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let error = rt
        .block_on(async { spanwise::pipeline::build_pipelines(&config, &runtime).map(|_| ()) })
        .unwrap_err();
    assert_eq!(error.key, "processors.tail_sampling.sampler.plugin");
    assert!(
        error
            .to_string()
            .contains("is a processor, not a tail sampler"),
        "{error}"
    );
}
