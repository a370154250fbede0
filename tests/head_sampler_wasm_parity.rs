//! The head sampler through the host as a real `.wasm` component keeps exactly the spans, with
//! exactly the tracestates, that the collector's own `probabilistic_sampler` kept of the same
//! input under every reference config (`plugins/head-sampler/testdata/reference-output.json`),
//! and refuses the configs the collector refuses; and its counters are the native build's.

use spanwise::runtime::{Limits, PluginContext};
use spanwise_batch::Batch;
use spanwise_head_sampler::HeadSampler;
use spanwise_head_sampler::cases::{kept, reference, reference_input};
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
