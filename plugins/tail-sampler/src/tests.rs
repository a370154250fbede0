use crate::TailSampler;
use crate::cases::{kept, reference, reference_input, traces_of};
use crate::limiter::Clock;
use crate::policy::{hash_threshold, hash_trace_id, latency, latency_of, ms_bound};
use crate::traces::{Data, status_bit};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{Span, Status};
use spanwise_batch::Batch;
use spanwise_sdk::{Sampler, TraceDecision, TraceDecisions, native};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

fn batch_of(spans: Vec<Span>) -> Batch {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
    Batch::from_request(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    })
}

fn decide(config: &str, batch: &mut Batch) -> Vec<TraceDecision> {
    let mut sampler = TailSampler::configure(config).unwrap();
    let traces = traces_of(batch);
    let decisions = native::decide(&mut sampler, batch, &traces).unwrap();
    decisions.iter().map(|d| d.to_owned()).collect()
}

#[test]
fn every_reference_case_keeps_what_the_collectors_tail_sampling_processor_kept() {
    let all = reference();
    assert!(all.len() >= 70);
    let mut refused = 0;
    for case in all {
        let sampler = TailSampler::configure(&case.config);
        let (expected, mut sampler) = match (&case.expected, sampler) {
            (Err(_), Err(_)) => {
                refused += 1;
                continue;
            }
            (Ok(expected), Ok(sampler)) => (expected, sampler),
            (expected, Err(e)) => {
                panic!("case {:?}: refused ({e}), expected {expected:?}", case.name)
            }
            (Err(e), Ok(_)) => panic!("case {:?}: the collector refused it: {e}", case.name),
        };
        let mut batch = reference_input();
        let traces = traces_of(&batch);
        let decisions = native::decide(&mut sampler, &mut batch, &traces).unwrap();
        assert_eq!(
            &kept(&batch, &traces, &decisions),
            expected,
            "case {:?}",
            case.name
        );
    }
    assert_eq!(refused, 2, "an unknown status code and a bad regex");
}

#[test]
fn probabilistic_threshold_and_hash_match_the_collectors_vectors() {
    // From the collector's calculateThreshold and hashTraceID (Go, big.Float and hash/fnv).
    for (ratio, expected) in [
        (0.0, 0u64),
        (1e-300, 0),
        (0.0001, 1844674407370955),
        (0.005, 92233720368547759),
        (0.1, 1844674407370955263),
        (0.25, 4611686018427387903),
        (0.3, 5534023222112865279),
        (1.0 / 3.0, 6148914691236516863),
        (0.5, 9223372036854775807),
        (0.7, 12912720851596685311),
        (0.9999, 18444899399302180863),
        (0.999_999_999_999_999_9, 18446744073709549567),
        (1.0, u64::MAX),
        (1.5, u64::MAX),
    ] {
        assert_eq!(hash_threshold(ratio), expected, "ratio {ratio}");
    }
    let ids: [[u8; 16]; 3] = [[0; 16], std::array::from_fn(|i| i as u8 + 1), [0xff; 16]];
    for (salt, expected) in [
        (
            "default-hash-seed",
            [
                16254958829412527165u64,
                15838989281584434349,
                1711019809656077869,
            ],
        ),
        (
            "other-salt",
            [
                15307723114281412304,
                6635129164147084512,
                14177210524831430336,
            ],
        ),
        (
            "",
            [
                9808874869469701221,
                16712008635831575701,
                15447475403222018133,
            ],
        ),
    ] {
        for (id, hash) in ids.iter().zip(expected) {
            assert_eq!(hash_trace_id(salt.as_bytes(), id), hash, "salt {salt:?}");
        }
    }
}

/// A batch of traces, each `(trace id's last byte, spans)` with spans as
/// `(status code, duration ms, tracestate)`.
/// `(status code, duration in ms, tracestate)`.
type SpanSpec<'a> = (i32, u64, &'a str);

