//! The head sampler through the host as a real `.wasm` component keeps exactly the spans, with
//! exactly the tracestates, that the collector's own `probabilistic_sampler` kept of the same
//! input under every reference config (`plugins/head-sampler/testdata/reference-output.json`),
//! and refuses the configs the collector refuses; and its counters are the native build's. On a
//! batch without tracestates, which it decides in one pass (with WebAssembly SIMD when built
//! as WebAssembly), it keeps what the native build keeps, at the pass's edge cases too.

use spanwise::runtime::{Limits, PluginContext};
use spanwise_batch::Batch;
use spanwise_head_sampler::HeadSampler;
use spanwise_head_sampler::cases::{edge_request, kept, reference, reference_input};
use spanwise_sdk::{Processor, native};
use std::sync::Arc;

#[test]
fn wasm_build_agrees_with_the_collectors_probabilistic_sampler() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_tests::plugin("head_sampler"), None)
        .unwrap();
    let all = reference();
    assert!(all.len() >= 60);
    let mut refused = 0;
    for case in all {
        let context = Arc::new(PluginContext::new("wasm/head"));
        let counters = context.counters.clone();
        let instance = plugin.instantiate(context, Limits::default(), &case.config);
        let expected = match (&case.expected, instance) {
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
        let (expected, mut instance) = expected;
        let mut batch = reference_input();
        instance.process(&mut batch).unwrap();
        assert_eq!(&kept(&batch), expected, "case {:?}", case.name);
        // The same through the request's bytes, as a receiver hands them to a pipeline whose
        // first plugin this is: read and edited without being decoded.
        let mut wire = Batch::from_encoded_indexed(reference_input().to_bytes()).unwrap();
        instance.process(&mut wire).unwrap();
        assert!(wire.is_indexed(), "case {:?}: decoded", case.name);
        assert_eq!(&kept(&wire), expected, "case {:?} in wire form", case.name);

        native::take_counters();
        let mut processor = HeadSampler::configure(&case.config).unwrap();
        native::process(&mut processor, &mut reference_input()).unwrap();
        native::process(
            &mut processor,
            &mut Batch::from_encoded_indexed(reference_input().to_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            counters.snapshot(),
            native::take_counters(),
            "case {:?}: counters differ",
            case.name
        );
    }
    assert_eq!(refused, 5, "the five configs the collector refuses");
}

#[test]
fn wasm_build_decides_a_batch_without_tracestates_as_the_native_build() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_tests::plugin("head_sampler"), None)
        .unwrap();
    for mode in ["proportional", "equalizing"] {
        for percentage in [0.01, 10.0, 30.0, 100.0] {
            for zero in [None, Some(7)] {
                let label = format!("{mode} at {percentage}%, zero id {zero:?}");
                let config = serde_json::json!({"mode": mode, "sampling_percentage": percentage})
                    .to_string();
                let request = edge_request(mode, percentage, zero);
                let context = Arc::new(PluginContext::new("wasm/head"));
                let counters = context.counters.clone();
                let mut instance = plugin
                    .instantiate(context, Limits::default(), &config)
                    .unwrap();
                let mut wire =
                    Batch::from_encoded_indexed(Batch::from_request(request.clone()).to_bytes())
                        .unwrap();
                instance.process(&mut wire).unwrap();

                native::take_counters();
                let mut processor = HeadSampler::configure(&config).unwrap();
                let mut expected = Batch::from_request(request);
                native::process(&mut processor, &mut expected).unwrap();
                let expected = kept(&expected);
                assert!(!expected.is_empty(), "{label}");
                assert_eq!(kept(&wire), expected, "{label}");
                assert_eq!(counters.snapshot(), native::take_counters(), "{label}");
            }
        }
    }
}
