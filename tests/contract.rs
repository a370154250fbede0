//! The contract's versions: a plugin built against the released WIT 0.1.0 (with wit-bindgen and
//! no SDK) loads and runs on this host, which implements 0.1.1.

use spanwise::runtime::{Limits, PluginContext};
use spanwise_batch::{BatchBuilder, Level, Value, kv};
use std::sync::Arc;

#[test]
fn a_plugin_built_against_0_1_0_runs_on_a_0_1_1_host() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_tests::guest("contract_0_1_0"), None)
        .expect("a 0.1.0 component links against the 0.1.1 host");
    let mut instance = plugin
        .instantiate(
            Arc::new(PluginContext::new("wasm/old")),
            Limits::default(),
            "{}",
        )
        .unwrap();
    let mut batch = BatchBuilder::new()
        .span("GET /health", vec![kv("url.full", "https://h/health")])
        .span("POST /v1/sleep-logs", vec![])
        .build();
    instance.process(&mut batch).unwrap();
    assert_eq!(
        batch
            .str_attribute(Level::Span, "guest.contract")
            .iter()
            .collect::<Vec<_>>(),
        vec![Some("0.1.0"), Some("0.1.0")]
    );
    assert_eq!(
        batch.attribute(Level::Span, "guest.name_length"),
        vec![Some(Value::Int(11)), Some(Value::Int(19))]
    );
}

#[test]
fn the_sdk_plugin_template_runs_as_a_component() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_tests::guest("my_plugin"), None)
        .unwrap();
    let context = Arc::new(PluginContext::new("wasm/my-plugin"));
    let counters = context.counters.clone();
    let mut instance = plugin
        .instantiate(
            context,
            Limits::default(),
            r#"{"remove": "secret", "lowercase": "email"}"#,
        )
        .unwrap();
    let mut batch = BatchBuilder::new()
        .span(
            "GET",
            vec![kv("secret", "x"), kv("email", "Ana@Example.org")],
        )
        .build();
    instance.process(&mut batch).unwrap();
    assert_eq!(
        batch.attribute_rows(Level::Span, &["secret"]),
        vec![Vec::<u32>::new()]
    );
    assert_eq!(
        batch.str_attribute(Level::Span, "email").get(0),
        Some("ana@example.org")
    );
    assert_eq!(
        (counters.get("removed"), counters.get("lowercased")),
        (1, 1)
    );
}
