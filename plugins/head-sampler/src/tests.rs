use super::HeadSampler;
use crate::cases::{edge_request, kept, reference, reference_input};
use crate::priority::Priority;
use crate::sampler::{Mode, Sampler, SpanInput};
use spanwise_batch::{Batch, BatchBuilder, kv};
use spanwise_sdk::{Processor, native};

fn configure(config: serde_json::Value) -> HeadSampler {
    HeadSampler::configure(&config.to_string()).unwrap_or_else(|e| panic!("{config}: {e}"))
}

fn config_error(config: serde_json::Value) -> String {
    HeadSampler::configure(&config.to_string())
        .expect_err("refused")
        .to_string()
}

#[test]
fn every_reference_case_matches_the_collector() {
    let input = reference_input();
    let all = reference();
    assert!(all.len() >= 60);
    for case in all {
        match (&case.expected, HeadSampler::configure(&case.config)) {
            (Ok(expected), Ok(mut sampler)) => {
                let mut batch = input.clone();
                native::process(&mut sampler, &mut batch).unwrap();
                let got = kept(&batch);
                for (g, e) in got.iter().zip(expected) {
                    assert_eq!(g, e, "case {:?}: first difference", case.name);
                }
                assert_eq!(got.len(), expected.len(), "case {:?}", case.name);
            }
            (Err(_), Err(_)) => {}
            (expected, got) => panic!(
                "case {:?}: the collector gave {expected:?}, the plugin {:?}",
                case.name,
                got.map(|_| "a sampler")
            ),
        }
    }
}

fn id(hex_text: &str) -> [u8; 16] {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

fn decide(sampler: &Sampler, trace_id: &str, trace_state: &str) -> (bool, String) {
    let trace_id = id(trace_id);
    let mut out = String::new();
    let decision = sampler.decide(
        &SpanInput {
            trace_id: &trace_id,
            trace_state,
            priority: Priority::Defer,
        },
        true,
        &mut out,
    );
    (decision.keep, out)
}

#[test]
fn vectors_of_each_mode() {
    // The consistent modes read the low 56 bits of the trace id: ...80000000000000 is exactly
    // one half, so 50% keeps it and 49% does not.
    let half = "0000000000000000ff80000000000000";
    let proportional = |pct, precision| Sampler::new(Mode::Proportional, pct, 0, precision);
    assert_eq!(
        decide(&proportional(50.0, 4), half, ""),
        (true, "ot=th:8".into())
    );
    assert_eq!(
        decide(&proportional(49.0, 4), half, ""),
        (false, String::new())
    );
    // 40% at precision 3: the specification's example, `th:99a`; randomness 0x9a... keeps.
    assert_eq!(
        decide(
            &proportional(40.0, 3),
            "00000000000000000099a00000000000",
            ""
        ),
        (true, "ot=th:99a".into())
    );
    assert_eq!(
        decide(
            &proportional(40.0, 3),
            "00000000000000000099900000000000",
            ""
        ),
        (false, String::new())
    );
    // Proportional multiplies into an arriving 25% (`th:c`): 50% of 25% is 12.5% (`th:e`).
    assert_eq!(
        decide(
            &proportional(50.0, 4),
            "0000000000000000fff0000000000000",
            "ot=th:c,other=1"
        ),
        (true, "ot=th:e,other=1".into())
    );
    // Equalizing keeps the lower arriving probability.
    let equalizing = Sampler::new(Mode::Equalizing, 50.0, 0, 4);
    assert_eq!(
        decide(&equalizing, "0000000000000000fff0000000000000", "ot=th:c"),
        (true, "ot=th:c".into())
    );
    // rv wins over the trace id.
    assert_eq!(
        decide(&equalizing, half, "ot=rv:10000000000000"),
        (false, String::new())
    );
    // hash_seed: 30% keeps buckets below 30 * 163.84 = 4915 and writes the 56-bit randomness
    // built from the hash with the threshold (16384 - 4915) << 42 = `th:b334`. The vector is the
    // collector's (reference case "hash_seed 30%", span 5).
    let hash = Sampler::new(Mode::HashSeed, 30.0, 0, 4);
    let input = reference_input();
    let span5 = input.trace_ids()[4 * 16..5 * 16].to_vec();
    assert_eq!(
        decide(&hash, &hex::encode(&span5), ""),
        (true, "ot=rv:ed28015c5704b5;th:b334".into())
    );
    assert!(
        !decide(&hash, &hex::encode(&span5), "ot=th:8").0,
        "an arriving threshold is an error in hash_seed mode, and errors drop by default"
    );
}

#[test]
fn kept_fractions_are_within_half_a_point_of_the_rate() {
    // 200,000 trace ids from a fixed-seed xorshift: every mode keeps its rate.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let ids: Vec<[u8; 16]> = (0..200_000)
        .map(|_| {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&next().to_be_bytes());
            id[8..].copy_from_slice(&next().to_be_bytes());
            id
        })
        .collect();
    let mut out = String::new();
    for mode in [Mode::HashSeed, Mode::Proportional, Mode::Equalizing] {
        for pct in [1.0f32, 10.0, 30.0, 50.0] {
            let sampler = Sampler::new(mode, pct, 0, 4);
            let kept = ids
                .iter()
                .filter(|id| {
                    out.clear();
                    sampler
                        .decide(
                            &SpanInput {
                                trace_id: id,
                                trace_state: "",
                                priority: Priority::Defer,
                            },
                            true,
                            &mut out,
                        )
                        .keep
                })
                .count();
            let fraction = kept as f64 / ids.len() as f64 * 100.0;
            assert!(
                (fraction - f64::from(pct)).abs() <= 0.5,
                "{mode:?} at {pct}% kept {fraction:.3}%"
            );
        }
    }
}