fn batch(traces: &[(u8, Vec<SpanSpec<'_>>)]) -> Batch {
    let mut spans = Vec::new();
    for (last, trace) in traces {
        let mut id = [0x11u8; 16];
        id[15] = *last;
        for (k, (code, ms, state)) in trace.iter().enumerate() {
            spans.push(Span {
                trace_id: id.to_vec(),
                span_id: vec![*last, k as u8, 0, 0, 0, 0, 0, 1],
                name: "op".into(),
                start_time_unix_nano: 1_000_000_000,
                end_time_unix_nano: 1_000_000_000 + ms * 1_000_000,
                trace_state: (*state).into(),
                status: Some(Status {
                    code: *code,
                    message: String::new(),
                }),
                attributes: vec![KeyValue {
                    key: "http.route".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(if *last == 0 {
                            "/health".into()
                        } else {
                            "/api".into()
                        })),
                    }),
                    ..KeyValue::default()
                }],
                ..Span::default()
            });
        }
    }
    batch_of(spans)
}

const RATES: &str = r#"{
    "policies": [{"name": "no-health", "type": "drop", "drop": {"drop_sub_policy": [
        {"name": "h", "type": "string_attribute", "string_attribute": {"key": "http.route", "values": ["/health"]}}]}}],
    "rates": [
        {"name": "errors", "when": {"status_code": "ERROR"}, "percentage": 50},
        {"name": "slow", "when": {"latency": {"threshold_ms": 2000}}, "percentage": 30},
        {"name": "default", "percentage": 10}
    ]}"#;

#[test]
fn rates_pick_the_first_matching_category_and_keep_by_the_trace_ids_randomness() {
    // The trace id's randomness is its low 56 bits: 0x11..11XX. A last byte of 0xff is above
    // every threshold below 100%; the rest of the id (0x111111...) is ~6.7% of 2^56, so a
    // trace with it passes no category of 10% or more.
    let mut b = batch(&[
        (0, vec![(2, 3000, "")]),            // health: dropped first, whatever else
        (1, vec![(0, 10, ""), (2, 50, "")]), // an error span: errors
        (2, vec![(0, 2500, ""), (0, 100, "")]), // slow
        (3, vec![(0, 100, "")]),             // default
    ]);
    let decisions = decide(RATES, &mut b);
    let names: Vec<_> = decisions
        .iter()
        .map(|d| (d.keep, d.policy.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (false, "no-health"),
            (false, "errors"),
            (false, "slow"),
            (false, "default")
        ]
    );
}

