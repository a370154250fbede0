//! The redact processor run natively, against what the OpenTelemetry Collector's own
//! `attributes` and `redaction` processors (contrib v0.161.0) output for the same input
//! (`testdata/reference-*.json`, made by `testdata/reference/`), and unit tests of what the
//! collector has no say in (levels, keyed hashing, config errors).

use super::Redact;
use crate::value::AttrValue;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use spanwise_batch::Batch;
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
    assert_eq!(crate::value::es6_number(1e21), "1e+21");
    assert_eq!(crate::value::es6_number(1.5e-7), "1.5e-7");
    assert_eq!(crate::value::es6_number(0.000001), "0.000001");
    assert_eq!(crate::value::es6_number(100.0), "100");
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
