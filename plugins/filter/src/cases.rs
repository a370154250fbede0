//! Batches and conditions shared by the unit tests and by the test that runs the same cases
//! through the real `.wasm` (`tests/filter_wasm_parity.rs`). Built with the `cases` feature.

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::trace::v1::{Span, Status, span::Event};
use spanwise_batch::{Batch, BatchBuilder, kv};

/// The cases and their shared input.
const CASES: &str = include_str!("../testdata/reference-cases.json");
/// What the collector made of each case.
const OUTPUT: &str = include_str!("../testdata/reference-output.json");

/// A span with these times (ns since the epoch) and attributes.
pub fn timed(name: &str, start: u64, end: u64, attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![7; 16],
        span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
        name: name.into(),
        kind: 2,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes,
        ..Default::default()
    }
}

fn any(value: any_value::Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(value) })
}

/// One span of every shape the paths read, in its own resource and scope.
pub fn rich_batch() -> Batch {
    use any_value::Value as V;
    let map = KeyValue {
        key: "m".into(),
        value: any(V::KvlistValue(KeyValueList {
            values: vec![kv("sub", "deep")],
        })),
        ..Default::default()
    };
    let list = KeyValue {
        key: "l".into(),
        value: any(V::ArrayValue(ArrayValue {
            values: vec![any(V::IntValue(1)).unwrap(), any(V::IntValue(2)).unwrap()],
        })),
        ..Default::default()
    };
    let bytes = KeyValue {
        key: "bytes".into(),
        value: any(V::BytesValue(vec![0xab, 0xcd])),
        ..Default::default()
    };
    let mut span = timed(
        "GET /sessions",
        1_000,
        3_000,
        vec![
            kv("s", "text"),
            kv("i", 42i64),
            kv("d", 2.5),
            kv("b", true),
            map,
            list,
            bytes,
        ],
    );
    span.kind = 3;
    span.status = Some(Status {
        code: 2,
        message: "boom".into(),
    });
    span.trace_state = "vendor=x".into();
    span.parent_span_id = vec![0, 0, 0, 0, 0, 0, 0, 9];
    span.flags = 0x101;
    span.events.push(Event {
        time_unix_nano: 2_000,
        name: "exception".into(),
        attributes: vec![kv("exception.type", "Timeout")],
        ..Default::default()
    });
    BatchBuilder::new()
        .resource(vec![kv("service.name", "sessions")])
        .push_span(span)
        .build()
}

/// Conditions that hold on [`rich_batch`]'s span, one per path and type.
pub const HOLD_ON_RICH_BATCH: &[&str] = &[
    r#"attributes["s"] == "text""#,
    r#"span.attributes["i"] == 42"#,
    r#"attributes["i"] > 41.5"#,
    r#"attributes["d"] == 2.5"#,
    r#"attributes["b"] == true"#,
    r#"attributes["m"]["sub"] == "deep""#,
    r#"attributes["l"][1] == 2"#,
    r#"attributes["bytes"] == 0xabcd"#,
    r#"attributes["missing"] == nil"#,
    r#"IsMap(attributes["m"]) and IsList(attributes["l"]) and IsDouble(attributes["d"])"#,
    r#"IsMatch(attributes["m"], "^\\{\"sub\":\"deep\"\\}$")"#,
    r#"IsMatch(attributes["bytes"], "^abcd$")"#,
    r#"Len(attributes["l"]) == 2"#,
    r#"resource.attributes["service.name"] == "sessions""#,
    r#"instrumentation_scope.name == "spanwise.builder""#,
    r#"instrumentation_scope.version == "1""#,
    r#"instrumentation_scope.attributes["none"] == nil"#,
    r#"name == "GET /sessions""#,
    r#"span.name == "GET /sessions""#,
    "kind == SPAN_KIND_CLIENT",
    r#"kind.string == "Client""#,
    "status.code == STATUS_CODE_ERROR",
    r#"status.message == "boom""#,
    "trace_id == TraceID(0x07070707070707070707070707070707)",
    r#"trace_id.string == "07070707070707070707070707070707""#,
    "span_id == SpanID(0x0102030405060708)",
    r#"span_id.string == "0102030405060708""#,
    "parent_span_id == SpanID(0x0000000000000009)",
    r#"parent_span_id.string == "0000000000000009""#,
    "not IsRootSpan()",
    r#"trace_state == "vendor=x""#,
    "flags == 257",
    "start_time_unix_nano == 1000",
    "end_time_unix_nano == 3000",
    "duration == 2000",
    "end_time_unix_nano - start_time_unix_nano == 2000",
];