#[test]
fn rates_keep_traces_above_the_threshold_with_their_categorys_probability() {
    let mut config: serde_json::Value = serde_json::from_str(RATES).unwrap();
    config["policies"] = serde_json::json!([]);
    let config = config.to_string();
    // rv overrides the trace id: 0xf... is kept by every rate, 0x0... by none.
    let high = "ot=rv:f0000000000000";
    let low = "ot=rv:00000000000001";
    let mut b = batch(&[
        (1, vec![(2, 10, high), (0, 10, high)]),
        (2, vec![(0, 2500, high)]),
        (3, vec![(0, 10, high)]),
        (4, vec![(2, 10, low)]),
        // Arrived head-sampled at 25% (th:c): kept by default (10%) and by errors (50%) with
        // the category's probability; the host keeps the higher th:c on such spans.
        (5, vec![(0, 10, "ot=rv:f0000000000000;th:c")]),
        (6, vec![(2, 10, "ot=rv:f0000000000000;th:c")]),
    ]);
    let decisions = decide(&config, &mut b);
    let got: Vec<_> = decisions
        .iter()
        .map(|d| {
            (
                d.keep,
                (d.probability * 100.0).round() as i64,
                d.policy.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got[..4],
        [
            (true, 50, "errors"),
            (true, 30, "slow"),
            (true, 10, "default"),
            (false, 0, "errors")
        ]
        .map(|(k, p, n)| (k, if k { p } else { got[3].1 }, n))
    );
    assert_eq!((got[4].0, got[4].1, got[4].2), (true, 10, "default"));
    assert_eq!((got[5].0, got[5].1, got[5].2), (true, 50, "errors"));
}

#[test]
fn rates_are_consistent_over_many_trace_ids_at_each_categorys_share() {
    let config = r#"{"rates": [{"name": "errors", "when": {"status_code": ["ERROR"]}, "percentage": 50},
                               {"name": "default", "percentage": 10}]}"#;
    let mut sampler = TailSampler::configure(config).unwrap();
    let mut spans = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for t in 0..4000u32 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&seed.to_be_bytes());
        id[8..].copy_from_slice(&seed.rotate_left(29).to_be_bytes());
        for k in 0..2u8 {
            spans.push(Span {
                trace_id: id.to_vec(),
                span_id: vec![k, 1, 2, 3, 4, 5, 6, 7],
                status: Some(Status {
                    code: if t % 2 == 0 && k == 1 { 2 } else { 0 },
                    message: String::new(),
                }),
                ..Span::default()
            });
        }
    }
    let mut b = batch_of(spans);
    let traces = traces_of(&b);
    let first = native::decide(&mut sampler, &mut b, &traces).unwrap();
    let share = |name: &str| {
        let of: Vec<_> = first.iter().filter(|d| d.policy == name).collect();
        of.iter().filter(|d| d.keep).count() as f64 / of.len() as f64
    };
    // 2,000 traces each: 5 standard deviations.
    assert!((share("errors") - 0.5).abs() < 5.0 * (0.25f64 / 2000.0).sqrt());
    assert!((share("default") - 0.1).abs() < 5.0 * (0.09f64 / 2000.0).sqrt());
    // The same ids decide the same way in a new instance (consistent, not random).
    let mut again = TailSampler::configure(config).unwrap();
    assert_eq!(native::decide(&mut again, &mut b, &traces).unwrap(), first);
}

#[test]
fn policies_report_the_probability_and_the_first_policy_that_sampled() {
    let config = r#"{"policies": [
        {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
        {"name": "all", "type": "probabilistic", "probabilistic": {"sampling_percentage": 100}},
        {"name": "quarter", "type": "probabilistic", "probabilistic": {"sampling_percentage": 25, "hash_salt": "x"}}
    ]}"#;
    let mut b = batch(&[(1, vec![(2, 10, "")]), (2, vec![(0, 10, "ot=th:8")])]);
    let d = decide(config, &mut b);
    assert_eq!(
        (d[0].keep, d[0].probability, d[0].policy.as_str()),
        (true, 1.0, "errors")
    );
    // Kept by `all` (probability 1) after a head sampler kept it at 50%.
    assert_eq!(
        (d[1].keep, d[1].probability, d[1].policy.as_str()),
        (true, 0.5, "all")
    );
    // With sample_on_first_match the first policy alone decides the probability.
    let config = r#"{"sample_on_first_match": true, "policies": [
        {"name": "quarter", "type": "probabilistic", "probabilistic": {"sampling_percentage": 99.99}},
        {"name": "all", "type": "always_sample"}
    ]}"#;
    let d = decide(config, &mut b);
    assert_eq!(d[0].policy, "quarter");
    assert!(
        (d[0].probability - 0.9999).abs() < 1e-12,
        "{}",
        d[0].probability
    );
}

