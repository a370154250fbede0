//! The filter plugin through the host as a real `.wasm` component gives exactly what its native
//! build gives, batch and counters, for every shared case (`spanwise_filter::cases`): each span
//! path and value type, the platform's config, span events, and `error_mode`.

use spanwise::runtime::{Limits, PluginContext};
use spanwise_filter::{Filter, cases};
use spanwise_sdk::{Processor, native};
use std::sync::Arc;

#[test]
fn wasm_and_native_builds_agree_on_every_case() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_tests::plugin("filter"), None)
        .unwrap();

    let all = cases::cases();
    assert!(all.len() > cases::HOLD_ON_RICH_BATCH.len());
    for (name, config, batch) in all {
        let config = config.to_string();
        let mut native_batch = batch.clone();
        native::take_counters();
        let mut processor = Filter::configure(&config).unwrap();
        native::process(&mut processor, &mut native_batch).unwrap();
        let native_counters = native::take_counters();

        let context = Arc::new(PluginContext::new("wasm/filter"));
        let counters = context.counters.clone();
        let mut instance = plugin
            .instantiate(context, Limits::default(), &config)
            .unwrap();
        let mut wasm_batch = batch.clone();
        instance.process(&mut wasm_batch).unwrap();

        assert_eq!(
            wasm_batch.to_request(),
            native_batch.to_request(),
            "case {name:?}: batches differ"
        );
        assert_eq!(
            counters.snapshot(),
            native_counters,
            "case {name:?}: counters differ"
        );
        // Every case drops something: a case that drops nothing would prove nothing here.
        assert_ne!(
            wasm_batch.to_request(),
            batch.to_request(),
            "case {name:?} dropped nothing"
        );
    }
}

#[test]
fn a_syntax_error_is_refused_at_load_with_index_and_column() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_tests::plugin("filter"), None)
        .unwrap();
    let context = Arc::new(PluginContext::new("wasm/filter"));
    let error = plugin
        .instantiate(
            context,
            Limits::default(),
            r#"{"traces": {"span": ["name == \"a\"", "name == \"b\" and"]}}"#,
        )
        .unwrap_err();
    match error {
        spanwise::runtime::LoadError::Config { field, message, .. } => {
            assert_eq!(field, "traces.span[1]");
            assert!(
                message.starts_with(
                    r#""name == \"b\" and": column 16: expected a value, found the end"#
                ),
                "{message}"
            );
        }
        other => panic!("expected a config error, got {other}"),
    }
}

/// The collector's own filter processor's results (`testdata/reference-output.json`), through the
/// `.wasm`: the same spans and events kept, the same configs refused, the same batch failed.
#[test]
fn wasm_build_agrees_with_the_collectors_filter_processor() {
    use cases::{Expected, kept, reference, reference_input};
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_tests::plugin("filter"), None)
        .unwrap();
    for case in reference() {
        let context = Arc::new(PluginContext::new("wasm/filter"));
        let actual = match plugin.instantiate(context, Limits::default(), &case.config) {
            Err(e) => Expected::ConfigError(e.to_string()),
            Ok(mut instance) => {
                let mut batch = reference_input();
                let decoded = match instance.process(&mut batch) {
                    Ok(_) => Expected::Kept(kept(&batch)),
                    Err(e) => Expected::ProcessError(e.to_string()),
                };
                // The same through the request's bytes, indexed as a receiver takes them for
                // a pipeline whose first plugin this is.
                let mut wire =
                    spanwise_batch::Batch::from_encoded_indexed(reference_input().to_bytes())
                        .unwrap();
                let in_wire_form = match instance.process(&mut wire) {
                    Ok(_) => Expected::Kept(kept(&wire)),
                    Err(e) => Expected::ProcessError(e.to_string()),
                };
                assert_eq!(in_wire_form, decoded, "case {:?} in wire form", case.name);
                decoded
            }
        };
        match (&case.expected, &actual) {
            (Expected::ConfigError(_), Expected::ConfigError(_))
            | (Expected::ProcessError(_), Expected::ProcessError(_)) => {}
            (expected, actual) => assert_eq!(actual, expected, "case {:?}", case.name),
        }
    }
}