/// `(name, config, batch)`: the platform's config, span events, error modes.
pub fn cases() -> Vec<(&'static str, serde_json::Value, Batch)> {
    let t = 1_700_000_000_000_000_000u64;
    let platform = serde_json::json!({"traces": {"span": [
        r#"attributes["http.route"] == "/health""#,
        r#"attributes["grpc.method"] == "Health/Check""#,
        "end_time_unix_nano - start_time_unix_nano < 1000000",
    ]}});
    let mut cases = vec![(
        "platform",
        platform,
        BatchBuilder::new()
            .push_span(timed(
                "GET /health",
                t,
                t + 5_000_000,
                vec![kv("http.route", "/health")],
            ))
            .push_span(timed(
                "Check",
                t,
                t + 5_000_000,
                vec![kv("grpc.method", "Health/Check")],
            ))
            .push_span(timed(
                "fast",
                t,
                t + 999_999,
                vec![kv("http.route", "/sessions")],
            ))
            .push_span(timed("exactly 1ms", t, t + 1_000_000, vec![]))
            .push_span(timed(
                "GET /sessions",
                t,
                t + 20_000_000,
                vec![kv("http.route", "/sessions")],
            ))
            .push_span(timed(
                "route as int",
                t,
                t + 5_000_000,
                vec![kv("http.route", 404i64)],
            ))
            .build(),
    )];
    cases.push((
        "span events",
        serde_json::json!({"traces": {"spanevent": [
            r#"name == "cache.hit""#,
            r#"attributes["level"] == "debug" and span.name == "GET""#,
        ]}}),
        BatchBuilder::new()
            .span("GET", vec![])
            .event("cache.hit", vec![])
            .event("log", vec![kv("level", "debug")])
            .event("exception", vec![kv("exception.type", "Timeout")])
            .span("POST", vec![])
            .event("log", vec![kv("level", "debug")])
            .event("cache.hit", vec![])
            .build(),
    ));
    cases.push((
        "spans and their events",
        serde_json::json!({"traces": {
            "span": [r#"name == "GET""#],
            "spanevent": ["time_unix_nano > 0"],
        }}),
        BatchBuilder::new()
            .span("GET", vec![])
            .event("a", vec![])
            .span("POST", vec![])
            .event("b", vec![])
            .build(),
    ));
    cases.push((
        "error_mode ignore",
        serde_json::json!({"traces": {"span": [r#"Len(attributes["n"]) > 2"#, r#"name == "drop""#]}}),
        BatchBuilder::new()
            .span("drop", vec![kv("n", 1i64)])
            .span("keep", vec![kv("n", 2i64)])
            .span("keep too", vec![kv("n", "ab")])
            .build(),
    ));
    for condition in HOLD_ON_RICH_BATCH {
        cases.push((
            condition,
            serde_json::json!({"traces": {"span": [condition]}}),
            rich_batch(),
        ));
    }
    cases
}

/// One config of `testdata/reference-cases.json` with what the collector's own filter processor
/// (contrib v0.161.0) made of the shared input (`testdata/reference-output.json`).
pub struct Reference {
    /// The case's name.
    pub name: String,
    /// The config, as the collector read it (ours is the same).
    pub config: String,
    /// What the collector did.
    pub expected: Expected,
}

/// What the collector did with a case.
#[derive(Debug, PartialEq)]
pub enum Expected {
    /// It kept these spans (ids in hex, in order) with these events (names, by span id).
    Kept(Kept),
    /// It refused the config.
    ConfigError(String),
    /// It failed while processing (`error_mode: propagate`).
    ProcessError(String),
}

/// Spans kept, and the events each kept.
pub type Kept = (Vec<String>, std::collections::BTreeMap<String, Vec<String>>);

/// The shared input of the reference cases.
pub fn reference_input() -> Batch {
    spanwise_sdk::reference::input(CASES)
}

/// Every reference case with the collector's result.
pub fn reference() -> Vec<Reference> {
    spanwise_sdk::reference::pairs(CASES, OUTPUT)
        .into_iter()
        .map(|(case, output)| {
            let error = output["error"].as_str().unwrap_or("").to_owned();
            let expected = match output["stage"].as_str() {
                Some("config") => Expected::ConfigError(error),
                Some(_) => Expected::ProcessError(error),
                None => Expected::Kept(
                    serde_json::from_value(serde_json::json!([output["spans"], output["events"]]))
                        .expect("spans and events"),
                ),
            };
            Reference {
                name: case["name"].as_str().unwrap().to_owned(),
                config: case["config"].to_string(),
                expected,
            }
        })
        .collect()
}

/// The spans and events a batch holds, as [`Expected::Kept`] lists them.
pub fn kept(batch: &Batch) -> Kept {
    let mut spans = Vec::new();
    let mut events = std::collections::BTreeMap::new();
    for span in batch
        .resource_spans()
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
    {
        let id = hex::encode(&span.span_id);
        events.insert(
            id.clone(),
            span.events.iter().map(|e| e.name.clone()).collect(),
        );
        spans.push(id);
    }
    (spans, events)
}