#[test]
fn rate_limiting_and_composite_spend_per_second_budgets_on_the_clock() {
    let now = Rc::new(Cell::new(Duration::ZERO));
    let read = now.clone();
    let clock = Clock::from_fn(move || read.get());
    let config = r#"{"policies": [{"name": "r", "type": "rate_limiting", "rate_limiting": {"spans_per_second": 2}}]}"#;
    let mut sampler = TailSampler::with_clock(config, &clock).unwrap();
    // Six one-span traces: the bucket holds 4 (twice the rate).
    let mut b = batch(&(1..=6).map(|i| (i, vec![(0, 1, "")])).collect::<Vec<_>>());
    let traces = traces_of(&b);
    let kept = |d: TraceDecisions| d.iter().filter(|d| d.keep).count();
    assert_eq!(
        kept(native::decide(&mut sampler, &mut b, &traces).unwrap()),
        4
    );
    now.set(Duration::from_secs(1));
    assert_eq!(
        kept(native::decide(&mut sampler, &mut b, &traces).unwrap()),
        2
    );

    let config = r#"{"policies": [{"name": "c", "type": "composite", "composite": {
        "max_total_spans_per_second": 4,
        "composite_sub_policy": [
            {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
            {"name": "all", "type": "always_sample"}],
        "rate_allocation": [{"policy": "errors", "percent": 75}, {"policy": "all", "percent": 25}]}}]}"#;
    let mut sampler = TailSampler::with_clock(config, &clock).unwrap();
    let mut b = batch(
        &(1..=6)
            .map(|i| (i, vec![(if i <= 4 { 2 } else { 0 }, 1, "")]))
            .collect::<Vec<_>>(),
    );
    let traces = traces_of(&b);
    let d = native::decide(&mut sampler, &mut b, &traces).unwrap();
    // errors get 3 spans a second, the rest 1.
    assert_eq!(
        d.iter().map(|d| d.keep).collect::<Vec<_>>(),
        [true, true, true, false, true, false]
    );
    now.set(Duration::from_secs(2));
    let d = native::decide(&mut sampler, &mut b, &traces).unwrap();
    assert_eq!(kept(d), 4, "a new second, a new budget");
}