fn trace(
    trace: u8,
    spans: usize,
    attributes: Vec<opentelemetry_proto::tonic::common::v1::KeyValue>,
) -> Batch {
    let mut builder = BatchBuilder::new().resource(vec![kv("service.name", "sleep-api")]);
    for _ in 0..spans {
        builder = builder.span("op", attributes.clone());
    }
    let mut request = builder.build().into_request();
    for (i, span) in request.resource_spans[0].scope_spans[0]
        .spans
        .iter_mut()
        .enumerate()
    {
        let mut id = [0u8; 16];
        id[0] = trace;
        id[8..].copy_from_slice(&(u64::from(trace) * 0x0123_4567_89ab_cdef).to_be_bytes());
        span.trace_id = id.to_vec();
        span.span_id = vec![trace, i as u8, 0, 0, 0, 0, 0, 1];
    }
    Batch::from_request(request)
}

#[test]
fn spans_of_one_trace_get_one_decision() {
    for mode in ["hash_seed", "proportional", "equalizing"] {
        let mut sampler = configure(serde_json::json!({"mode": mode, "sampling_percentage": 30}));
        let mut kept_traces = 0;
        for t in 1..=60u8 {
            let mut batch = trace(t, 5, vec![]);
            native::process(&mut sampler, &mut batch).unwrap();
            assert!(
                batch.is_empty() || batch.len() == 5,
                "{mode}: trace {t} was split"
            );
            kept_traces += usize::from(batch.len() == 5);
        }
        assert!(
            (5..=35).contains(&kept_traces),
            "{mode}: {kept_traces} of 60"
        );
    }
}

#[test]
fn sampling_priority_overrides_the_rate() {
    let mut none = configure(serde_json::json!({"mode": "proportional", "sampling_percentage": 0}));
    let mut batch = trace(1, 1, vec![kv("sampling.priority", 1i64)]);
    native::process(&mut none, &mut batch).unwrap();
    assert_eq!(
        kept(&batch)[0].1,
        "ot=th:0",
        "kept at 0% and marked as sampled at 100%"
    );
    let mut all =
        configure(serde_json::json!({"mode": "proportional", "sampling_percentage": 100}));
    let mut batch = trace(1, 1, vec![kv("sampling.priority", "0")]);
    native::process(&mut all, &mut batch).unwrap();
    assert_eq!(batch.len(), 0);
}

