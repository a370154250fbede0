//! The contract's versions: a plugin built against the released WIT 0.1.0 (with wit-bindgen and
//! no SDK) loads and runs on this host, which implements 0.1.7.

use spanwise_batch::{BatchBuilder, Level, Value, kv};

#[test]
fn a_plugin_built_against_0_1_0_runs_on_a_0_1_1_host() {
    // A 0.1.0 component links against the 0.1.7 host.
    let mut old = spanwise_tests::load("contract_0_1_0", "{}");
    let mut batch = BatchBuilder::new()
        .span("GET /health", vec![kv("url.full", "https://h/health")])
        .span("POST /v1/sleep-logs", vec![])
        .build();
    old.instance.process(&mut batch).unwrap();
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
    let mut template =
        spanwise_tests::load("my_plugin", r#"{"remove": "secret", "lowercase": "email"}"#);
    let mut batch = BatchBuilder::new()
        .span(
            "GET",
            vec![kv("secret", "x"), kv("email", "Ana@Example.org")],
        )
        .build();
    template.instance.process(&mut batch).unwrap();
    assert_eq!(
        batch.attribute_rows(Level::Span, &["secret"]),
        vec![Vec::<u32>::new()]
    );
    assert_eq!(
        batch.str_attribute(Level::Span, "email").get(0),
        Some("ana@example.org")
    );
    let counters = &template.counters;
    assert_eq!(
        (counters.get("removed"), counters.get("lowercased")),
        (1, 1)
    );
}
