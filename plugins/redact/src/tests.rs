//! The redact processor run natively, against what the OpenTelemetry Collector's own
//! `attributes` and `redaction` processors (contrib v0.161.0) output for the same input
//! (`testdata/reference-*.json`, made by `testdata/reference/`), and unit tests of what the
//! collector has no say in (levels, keyed hashing, config errors).

use super::Redact;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use spanwise_batch::Batch;
use spanwise_sdk::value::AttrValue;
use spanwise_sdk::{Processor, native};
use std::collections::BTreeMap;

/// The key the reference cases use for hmac-sha256, under the name `reference`.
pub(crate) fn reference_key(case: &serde_json::Value) -> Option<String> {
    case["config"]["hmac_key"].as_str().map(String::from)
}

/// Our config for a reference case: the attributes processor's block as it is, the redaction
/// processor's under `redaction`, its inline key moved to the host's keys.
pub(crate) fn plugin_config(case: &serde_json::Value) -> String {
    let mut config = case["config"].clone();
    match case["processor"].as_str() {
        Some("redaction") => {
            if let Some(map) = config.as_object_mut()
                && map.remove("hmac_key").is_some()
            {
                map.insert("key_name".into(), "reference".into());
            }
            serde_json::json!({ "redaction": config }).to_string()
        }
        _ => config.to_string(),
    }
}

pub(crate) fn request(json: &serde_json::Value) -> ExportTraceServiceRequest {
    serde_json::from_value(json.clone()).expect("OTLP JSON")
}

type Attributes = BTreeMap<String, Option<AnyValue>>;

fn map(attributes: &[KeyValue]) -> Attributes {
    attributes
        .iter()
        .map(|kv| (kv.key.clone(), kv.value.clone().map(normalized)))
        .collect()
}

/// Maps inside values with their entries sorted by key: Go builds them from its own maps, in
/// random order.
fn normalized(mut value: AnyValue) -> AnyValue {
    use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
    match &mut value.value {
        Some(V::KvlistValue(list)) => {
            for kv in &mut list.values {
                kv.value = kv.value.take().map(normalized);
            }
            list.values.sort_by(|a, b| a.key.cmp(&b.key));
        }
        Some(V::ArrayValue(array)) => {
            array.values = std::mem::take(&mut array.values)
                .into_iter()
                .map(normalized)
                .collect();
        }
        _ => {}
    }
    value
}

/// Every attribute map of a request, named by where it is: what the two processors may change,
/// compared without regard to attribute order.
pub(crate) fn view(request: &ExportTraceServiceRequest) -> Vec<(String, Attributes)> {
    let mut out = Vec::new();
    for (r, resource) in request.resource_spans.iter().enumerate() {
        let attrs = resource
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or(&[]);
        out.push((format!("resource {r}"), map(attrs)));
        for (s, scope) in resource.scope_spans.iter().enumerate() {
            let attrs = scope
                .scope
                .as_ref()
                .map(|s| s.attributes.as_slice())
                .unwrap_or(&[]);
            out.push((format!("scope {r}.{s}"), map(attrs)));
            for span in &scope.spans {
                out.push((format!("span {:?}", span.name), map(&span.attributes)));
                for (e, event) in span.events.iter().enumerate() {
                    out.push((
                        format!("span {:?} event {e}", span.name),
                        map(&event.attributes),
                    ));
                }
            }
        }
    }
    out
}

/// The reference cases with the collector's output for each.
pub(crate) fn reference_cases() -> Vec<(serde_json::Value, serde_json::Value)> {
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../testdata/reference-cases.json")).unwrap();
    let outputs: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../testdata/reference-output.json")).unwrap();
    assert_eq!(
        cases.len(),
        outputs.len(),
        "regenerate testdata/reference-output.json"
    );
    cases.into_iter().zip(outputs).collect()
}

/// Run `config` natively over `input`, with `key` (if any) as the host key `reference`.
pub(crate) fn run_native(
    config: &str,
    key: Option<&str>,
    input: ExportTraceServiceRequest,
) -> ExportTraceServiceRequest {
    native::with_context(|c| {
        c.keys.clear();
        if let Some(key) = key {
            c.keys.insert("reference".into(), key.as_bytes().to_vec());
        }
    });
    let mut processor = Redact::configure(config).unwrap_or_else(|e| panic!("{config}: {e}"));
    let mut batch = Batch::from_request(input);
    native::process(&mut processor, &mut batch).unwrap();
    batch.into_request()
}

