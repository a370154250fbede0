//! The URL processor run natively over host batches, as the WebAssembly build runs in the host.

use super::UrlProcessor;
use spanwise_batch::{Batch, BatchBuilder, Level, StrField, Value, kv};
use spanwise_sdk::{Processor, native};

fn run(config: &str, batch: &mut Batch) -> std::collections::BTreeMap<String, u64> {
    native::take_counters();
    let mut processor = UrlProcessor::configure(config).unwrap();
    native::process(&mut processor, batch).unwrap();
    native::take_counters()
}

fn span_attr(batch: &Batch, key: &str) -> Vec<Option<String>> {
    batch
        .str_attribute(Level::Span, key)
        .iter()
        .map(|v| v.map(String::from))
        .collect()
}

#[test]
fn default_config_strips_every_url_attribute_and_drops_query_attributes() {
    let mut batch = BatchBuilder::new()
        .span(
            "GET /v1/sleep-logs",
            vec![
                kv(
                    "url.full",
                    "https://api.dtx.example/v1/sleep-logs?patient_id=P-1&token=t",
                ),
                kv("http.target", "/v1/sleep-logs?patient_id=P-1"),
                kv("url.query", "patient_id=P-1&token=t"),
                kv("url.fragment", "access_token=x"),
                kv("http.method", "GET"),
            ],
        )
        .build();
    let counters = run("{}", &mut batch);
    assert_eq!(
        span_attr(&batch, "url.full"),
        vec![Some("https://api.dtx.example/v1/sleep-logs".into())]
    );
    assert_eq!(
        span_attr(&batch, "http.target"),
        vec![Some("/v1/sleep-logs".into())]
    );
    assert_eq!(span_attr(&batch, "url.query"), vec![None]);
    assert_eq!(span_attr(&batch, "url.fragment"), vec![None]);
    assert_eq!(span_attr(&batch, "http.method"), vec![Some("GET".into())]);
    assert_eq!(counters["urls_rewritten"], 2);
    assert_eq!(counters["query_attributes_filtered"], 1);
    assert_eq!(counters["attributes_removed"], 1);
}

#[test]
fn keep_params_survive_in_urls_and_query_attributes() {
    let mut batch = BatchBuilder::new()
        .span(
            "GET",
            vec![
                kv("url.full", "https://h/logs?token=t&page=2"),
                kv("url.query", "token=t&page=2"),
            ],
        )
        .build();
    run(r#"{"keep_params": ["page"]}"#, &mut batch);
    assert_eq!(
        span_attr(&batch, "url.full"),
        vec![Some("https://h/logs?page=2".into())]
    );
    assert_eq!(span_attr(&batch, "url.query"), vec![Some("page=2".into())]);
}

#[test]
fn ids_collapse_in_attributes_and_span_names() {
    let mut batch = BatchBuilder::new()
        .span(
            "GET /users/123",
            vec![kv("url.path", "/users/123/sleep/9f1c2d3e4b5a69788796a5b4")],
        )
        .span("POST /questionnaires", vec![])
        .build();
    let counters = run(r#"{"collapse_ids": true, "span_names": true}"#, &mut batch);
    assert_eq!(
        batch.str_field(StrField::Name).iter().collect::<Vec<_>>(),
        vec![Some("GET /users/{id}"), Some("POST /questionnaires")]
    );
    assert_eq!(
        span_attr(&batch, "url.path"),
        vec![Some("/users/{id}/sleep/{id}".into()), None]
    );
    assert_eq!(counters["span_names_rewritten"], 1);
}

#[test]
fn max_length_truncates_and_counts() {
    let long = format!("https://h/{}", "a".repeat(300));
    let mut batch = BatchBuilder::new()
        .span("GET", vec![kv("url.full", long.as_str())])
        .build();
    let counters = run(
        r#"{"max_length": 64, "truncation_marker": "[cut]"}"#,
        &mut batch,
    );
    let value = span_attr(&batch, "url.full")[0].clone().unwrap();
    assert_eq!(value.len(), 64);
    assert!(value.ends_with("[cut]"));
    assert_eq!(counters["urls_truncated"], 1);
}

#[test]
fn malformed_urls_and_non_strings_are_left_alone() {
    let mut batch = BatchBuilder::new()
        .span("GET", vec![kv("url.full", "not a url?token=t")])
        .span("GET", vec![kv("url.full", 42i64), kv("http.target", true)])
        .build();
    let before = batch.to_request();
    let counters = run("{}", &mut batch);
    assert_eq!(batch.to_request(), before);
    assert_eq!(counters["urls_malformed"], 1);
    assert_eq!(
        batch.attribute(Level::Span, "url.full")[1],
        Some(Value::Int(42))
    );
}

#[test]
fn extract_idiom_gives_the_same_batch_as_stripping() {
    let build = || {
        BatchBuilder::new()
            .span(
                "GET",
                vec![kv("url.full", "https://h/v1/sleep-logs?token=t")],
            )
            .span("GET", vec![kv("http.url", "http://h/v1/q/42?session=s")])
            .build()
    };
    let (mut stripped, mut extracted) = (build(), build());
    run("{}", &mut stripped);
    run(
        r#"{"extract": "^(https?://[^/]+/[^?]*)", "query_attributes": []}"#,
        &mut extracted,
    );
    assert_eq!(stripped.to_request(), extracted.to_request());
}

#[test]
fn bad_config_names_the_field() {
    let err = UrlProcessor::configure(r#"{"keep_param": ["page"]}"#).unwrap_err();
    assert!(err.message.contains("unknown field `keep_param`"), "{err}");
    let err = UrlProcessor::configure(r#"{"max_length": "long"}"#).unwrap_err();
    assert_eq!(err.field, "max_length");
    let err = UrlProcessor::configure(r#"{"extract": "(["}"#).unwrap_err();
    assert_eq!(err.field, "extract");
    let err = UrlProcessor::configure(r#"{"min_hex_length": 4}"#).unwrap_err();
    assert_eq!(err.field, "min_hex_length");
}