#[test]
fn errors_are_counted_and_fail_closed_by_default() {
    native::take_counters();
    let mut closed =
        configure(serde_json::json!({"mode": "equalizing", "sampling_percentage": 100}));
    let mut batch = trace(0, 3, vec![]);
    native::process(&mut closed, &mut batch).unwrap();
    assert_eq!(batch.len(), 0, "a zero trace id has no randomness");
    assert_eq!(native::take_counters().get("sampling_errors"), Some(&3));
    let mut open = configure(
        serde_json::json!({"mode": "equalizing", "sampling_percentage": 100, "fail_closed": false}),
    );
    let mut batch = trace(0, 3, vec![]);
    native::process(&mut open, &mut batch).unwrap();
    assert_eq!(batch.len(), 3);
    assert_eq!(native::take_counters().get("sampling_errors"), Some(&3));
}

#[test]
fn the_first_matching_rule_gives_the_rate_and_its_threshold() {
    let mut sampler = configure(serde_json::json!({
        "mode": "proportional",
        "sampling_percentage": 10,
        "rules": [
            {"condition": "attributes[\"http.route\"] == \"/checkout\"", "sampling_percentage": 100},
            {"condition": "resource.attributes[\"service.name\"] == \"sleep-api\"", "sampling_percentage": 50},
            {"condition": "attributes[\"n\"] / 0 == 1", "sampling_percentage": 0}
        ]
    }));
    // Trace 2's randomness (the low 56 bits of 2 * 0x0123456789abcdef) is about 0.28 of the
    // range: the 50% rule would drop it; the 100% rule, first, keeps it. Trace 200's is about
    // 0.56: the 50% rule keeps it.
    let mut batch = trace(2, 1, vec![kv("http.route", "/checkout")]);
    native::process(&mut sampler, &mut batch).unwrap();
    assert_eq!(kept(&batch)[0].1, "ot=th:0");
    let mut batch = trace(200, 1, vec![kv("http.route", "/other")]);
    native::process(&mut sampler, &mut batch).unwrap();
    assert_eq!(kept(&batch)[0].1, "ot=th:8", "the service rule's 50%");

    let mut other = configure(serde_json::json!({
        "mode": "proportional",
        "sampling_percentage": 100,
        "rules": [{"condition": "attributes[\"n\"] / 0 == 1", "sampling_percentage": 0}]
    }));
    native::take_counters();
    let mut batch = trace(200, 2, vec![kv("n", 1i64)]);
    native::process(&mut other, &mut batch).unwrap();
    assert_eq!(
        batch.len(),
        2,
        "a failing rule does not match; the default keeps"
    );
    assert_eq!(native::take_counters().get("rule_errors"), Some(&2));
}

#[test]
fn configs_are_checked_with_the_field_named() {
    assert_eq!(
        config_error(serde_json::json!({"sampling_percentage": -1})),
        "sampling_percentage: sampling rate is negative: -1%"
    );
    assert!(
        config_error(serde_json::json!({"sampling_precision": 15}))
            .starts_with("sampling_precision: sampling precision is too great")
    );
    assert!(config_error(serde_json::json!({"mode": "fair"})).contains("unknown variant `fair`"));
    assert!(config_error(serde_json::json!({"rate": 1})).contains("unknown field `rate`"));
    assert!(
        config_error(
            serde_json::json!({"rules": [{"condition": "name ==", "sampling_percentage": 1}]})
        )
        .starts_with("rules[0].condition: \"name ==\": column")
    );
    assert!(
        config_error(
            serde_json::json!({"rules": [{"condition": "true", "sampling_percentage": 1e-30}]})
        )
        .starts_with("rules[0].sampling_percentage: sampling rate is too small")
    );
}

#[test]
fn the_reference_cases_hold_in_wire_form() {
    let input = reference_input().to_bytes();
    for case in reference() {
        let (Ok(expected), Ok(mut sampler)) =
            (&case.expected, HeadSampler::configure(&case.config))
        else {
            continue;
        };
        let mut batch = Batch::from_encoded_indexed(input.clone()).unwrap();
        native::process(&mut sampler, &mut batch).unwrap();
        assert!(batch.is_indexed(), "case {:?}: decoded", case.name);
        assert_eq!(&kept(&batch), expected, "case {:?}", case.name);
    }
}