#[test]
fn the_collectors_processors_and_this_one_agree_on_every_reference_case() {
    for (case, output) in reference_cases() {
        let name = case["name"].as_str().unwrap();
        assert_eq!(output["name"], case["name"]);
        assert!(
            output["error"].is_null(),
            "{name}: the collector refused it: {}",
            output["error"]
        );
        let config = plugin_config(&case);
        let ours = run_native(
            &config,
            reference_key(&case).as_deref(),
            request(&case["input"]),
        );
        let theirs = request(&output["output"]);
        let (ours, theirs) = (view(&ours), view(&theirs));
        assert_eq!(ours.len(), theirs.len(), "{name}");
        for ((place, a), (_, b)) in ours.iter().zip(&theirs) {
            assert_eq!(a, b, "{name}: {place}");
        }
    }
}

#[test]
fn values_print_as_go_prints_them() {
    assert_eq!(spanwise_sdk::value::es6_number(1e21), "1e+21");
    assert_eq!(spanwise_sdk::value::es6_number(1.5e-7), "1.5e-7");
    assert_eq!(spanwise_sdk::value::es6_number(0.000001), "0.000001");
    assert_eq!(spanwise_sdk::value::es6_number(100.0), "100");
    assert_eq!(AttrValue::Double(f64::NAN).as_string(), "NaN");
    assert_eq!(
        AttrValue::Map(vec![(
            "b".into(),
            AttrValue::Array(vec![AttrValue::Double(f64::INFINITY)])
        ),])
        .as_string(),
        "",
        "Go's encoder fails on infinities and the collector keeps an empty string"
    );
}

use spanwise_batch::{BatchBuilder, kv};
use spanwise_sdk::{Level, StrField};

fn configure_error(config: &str) -> spanwise_sdk::ConfigError {
    match Redact::configure(config) {
        Ok(_) => panic!("accepted {config}"),
        Err(e) => e,
    }
}

#[test]
fn config_errors_name_the_rule_and_the_field() {
    for (config, field, says) in [
        (r#"{}"#, "", "nothing to do"),
        (
            r#"{"actions": [{"action": "upsert"}]}"#,
            "actions[0].key",
            "is missing",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "shout"}]}"#,
            "actions[0].action",
            "is not an action",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "insert"}]}"#,
            "actions[0]",
            "needs a value",
        ),
        (
            r#"{"actions": [{"key": "a", "value": 1, "from_attribute": "b", "action": "insert"}]}"#,
            "actions[0]",
            "more than one",
        ),
        (
            r#"{"actions": [{"key": "a", "value": 1, "pattern": "x", "action": "upsert"}]}"#,
            "actions[0].pattern",
            "is not used",
        ),
        (
            r#"{"actions": [{"action": "delete"}]}"#,
            "actions[0]",
            "needs \"key\", \"pattern\" or both",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "hash"}, {"pattern": "(", "action": "delete"}]}"#,
            "actions[1].pattern",
            "invalid pattern",
        ),
        (
            r#"{"actions": [{"key": "a", "pattern": "(a)", "action": "extract"}]}"#,
            "actions[0].pattern",
            "without a name",
        ),
        (
            r#"{"actions": [{"key": "a", "pattern": "a", "action": "extract"}]}"#,
            "actions[0].pattern",
            "no named groups",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "convert"}]}"#,
            "actions[0].converted_type",
            "is missing",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "convert", "converted_type": "bool"}]}"#,
            "actions[0].converted_type",
            "not a type",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "hash", "hash_function": "hmac-sha256"}]}"#,
            "actions[0].key_name",
            "needs the name of a key",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "hash", "hash_function": "md5"}]}"#,
            "actions[0].hash_function",
            "is not offered",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "delete", "key_name": "k"}]}"#,
            "actions[0].key_name",
            "is not used",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "delete", "apply_to": []}]}"#,
            "actions[0].apply_to",
            "names nothing",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "delete", "apply_to": ["span", "span"]}]}"#,
            "actions[0].apply_to[1]",
            "twice",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "insert", "from_context": "metadata.x"}]}"#,
            "actions[0].from_context",
            "not supported",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "delete"}], "include": {"match_type": "strict"}}"#,
            "include",
            "at least one of",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "delete"}], "include": {"services": ["a"]}}"#,
            "include.match_type",
            "is missing",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "delete"}], "exclude": {"match_type": "strict", "span_kinds": ["server"]}}"#,
            "exclude.span_kinds[0]",
            "must be one of",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "delete"}], "include": {"match_type": "regexp", "attributes": [{"key": "c", "value": 200}]}}"#,
            "include.attributes[0].value",
            "only supports strings",
        ),
        (
            r#"{"actions": [{"key": "a", "action": "delete"}], "include": {"match_type": "strict", "metric_names": ["m"]}}"#,
            "include.metric_names",
            "trace spans",
        ),
        (
            r#"{"redaction": {"hash_function": "hmac-sha256"}}"#,
            "redaction.key_name",
            "needs the name of a key",
        ),
        (
            r#"{"redaction": {"hmac_key": "a-secret-that-must-not-be-echoed"}}"#,
            "redaction.hmac_key",
            "keys:",
        ),
        (
            r#"{"redaction": {"blocked_values": ["ok", "["]}}"#,
            "redaction.blocked_values[1]",
            "invalid pattern",
        ),
        (
            r#"{"redaction": {"summary": "loud"}}"#,
            "redaction.summary",
            "not a summary level",
        ),
        (
            r#"{"redaction": {"url_sanitizer": {"enabled": true}}}"#,
            "redaction.url_sanitizer",
            "url",
        ),
        (
            r#"{"redaction": {"allowed_kyes": ["a"]}}"#,
            "redaction.allowed_kyes",
            "unknown field `allowed_kyes`",
        ),
    ] {
        let error = configure_error(config);
        assert_eq!(error.field, field, "{config}: {error}");
        assert!(error.message.contains(says), "{config}: {error}");
        assert!(
            !error
                .to_string()
                .contains("a-secret-that-must-not-be-echoed"),
            "a key is never echoed: {error}"
        );
    }
}

