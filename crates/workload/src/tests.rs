//! The workloads are deterministic and have the shapes their docs promise.

use super::*;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message;
use std::collections::{HashMap, HashSet};

fn spans(request: &ExportTraceServiceRequest) -> impl Iterator<Item = &Span> {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
}

fn string<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
}

fn is_error(span: &Span) -> bool {
    span.status
        .as_ref()
        .is_some_and(|s| s.code == StatusCode::Error as i32)
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_others() {
    for workload in Workload::ALL {
        let bytes = |seed| {
            let mut g = Generator::new(workload, seed);
            [g.request(100), g.request(1000)].map(|r| r.encode_to_vec())
        };
        assert_eq!(bytes(7), bytes(7), "{workload}");
        assert_ne!(bytes(7), bytes(8), "{workload}");
    }
}

#[test]
fn every_request_has_exactly_the_spans_asked_for_under_their_resources() {
    for workload in Workload::ALL {
        let mut g = Generator::new(workload, 1);
        for n in [1, 7, 100, 1000] {
            let request = g.request(n);
            assert_eq!(spans(&request).count(), n, "{workload} {n}");
            for resource in &request.resource_spans {
                let attributes = &resource.resource.as_ref().unwrap().attributes;
                assert!(attributes.iter().any(|kv| kv.key == "service.name"));
                assert!(
                    attributes
                        .iter()
                        .any(|kv| kv.key == "telemetry.sdk.language")
                );
            }
            let services: HashSet<_> = request
                .resource_spans
                .iter()
                .map(|r| format!("{:?}", r.resource.as_ref().unwrap().attributes[0]))
                .collect();
            assert_eq!(
                services.len(),
                request.resource_spans.len(),
                "one block per service"
            );
        }
    }
}

#[test]
fn w1_spans_have_ten_attributes_of_twenty_character_keys_and_values() {
    let request = Generator::new(Workload::W1, 3).request(1000);
    for span in spans(&request) {
        assert_eq!(span.attributes.len(), 10);
        for kv in &span.attributes {
            assert_eq!(kv.key.len(), 20, "{}", kv.key);
            assert_eq!(string(span, &kv.key).unwrap().len(), 20);
        }
    }
}

#[test]
fn w2_is_api_traffic_with_its_share_of_health_checks_errors_and_slow_requests() {
    let mut g = Generator::new(Workload::W2, 4);
    let (mut roots, mut health, mut errors, mut slow) = (0, 0, 0, 0);
    let mut keys_unique = true;
    for _ in 0..20 {
        let request = g.request(1000);
        for span in spans(&request) {
            assert!(
                (15..=25).contains(&span.attributes.len()),
                "{}",
                span.attributes.len()
            );
            let keys: HashSet<_> = span.attributes.iter().map(|kv| &kv.key).collect();
            keys_unique &= keys.len() == span.attributes.len();
            if let Some(url) = string(span, "url.full") {
                assert!((80..=2048).contains(&url.len()), "{}", url.len());
            }
            if !span.parent_span_id.is_empty() {
                continue;
            }
            roots += 1;
            if string(span, "http.route") == Some("/health") {
                health += 1;
                assert!(span.end_time_unix_nano - span.start_time_unix_nano < 1_000_000);
                continue;
            }
            assert!(string(span, "patient.id").unwrap().starts_with("P-"));
            assert!(string(span, "user.email").unwrap().contains('@'));
            assert!(string(span, "url.full").unwrap().contains("user_id=u-"));
            errors += usize::from(is_error(span));
            slow +=
                usize::from(span.end_time_unix_nano - span.start_time_unix_nano >= 1_000_000_000);
        }
    }
    assert!(keys_unique, "no attribute key twice on a span");
    let share = |n: usize| n as f64 / roots as f64;
    assert!(
        (0.08..0.12).contains(&share(health)),
        "health {}",
        share(health)
    );
    let requests = roots - health;
    let share = |n: usize| n as f64 / requests as f64;
    assert!(
        (0.035..0.065).contains(&share(errors)),
        "errors {}",
        share(errors)
    );
    assert!((0.08..0.12).contains(&share(slow)), "slow {}", share(slow));
}

#[test]
fn w3_traces_of_5_to_200_spans_come_over_several_requests_and_end_with_their_root() {
    let mut g = Generator::new(Workload::W3, 5);
    /// Per trace: spans seen, the requests it came in, the span count when its root came,
    /// whether a span was an error.
    type Seen = (usize, HashSet<usize>, Option<usize>, bool);
    let mut traces: HashMap<Vec<u8>, Seen> = HashMap::new();
    let mut slow = 0;
    for request_index in 0..200 {
        let request = g.request(1000);
        for span in spans(&request) {
            let entry = traces.entry(span.trace_id.clone()).or_default();
            assert!(entry.2.is_none(), "no span after the root");
            entry.0 += 1;
            entry.1.insert(request_index);
            entry.3 |= is_error(span);
            if span.parent_span_id.is_empty() {
                entry.2 = Some(entry.0);
                slow += usize::from(
                    span.end_time_unix_nano - span.start_time_unix_nano >= 1_000_000_000,
                );
            }
        }
    }
    let complete: Vec<_> = traces.values().filter(|t| t.2.is_some()).collect();
    assert!(complete.len() > 1500, "{}", complete.len());
    for (spans, _, root, _) in &complete {
        assert!((5..=200).contains(spans), "{spans}");
        assert_eq!(Some(*spans), *root);
    }
    let spread = complete.iter().filter(|t| t.1.len() > 1).count();
    assert!(
        spread * 2 > complete.len(),
        "most traces span several requests: {spread}"
    );
    assert!(complete.iter().any(|t| t.0 > 150 && t.1.len() >= 5));
    let share = |n: usize| n as f64 / complete.len() as f64;
    let errors = complete.iter().filter(|t| t.3).count();
    assert!(
        (0.035..0.065).contains(&share(errors)),
        "errors {}",
        share(errors)
    );
    assert!((0.08..0.12).contains(&share(slow)), "slow {}", share(slow));
}