/// As the `head-sampler` world runs it (reads from the host's view, the fill and the drop kept
/// back for the result, `native::sample`), every reference case keeps what the collector keeps,
/// in wire form and decoded, and counts what the plain run counts.
#[test]
fn the_reference_cases_hold_as_the_head_sampler_world_runs_them() {
    let input = reference_input();
    for case in reference() {
        let (Ok(expected), Ok(mut sampler)) =
            (&case.expected, HeadSampler::configure(&case.config))
        else {
            continue;
        };
        for mut batch in [
            input.clone(),
            Batch::from_encoded_indexed(input.to_bytes()).unwrap(),
        ] {
            native::take_counters();
            native::sample(&mut sampler, &mut batch).unwrap();
            assert_eq!(&kept(&batch), expected, "case {:?}", case.name);
            let counters = native::take_counters();
            let mut plain = input.clone();
            native::process(&mut configure_text(&case.config), &mut plain).unwrap();
            assert_eq!(native::take_counters(), counters, "case {:?}", case.name);
        }
    }
}

fn configure_text(config: &str) -> HeadSampler {
    HeadSampler::configure(config).unwrap()
}

/// `n` spans of pseudo-random trace ids, no tracestate, no priority; the trace id of span
/// `zero` (if any) all zeros.
#[test]
fn a_batch_without_tracestates_decides_as_span_by_span() {
    // The same spans decided in one pass over the trace ids (no span has a tracestate or a
    // priority) and by the general path (one more span with a tracestate sends the whole
    // batch there): the same spans kept with the same tracestates.
    for mode in ["proportional", "equalizing"] {
        for percentage in [0.01, 10.0, 30.0, 100.0] {
            for zero in [None, Some(7)] {
                let config = serde_json::json!({"mode": mode, "sampling_percentage": percentage});
                let request = edge_request(mode, percentage, zero);
                let mut uniform = Batch::from_request(request.clone());
                native::take_counters();
                native::process(&mut configure(config.clone()), &mut uniform).unwrap();
                let counted = native::take_counters();

                let mut general = request;
                let mut other = general.resource_spans[0].scope_spans[0].spans[0].clone();
                other.trace_state = "vendor=1".into();
                other.span_id = vec![0xff; 8];
                general.resource_spans[0].scope_spans[0].spans.push(other);
                let mut general = Batch::from_request(general);
                native::process(&mut configure(config.clone()), &mut general).unwrap();
                let mut expected = kept(&general);
                expected.retain(|(span, _)| span != "ffffffffffffffff");
                let label = format!("{mode} at {percentage}%, zero id {zero:?}");
                assert_eq!(kept(&uniform), expected, "{label}");
                assert_eq!(
                    counted.get("sampling_errors").copied().unwrap_or(0),
                    u64::from(zero.is_some()),
                    "{label}"
                );
                if percentage == 30.0 && zero.is_none() {
                    let share = expected.len() as f64 / 2003.0;
                    assert!((0.25..0.35).contains(&share), "{label}: kept {share}");
                }
            }
        }
    }
}

#[test]
fn one_sampler_decides_batches_of_any_size_as_a_new_one_would() {
    // The one-pass decision reuses its row lists between calls: batches growing and shrinking
    // get what a sampler seeing each first gets.
    let config = serde_json::json!({"mode": "proportional", "sampling_percentage": 30});
    let mut reused = configure(config.clone());
    for n in [3, 2003, 10, 1, 700, 2003, 0, 64] {
        let mut request = edge_request("proportional", 30.0, None);
        request.resource_spans[0].scope_spans[0].spans.truncate(n);
        let mut batch = Batch::from_request(request.clone());
        native::process(&mut reused, &mut batch).unwrap();
        let mut expected = Batch::from_request(request);
        native::process(&mut configure(config.clone()), &mut expected).unwrap();
        assert_eq!(kept(&batch), kept(&expected), "{n} spans");
        if n >= 10 {
            assert!(!kept(&batch).is_empty(), "{n} spans");
        }
    }
}