#[test]
fn a_key_named_for_hmac_must_exist_when_the_plugin_loads() {
    native::with_context(|c| c.keys.clear());
    let config = r#"{"actions": [{"key": "user.id", "action": "hash", "hash_function": "hmac-sha256", "key_name": "users"}]}"#;
    let error = configure_error(config);
    assert_eq!(error.field, "actions[0].key_name");
    assert!(error.message.contains("no key named \"users\""), "{error}");
    native::with_context(|c| {
        c.keys
            .insert("users".into(), b"a-key-of-at-least-16-bytes".to_vec());
    });
    assert!(Redact::configure(config).is_ok());
}

#[test]
fn hmac_hashes_with_the_hosts_key_and_every_level_can_be_chosen() {
    let key = b"a-key-of-at-least-16-bytes".to_vec();
    native::with_context(|c| {
        c.keys.insert("users".into(), key.clone());
    });
    let config = r#"{"actions": [
        {"key": "user.id", "action": "hash", "hash_function": "hmac-sha256", "key_name": "users", "apply_to": ["span", "resource", "event"]},
        {"key": "patient.id", "action": "delete", "apply_to": ["event", "resource"]}
    ]}"#;
    let mut processor = Redact::configure(config).unwrap();
    let mut batch = BatchBuilder::new()
        .resource(vec![kv("user.id", "u-res"), kv("patient.id", "P-res")])
        .span(
            "GET",
            vec![kv("user.id", "u-1"), kv("patient.id", "P-span")],
        )
        .event(
            "exception",
            vec![kv("user.id", "u-ev"), kv("patient.id", "P-ev")],
        )
        .span("GET", vec![kv("user.id", 42i64)])
        .build();
    native::take_counters();
    native::process(&mut processor, &mut batch).unwrap();
    let hmac = |text: &[u8]| {
        let mut column = spanwise_sdk::BytesColumn::default();
        column.push(Some(text));
        spanwise_batch::hash::hmac_sha256_bytes(&key, &column)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let span_ids = batch.str_attribute(Level::Span, "user.id");
    assert_eq!(span_ids.get(0), Some(hmac(b"u-1").as_str()));
    assert_eq!(
        span_ids.get(1),
        Some(hmac(&42i64.to_le_bytes()).as_str()),
        "an integer is hashed as its 8 bytes, little-endian"
    );
    assert_eq!(
        batch.str_attribute(Level::Resource, "user.id").get(0),
        Some(hmac(b"u-res").as_str())
    );
    assert_eq!(
        batch.str_attribute(Level::Event, "user.id").get(0),
        Some(hmac(b"u-ev").as_str())
    );
    assert_eq!(
        batch.attribute_rows(Level::Resource, &["patient.id"]),
        vec![Vec::<u32>::new()]
    );
    assert_eq!(
        batch.attribute_rows(Level::Event, &["patient.id"]),
        vec![Vec::<u32>::new()]
    );
    assert_eq!(
        batch.str_attribute(Level::Span, "patient.id").get(0),
        Some("P-span"),
        "span attributes were not chosen for the delete"
    );
    let counters = native::take_counters();
    // One resource shared by both spans: its value counts once.
    assert_eq!(counters["hashed"], 4, "{counters:?}");
    assert_eq!(counters["deleted"], 2, "{counters:?}");
}

