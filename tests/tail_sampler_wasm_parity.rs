//! The tail sampler through the host as a real `.wasm` component keeps exactly the spans that
//! the collector's own `tail_sampling` processor kept of the same input under every reference
//! config (`plugins/tail-sampler/testdata/reference-output.json`), refuses the configs the
//! collector refuses, and decides the platform's rated categories as its native build does,
//! whichever row of a long batch is the only one with the attribute a policy reads (the check
//! for a column with any value has a WebAssembly SIMD version of its own).

use spanwise::runtime::{Limits, PluginContext};
use spanwise_batch::{BatchBuilder, kv};
use spanwise_sdk::{Sampler, native};
use spanwise_tail_sampler::TailSampler;
use spanwise_tail_sampler::cases::{kept, reference, reference_input, traces_of};
use std::sync::Arc;

#[test]
fn wasm_build_agrees_with_the_collectors_tail_sampling_processor() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_tests::plugin("tail_sampler"), None)
        .unwrap();
    assert!(plugin.is_sampler());
    let all = reference();
    assert!(all.len() >= 70);
    let mut refused = 0;
    for case in all {
        let context = Arc::new(PluginContext::new("tail_sampling"));
        let instance = plugin.instantiate(context, Limits::default(), &case.config);
        let (expected, mut instance) = match (&case.expected, instance) {
            (Err(_), Err(_)) => {
                refused += 1;
                continue;
            }
            (Ok(expected), Ok(instance)) => (expected, instance),
            (expected, Err(e)) => {
                panic!("case {:?}: refused ({e}), expected {expected:?}", case.name)
            }
            (Err(e), Ok(_)) => panic!("case {:?}: the collector refused it: {e}", case.name),
        };
        let mut batch = reference_input();
        let traces = traces_of(&batch);
        let decisions = instance.decide(&mut batch, &traces).unwrap();
        assert_eq!(
            &kept(&batch, &traces, &decisions),
            expected,
            "case {:?}",
            case.name
        );
    }
    assert_eq!(refused, 2, "the two configs the collector refuses");
}

#[test]
fn wasm_build_decides_rated_categories_as_the_native_build() {
    let config = r#"{
        "policies": [{"name": "no-health", "type": "drop", "drop": {"drop_sub_policy": [
            {"name": "h", "type": "string_attribute", "string_attribute": {"key": "service.name", "values": ["health"]}}]}}],
        "rates": [
            {"name": "errors", "when": {"status_code": "ERROR"}, "percentage": 50},
            {"name": "slow", "when": {"latency": {"threshold_ms": 2000}}, "percentage": 30},
            {"name": "default", "percentage": 10}]}"#;
    let mut loaded = spanwise_tests::load("tail_sampler", config);
    let mut batch = reference_input();
    let traces = traces_of(&batch);
    let decisions = loaded.instance.decide(&mut batch, &traces).unwrap();
    let mut sampler = TailSampler::configure(config).unwrap();
    let mut native_batch = reference_input();
    assert_eq!(
        native::decide(&mut sampler, &mut native_batch, &traces).unwrap(),
        decisions
    );
    for name in ["no-health", "errors", "slow", "default"] {
        assert!(
            decisions.iter().any(|d| d.policy == name),
            "the input has {name} traces"
        );
    }
    assert!(decisions.iter().any(|d| d.keep) && decisions.iter().any(|d| !d.keep));
}

#[test]
fn wasm_build_finds_the_one_row_with_an_attribute_wherever_it_is() {
    let config = r#"{"policies": [
        {"name": "tenant", "type": "string_attribute",
         "string_attribute": {"key": "tenant.id", "values": ["t-1"]}}]}"#;
    let mut loaded = spanwise_tests::load("tail_sampler", config);
    let mut sampler = TailSampler::configure(config).unwrap();
    // 200 one-span traces, one of which has the attribute: the rows around the rounds of 16,
    // 32 and 64 bytes of that check, and the last row.
    for at in [
        0, 1, 15, 16, 31, 32, 47, 48, 63, 64, 65, 127, 128, 191, 192, 199,
    ] {
        let mut builder = BatchBuilder::new();
        for row in 0..200 {
            let attributes = if row == at {
                vec![kv("tenant.id", "t-1")]
            } else {
                vec![]
            };
            builder = builder.span("op", attributes);
        }
        let mut batch = builder.build();
        let traces = traces_of(&batch);
        let mut native_batch = batch.clone();
        let decisions = loaded.instance.decide(&mut batch, &traces).unwrap();
        assert_eq!(
            native::decide(&mut sampler, &mut native_batch, &traces).unwrap(),
            decisions,
            "row {at}"
        );
        let kept: Vec<usize> = decisions
            .iter()
            .enumerate()
            .filter(|(_, d)| d.keep)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(kept, [at], "row {at}");
    }
}
