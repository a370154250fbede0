//! The redact plugin through the host as a real `.wasm` component gives exactly what its native
//! build gives, batch and counters, on every reference case (the cases the collector's own
//! processors are compared with in the plugin's unit tests), and on values of every length up
//! to past 64 bytes with a match at every position (the values are joined for the blocked
//! patterns' search, with a copy of its own for short values in WebAssembly).

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use spanwise::runtime::{Limits, PluginContext};
use spanwise_batch::{Batch, BatchBuilder, kv};
use spanwise_redact::Redact;
use spanwise_sdk::{Processor, native};
use std::sync::Arc;

fn testdata(file: &str) -> Vec<serde_json::Value> {
    let path = spanwise_tests::root()
        .join("plugins/redact/testdata")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The plugin config of a reference case (the collector's block, redaction under `redaction`,
/// its inline key moved to the host's key `reference`), and that key.
fn plugin_config(case: &serde_json::Value) -> (String, Option<Vec<u8>>) {
    let mut config = case["config"].clone();
    if case["processor"] != "redaction" {
        return (config.to_string(), None);
    }
    let key = config
        .as_object_mut()
        .and_then(|m| m.remove("hmac_key"))
        .map(|k| k.as_str().unwrap().as_bytes().to_vec());
    if key.is_some() {
        config["key_name"] = "reference".into();
    }
    (serde_json::json!({ "redaction": config }).to_string(), key)
}

#[test]
fn wasm_and_native_builds_agree_on_every_reference_case() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_tests::plugin("redact"), None)
        .unwrap();
    for case in testdata("reference-cases.json") {
        let name = case["name"].as_str().unwrap();
        let (config, key) = plugin_config(&case);
        let input: ExportTraceServiceRequest =
            serde_json::from_value(case["input"].clone()).unwrap();

        native::with_context(|c| {
            c.keys.clear();
            if let Some(key) = &key {
                c.keys.insert("reference".into(), key.clone());
            }
        });
        native::take_counters();
        let mut processor = Redact::configure(&config).unwrap();
        let mut native_batch = Batch::from_request(input.clone());
        native::process(&mut processor, &mut native_batch).unwrap();
        let native_counters = native::take_counters();

        let mut context = PluginContext::new("wasm/redact");
        if let Some(key) = &key {
            context.keys.insert("reference".into(), key.clone());
        }
        let context = Arc::new(context);
        let counters = context.counters.clone();
        let mut instance = plugin
            .instantiate(context, Limits::default(), &config)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut wasm_batch = Batch::from_request(input);
        instance.process(&mut wasm_batch).unwrap();

        assert_eq!(wasm_batch.to_request(), native_batch.to_request(), "{name}");
        let wasm_counters: std::collections::BTreeMap<String, u64> = counters
            .snapshot()
            .into_iter()
            .filter(|(_, v)| *v > 0)
            .collect();
        let native_counters: std::collections::BTreeMap<String, u64> = native_counters
            .into_iter()
            .filter(|(_, v)| *v > 0)
            .collect();
        assert_eq!(wasm_counters, native_counters, "{name}: counters");
    }
}

#[test]
fn wasm_and_native_builds_mask_values_of_every_length_alike() {
    let config = r#"{"redaction": {"allow_all_keys": true, "blocked_values": ["[0-9]"]}}"#;
    // Values of 1 to 80 bytes, each with one digit, at every position: a byte copied wrongly
    // into the join would hide a digit from the search.
    let mut builder = BatchBuilder::new();
    let mut with_id = 0;
    for len in 1..=80usize {
        for at in 0..len {
            let mut value = "x".repeat(len);
            value.replace_range(at..=at, "7");
            builder = builder.span("op", vec![kv("note", value.as_str()), kv("n", "y")]);
            with_id += 1;
        }
    }
    let batch = builder.build();

    let both = spanwise_tests::both_builds::<Redact>("redact", config, &batch);
    assert_eq!(both.wasm.to_request(), both.native.to_request());
    assert_eq!(both.wasm_counters, both.native_counters);
    let masked = both
        .wasm
        .str_attribute(spanwise_batch::Level::Span, "note")
        .iter()
        .filter(|value| value.is_some_and(|v| v.contains("****")))
        .count();
    assert_eq!(masked, with_id);
}
