//! The URL plugin through the host as a real `.wasm` component gives exactly what its native
//! build gives, batch and counters, for every case of its unit tests, and for URLs with a
//! control, a space or a wide character at every position (its check of each value has a
//! WebAssembly SIMD version of its own).

use spanwise::runtime::{Limits, PluginContext};
use spanwise_batch::{Batch, BatchBuilder, Level, StrField, kv};
use spanwise_sdk::{Processor, native};
use spanwise_url::UrlProcessor;
use std::sync::Arc;

fn cases() -> Vec<(&'static str, &'static str, Batch)> {
    let long = format!("https://h/{}?q=1", "a".repeat(300));
    vec![
        (
            "query stripping",
            "{}",
            BatchBuilder::new()
                .span(
                    "GET /v1/sleep-logs",
                    vec![
                        kv(
                            "url.full",
                            "https://api.dtx.example/v1/sleep-logs?patient_id=P-1&token=t#frag",
                        ),
                        kv("http.target", "/v1/sleep-logs?patient_id=P-1"),
                        kv("url.query", "patient_id=P-1&token=t"),
                        kv("url.fragment", "access_token=x"),
                    ],
                )
                .build(),
        ),
        (
            "keep list",
            r#"{"keep_params": ["page"]}"#,
            BatchBuilder::new()
                .span(
                    "GET",
                    vec![
                        kv("url.full", "https://h/logs?token=t&page=2"),
                        kv("url.query", "token=t&page=2"),
                    ],
                )
                .build(),
        ),
        (
            "id collapsing and span names",
            r#"{"collapse_ids": true, "span_names": true}"#,
            BatchBuilder::new()
                .span(
                    "GET /users/123?x=1",
                    vec![kv(
                        "url.path",
                        "/users/123/sleep/3f2b8c1e-9d4a-4f6b-8e2a-1c5d7e9f0a1b",
                    )],
                )
                .span("POST /questionnaires", vec![])
                .build(),
        ),
        (
            "max length",
            r#"{"max_length": 64, "truncation_marker": "[cut]"}"#,
            BatchBuilder::new()
                .span("GET", vec![kv("url.full", long.as_str())])
                .build(),
        ),
        (
            "malformed and non-string values",
            "{}",
            BatchBuilder::new()
                .span("GET", vec![kv("url.full", "not a url?token=t")])
                .span("GET", vec![kv("url.full", 42i64), kv("http.target", true)])
                .build(),
        ),
        (
            "extract idiom",
            r#"{"extract": "^(https?://[^/]+/[^?]*)", "query_attributes": []}"#,
            BatchBuilder::new()
                .span(
                    "GET",
                    vec![kv("url.full", "https://h/v1/sleep-logs?token=t")],
                )
                .span("GET", vec![kv("http.url", "http://h/v1/q/42?session=s")])
                .span("GET", vec![kv("http.target", "/relative?x=1")])
                .build(),
        ),
        (
            "resource and event attributes are not touched",
            "{}",
            BatchBuilder::new()
                .resource(vec![kv("url.full", "https://resource/x?secret=1")])
                .span("GET", vec![])
                .event("redirect", vec![kv("url.full", "https://event/x?secret=1")])
                .build(),
        ),
    ]
}

#[test]
fn wasm_and_native_builds_agree_on_every_case() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime.load(&spanwise_tests::plugin("url"), None).unwrap();

    for (name, config, batch) in cases() {
        let mut native_batch = batch.clone();
        native::take_counters();
        let mut processor = UrlProcessor::configure(config).unwrap();
        native::process(&mut processor, &mut native_batch).unwrap();
        let native_counters = native::take_counters();

        let context = Arc::new(PluginContext::new("wasm/url"));
        let counters = context.counters.clone();
        let mut instance = plugin
            .instantiate(context, Limits::default(), config)
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
        let leaves_alone = [
            "malformed and non-string values",
            "resource and event attributes are not touched",
        ];
        if leaves_alone.contains(&name) {
            assert_eq!(
                wasm_batch.to_request(),
                batch.to_request(),
                "case {name:?} changed something"
            );
        } else {
            assert_ne!(
                wasm_batch.to_request(),
                batch.to_request(),
                "case {name:?} changed nothing"
            );
        }
    }
}

#[test]
fn wasm_build_rewrites_what_the_unit_tests_expect() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime.load(&spanwise_tests::plugin("url"), None).unwrap();
    let context = Arc::new(PluginContext::new("wasm/url"));
    let mut instance = plugin
        .instantiate(
            context,
            Limits::default(),
            r#"{"collapse_ids": true, "span_names": true, "keep_params": ["page"]}"#,
        )
        .unwrap();
    let mut batch = BatchBuilder::new()
        .span(
            "GET /users/123",
            vec![kv("url.full", "https://h/users/123?token=t&page=2")],
        )
        .build();
    instance.process(&mut batch).unwrap();
    assert_eq!(
        batch.str_field(StrField::Name).get(0),
        Some("GET /users/{id}")
    );
    assert_eq!(
        batch.str_attribute(Level::Span, "url.full").get(0),
        Some("https://h/users/{id}?page=2")
    );
}

#[test]
fn bad_plugin_config_is_refused_at_load_naming_the_field() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime.load(&spanwise_tests::plugin("url"), None).unwrap();
    let context = Arc::new(PluginContext::new("wasm/url"));
    let error = plugin
        .instantiate(context, Limits::default(), r#"{"max_length": "long"}"#)
        .unwrap_err();
    match error {
        spanwise::runtime::LoadError::Config { field, message, .. } => {
            assert_eq!(field, "max_length");
            assert!(message.contains("invalid type"), "{message}");
        }
        other => panic!("expected a config error, got {other}"),
    }
}

#[test]
fn wasm_and_native_builds_agree_on_odd_characters_anywhere() {
    let config = r#"{"collapse_ids": true}"#;

    // A URL the plugin rewrites when it is well formed (a query to strip, an id to collapse),
    // padded to lengths around the check's rounds of 16, 32 and 64 bytes, with one odd
    // character at each position of the padding.
    let mut builder = BatchBuilder::new();
    let mut spans = 0;
    for len in [0, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129] {
        for odd in ["\0", "\t", " ", "\x1f", "\x7f", "~", "é", "\u{a0}", "%4"] {
            for at in 0..=len {
                let mut padding = "a".repeat(len);
                padding.insert_str(at, odd);
                let url = format!("https://h/users/12345/{padding}?token=x");
                builder = builder.span("GET", vec![kv("url.full", url.as_str())]);
                spans += 1;
            }
        }
    }
    let batch = builder.build();

    let both = spanwise_tests::both_builds::<UrlProcessor>("url", config, &batch);
    assert_eq!(both.wasm.to_request(), both.native.to_request());
    assert_eq!(both.wasm_counters, both.native_counters);
    // Both kinds are there: the URLs with "~" in them are rewritten, the others are not.
    let rewritten = both
        .wasm
        .str_attribute(Level::Span, "url.full")
        .iter()
        .filter(|url| url.is_some_and(|url| url.contains("{id}")))
        .count();
    assert!(rewritten > 0 && rewritten < spans, "{rewritten} of {spans}");
}