#[test]
fn include_selects_the_spans_whose_events_are_touched() {
    let config = r#"{"include": {"match_type": "strict", "span_names": ["keep"]},
        "actions": [{"key": "m", "action": "delete", "apply_to": ["event"]}]}"#;
    let mut processor = Redact::configure(config).unwrap();
    let mut batch = BatchBuilder::new()
        .span("keep", vec![])
        .event("e", vec![kv("m", "1")])
        .span("other", vec![])
        .event("e", vec![kv("m", "2")])
        .build();
    native::process(&mut processor, &mut batch).unwrap();
    assert_eq!(
        batch
            .str_attribute(Level::Event, "m")
            .iter()
            .collect::<Vec<_>>(),
        vec![None, Some("2")]
    );
    assert_eq!(batch.str_field(StrField::Name).get(0), Some("keep"));
}

#[test]
fn redaction_can_mask_span_names_status_messages_and_event_names() {
    let config = r#"{"redaction": {"allow_all_keys": true, "blocked_values": ["P-[0-9]+"],
        "allowed_values": ["^keep"], "apply_to": ["span_name", "status_message", "event_name"]}}"#;
    let mut processor = Redact::configure(config).unwrap();
    let mut batch = BatchBuilder::new()
        .span("GET /patients/P-48213", vec![kv("patient", "P-1")])
        .status(2, "duplicate log for P-48213")
        .event("P-7 failed", vec![])
        .span("keep P-1", vec![])
        .build();
    native::take_counters();
    native::process(&mut processor, &mut batch).unwrap();
    let names = batch.str_field(StrField::Name);
    assert_eq!(
        names.iter().collect::<Vec<_>>(),
        vec![Some("GET /patients/****"), Some("keep P-1")],
        "an allowed value is kept"
    );
    assert_eq!(
        batch.str_field(StrField::StatusMessage).get(0),
        Some("duplicate log for ****")
    );
    assert_eq!(
        batch.str_field(StrField::EventName).get(0),
        Some("**** failed")
    );
    assert_eq!(
        batch.str_attribute(Level::Span, "patient").get(0),
        Some("P-1"),
        "attributes were not chosen"
    );
    assert_eq!(native::take_counters()["masked"], 3);
    let error = configure_error(
        r#"{"actions": [{"key": "a", "action": "delete", "apply_to": ["span_name"]}]}"#,
    );
    assert_eq!(error.field, "actions[0].apply_to[0]");
}

#[test]
fn redaction_masks_event_attributes_and_leaves_span_names() {
    let config = r#"{"redaction": {"allow_all_keys": true, "blocked_values": ["[a-z]+@[a-z.]+"], "apply_to": ["event"]}}"#;
    let mut processor = Redact::configure(config).unwrap();
    let mut batch = BatchBuilder::new()
        .span("mail ana@x.org", vec![kv("mail", "ana@x.org")])
        .event(
            "exception",
            vec![kv("exception.message", "no user ana@x.org")],
        )
        .build();
    native::process(&mut processor, &mut batch).unwrap();
    assert_eq!(
        batch
            .str_attribute(Level::Event, "exception.message")
            .get(0),
        Some("no user ****")
    );
    assert_eq!(
        batch.str_attribute(Level::Span, "mail").get(0),
        Some("ana@x.org"),
        "span attributes were not chosen"
    );
    assert_eq!(
        batch.str_field(StrField::Name).get(0),
        Some("mail ana@x.org")
    );
}

/// Every value type, a resource shared by two spans, an event: what hashing meets.
fn mixed_batch() -> Batch {
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, any_value::Value as V};
    let array = AnyValue {
        value: Some(V::ArrayValue(ArrayValue {
            values: vec![AnyValue {
                value: Some(V::IntValue(1)),
            }],
        })),
    };
    let none = KeyValue {
        key: "user.id".into(),
        value: None,
        ..Default::default()
    };
    BatchBuilder::new()
        .resource(vec![kv("user.id", "u-res")])
        .span("keep", vec![kv("user.id", "u-1"), kv("other", "o")])
        .event("exception", vec![kv("user.id", "u-ev")])
        .span("keep", vec![kv("user.id", 7i64)])
        .span("keep", vec![kv("user.id", 2.5f64)])
        .resource(vec![kv("user.id", true)])
        .span("skip", vec![kv("user.id", "u-skipped")])
        .span(
            "keep",
            vec![KeyValue {
                key: "user.id".into(),
                value: Some(AnyValue {
                    value: Some(V::BytesValue(vec![1, 2])),
                }),
                ..Default::default()
            }],
        )
        .span(
            "keep",
            vec![KeyValue {
                key: "user.id".into(),
                value: Some(array),
                ..Default::default()
            }],
        )
        .span("keep", vec![none])
        .span("keep", vec![kv("user.id", "")])
        .build()
}