#[test]
fn bad_configs_name_the_field() {
    for (config, field, words) in [
        (r#"{}"#, "", "give `policies`"),
        (
            r#"{"policies": [{"name": "x", "type": "nope"}]}"#,
            "policies[0].type",
            "unknown policy type",
        ),
        (
            r#"{"policies": [{"name": "x", "type": "latency", "latency": {"threshold_ms": 5, "upper_threshold_ms": 2}}]}"#,
            "policies[0].latency.upper_threshold_ms",
            "below",
        ),
        (
            r#"{"policies": [{"name": "x", "type": "numeric_attribute", "numeric_attribute": {"key": "k"}}]}"#,
            "policies[0].numeric_attribute",
            "min_value or max_value",
        ),
        (
            r#"{"policies": [{"name": "x", "type": "status_code"}]}"#,
            "policies[0].status_code",
            "needs its",
        ),
        (
            r#"{"policies": [{"name": "x", "type": "and", "and": {"and_sub_policy": [{"name": "y", "type": "status_code", "status_code": {"status_codes": ["BAD"]}}]}}]}"#,
            "policies[0].and.and_sub_policy[0].status_code",
            "unknown status code",
        ),
        (
            r#"{"policies": [{"name": "x", "type": "always_sample"}, {"name": "x", "type": "always_sample"}]}"#,
            "policies[1].name",
            "duplicate",
        ),
        (
            r#"{"policies": [{"name": "x", "type": "always_sample"}], "rates": [{"name": "d", "percentage": 10}]}"#,
            "policies[0].type",
            "only `drop`",
        ),
        (
            r#"{"rates": [{"name": "d", "percentage": 110}]}"#,
            "rates[0].percentage",
            "between 0 and 100",
        ),
        (
            r#"{"rates": [{"name": "d", "when": {"status_code": "BROKEN"}, "percentage": 10}]}"#,
            "rates[0].when.status_code",
            "unknown status code",
        ),
        (
            r#"{"rates": [{"name": "d", "when": {"latncy": {}}, "percentage": 10}]}"#,
            "rates[0].when.latncy",
            "unknown field",
        ),
        (
            r#"{"rates": [{"name": "d", "when": {}, "percentage": 10}]}"#,
            "rates[0].when",
            "empty",
        ),
        (
            r#"{"policies": [{"name": "x", "type": "ottl_condition"}]}"#,
            "policies[0].type",
            "not supported",
        ),
    ] {
        let error = TailSampler::configure(config).unwrap_err();
        assert_eq!(error.field, field, "{config}: {error}");
        assert!(error.message.contains(words), "{config}: {error}");
    }
}

#[test]
fn a_latency_bound_in_nanoseconds_agrees_with_dividing_every_duration() {
    let edges = [
        i64::MIN,
        i64::MIN + 1,
        -2_000_000_001,
        -2_000_000_000,
        -1_999_999_999,
        -1_000_001,
        -1_000_000,
        -999_999,
        -1,
        0,
        1,
        999_999,
        1_000_000,
        1_999_999,
        2_000_000,
        2_000_000_000,
        2_000_999_999,
        2_001_000_000,
        i64::MAX - 1,
        i64::MAX,
    ];
    let thresholds = [
        i64::MIN,
        i64::MIN / 1_000_000,
        -2_001,
        -2_000,
        -2,
        -1,
        0,
        1,
        2,
        1_999,
        2_000,
        2_001,
        i64::MAX / 1_000_000,
        i64::MAX,
    ];
    for ms in thresholds {
        for d in edges {
            // Go's Duration.Milliseconds: integer division, truncating toward zero.
            assert_eq!(
                d / 1_000_000 <= ms,
                i128::from(d) <= ms_bound(ms),
                "{d} ns against {ms} ms"
            );
        }
    }
}

/// The collector's latency check as it reads: every prefix of the spans, its duration in whole
/// milliseconds (Go's truncating `Milliseconds`), an upper threshold of 0 meaning none.
fn latency_as_the_collector(times: &[(u64, u64)], lower: i64, upper: i64) -> bool {
    let (mut min, mut max) = (0u64, 0u64);
    times.iter().any(|&(start, end)| {
        if min == 0 || start < min {
            min = start;
        }
        if max == 0 || end > max {
            max = end;
        }
        let ms = (max as i64).saturating_sub(min as i64) / 1_000_000;
        if upper == 0 {
            ms > lower
        } else {
            lower < ms && ms <= upper
        }
    })
}

#[test]
fn the_latency_check_agrees_with_the_collectors_on_odd_and_ordinary_timestamps() {
    // A fixed-seed generator: ordinary timestamps, and now and then 0, 1, or past i64::MAX.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let base = 1_700_000_000_000_000_000u64;
    let time = |roll: u64| match roll % 40 {
        0 => 0,
        1 => 1,
        2 => i64::MAX as u64 + 1 + roll % 7,
        3 => u64::MAX,
        // Milliseconds around the thresholds below, plus 0, 1 or 999,999 nanoseconds: the
        // durations fall on every bound and either side of it.
        _ => {
            let ms =
                [0, 1, 2, 3, 4, 5, 2000, 2001, 2500, 2501, 4000, 4001][(roll / 40 % 12) as usize];
            base + ms * 1_000_000 + [0, 1, 999_999][(roll / 480 % 3) as usize]
        }
    };
    let thresholds = [(0, 0), (2000, 0), (-5, 0), (1, 3), (0, 4000), (2000, 2500)];
    for _ in 0..20_000 {
        let spans = (next() % 12) as usize;
        let times: Vec<(u64, u64)> = (0..spans)
            .map(|_| {
                let start = time(next());
                (start, time(next()))
            })
            .collect();
        // The policies' path too, which answers from the trace's one-pass summary when it can.
        let codes: Vec<u8> = (0..spans).map(|_| (next() % 4) as u8).collect();
        let data = Data::of_spans(&times, &codes);
        let rows: Vec<u32> = (0..spans as u32).collect();
        let trace = data.trace(&rows);
        for (lower, upper) in thresholds {
            let bound = (upper != 0).then(|| ms_bound(upper));
            let collector = latency_as_the_collector(&times, lower, upper);
            assert_eq!(
                latency_of(|| times.iter().copied(), ms_bound(lower), bound),
                collector,
                "{times:?} against ({lower}, {upper})"
            );
            assert_eq!(
                latency(&trace, ms_bound(lower), bound),
                collector,
                "{times:?} against ({lower}, {upper}), through the summary"
            );
        }
        let status = codes.iter().fold(0, |set, &c| set | status_bit(c));
        assert_eq!(trace.summary().status, status, "{codes:?}");
    }
}