#[test]
fn hashing_in_the_host_gives_what_hashing_in_the_plugin_gives() {
    native::with_context(|c| {
        c.keys
            .insert("users".into(), b"a-key-of-at-least-16-bytes".to_vec());
    });
    for function in [
        r#""hash_function": "sha256""#,
        r#""hash_function": "hmac-sha256", "key_name": "users""#,
    ] {
        let hash = format!(
            r#"{{"key": "user.id", "action": "hash", {function}, "apply_to": ["span", "resource", "event"]}}"#
        );
        // A rule that names the key but changes nothing (its source is missing everywhere)
        // keeps the hashing in the plugin.
        let noop = r#"{"key": "user.id", "action": "update", "from_attribute": "absent", "apply_to": ["span", "resource", "event"]}"#;
        let include = r#""include": {"match_type": "strict", "span_names": ["keep"]}"#;
        let in_host = format!(r#"{{{include}, "actions": [{hash}]}}"#);
        let in_plugin = format!(r#"{{{include}, "actions": [{hash}, {noop}]}}"#);

        let host = Redact::configure(&in_host).unwrap();
        assert_eq!(
            host.actions[0].host_levels,
            vec![Level::Span, Level::Resource, Level::Event]
        );
        let plugin = Redact::configure(&in_plugin).unwrap();
        assert!(plugin.actions[0].host_levels.is_empty());

        let mut results = Vec::new();
        for mut processor in [host, plugin] {
            let mut batch = mixed_batch();
            native::take_counters();
            native::process(&mut processor, &mut batch).unwrap();
            results.push((batch.to_request(), native::take_counters()["hashed"]));
        }
        assert_eq!(results[0], results[1], "{function}");
        let (output, hashed) = &results[0];
        // Both resources (the second is shared by a skipped span and kept ones), the 7 spans
        // named `keep` of 8, and the event.
        assert_eq!(*hashed, 2 + 7 + 1, "{function}");
        let batch = Batch::from_request(output.clone());
        assert_eq!(
            batch.str_attribute(Level::Span, "user.id").get(3),
            Some("u-skipped")
        );
    }
}

#[test]
fn a_hash_stays_in_the_plugin_where_another_rule_or_redaction_sees_its_key() {
    let configure = |json: &str| Redact::configure(json).unwrap();
    let levels = |r: &Redact, i: usize| r.actions[i].host_levels.clone();
    let hash = r#"{"key": "k", "action": "hash", "apply_to": ["span", "resource"]}"#;
    let r = configure(&format!(
        r#"{{"actions": [{hash}, {{"key": "k", "action": "extract", "pattern": "(?P<x>.)"}}]}}"#
    ));
    assert_eq!(
        levels(&r, 0),
        vec![Level::Resource],
        "extract reads k at span level"
    );
    let r = configure(&format!(
        r#"{{"actions": [{{"key": "j", "action": "extract", "pattern": "(?P<k>.)"}}, {hash}]}}"#
    ));
    assert_eq!(levels(&r, 1), vec![Level::Resource], "extract writes k");
    let r = configure(&format!(
        r#"{{"actions": [{hash}, {{"action": "delete", "pattern": "^k$", "apply_to": ["resource"]}}]}}"#
    ));
    assert_eq!(levels(&r, 0), vec![Level::Span], "the pattern matches k");
    let r = configure(&format!(r#"{{"actions": [{hash}, {hash}]}}"#));
    assert!(
        levels(&r, 0).is_empty() && levels(&r, 1).is_empty(),
        "hashed twice"
    );
    let r = configure(&format!(
        r#"{{"actions": [{hash}], "redaction": {{"allow_all_keys": true, "blocked_values": ["x"], "apply_to": ["span"]}}}}"#
    ));
    assert_eq!(
        levels(&r, 0),
        vec![Level::Resource],
        "redaction reads every span key"
    );
    let r = configure(&format!(
        r#"{{"actions": [{hash}], "redaction": {{"allow_all_keys": true}}}}"#
    ));
    assert!(
        levels(&r, 0).is_empty(),
        "redaction applies everywhere by default"
    );
    let r = configure(r#"{"actions": [{"key": "k", "action": "hash", "pattern": "^k"}]}"#);
    assert!(levels(&r, 0).is_empty(), "a pattern needs the list of keys");
}
