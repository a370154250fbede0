//! The filter run natively over host batches, as the WebAssembly build runs in the host.

use super::Filter;
use crate::cases::{HOLD_ON_RICH_BATCH, cases, rich_batch, timed};
use opentelemetry_proto::tonic::trace::v1::Span;
use spanwise_batch::{Batch, BatchBuilder, StrField, kv};
use spanwise_sdk::{LogLevel, ProcessError, Processor, native};
use std::collections::BTreeMap;

fn filter(config: serde_json::Value) -> Filter {
    Filter::configure(&config.to_string()).unwrap_or_else(|e| panic!("{config}: {e}"))
}

fn spans(conditions: &[&str]) -> Filter {
    filter(serde_json::json!({"traces": {"span": conditions}}))
}

fn run(processor: &mut Filter, batch: &mut Batch) -> BTreeMap<String, u64> {
    native::take_counters();
    native::process(processor, batch).unwrap();
    native::take_counters()
}

fn names(batch: &Batch) -> Vec<String> {
    batch
        .str_field(StrField::Name)
        .iter()
        .map(|n| n.unwrap_or("").to_owned())
        .collect()
}

/// The shared case `name`: its processor and batch.
fn case(name: &str) -> (Filter, Batch) {
    let (_, config, batch) = cases()
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .expect("a case of that name");
    (filter(config), batch)
}

fn config_error(config: serde_json::Value) -> String {
    match Filter::configure(&config.to_string()) {
        Ok(_) => panic!("accepted {config}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_platform_config_verbatim_drops_health_checks_and_sub_millisecond_spans() {
    let (mut processor, mut batch) = case("platform");
    let before: Vec<_> = batch.resource_spans().to_vec();
    let counters = run(&mut processor, &mut batch);
    assert_eq!(
        names(&batch),
        ["exactly 1ms", "GET /sessions", "route as int"]
    );
    // What stays is unchanged.
    let kept: Vec<&Span> = before[0].scope_spans[0].spans[3..].iter().collect();
    let after: Vec<&Span> = batch.resource_spans()[0].scope_spans[0]
        .spans
        .iter()
        .collect();
    assert_eq!(kept, after);
    assert_eq!(counters.get("condition_errors"), None);
    assert_eq!(counters.get("events_dropped"), None);
}

#[test]
fn duration_is_the_documented_shorthand() {
    let mut processor = spans(&["duration < 1000000"]);
    let t = 1_000_000_000u64;
    let mut batch = BatchBuilder::new()
        .push_span(timed("fast", t, t + 10, vec![]))
        .push_span(timed("slow", t, t + 2_000_000, vec![]))
        .build();
    run(&mut processor, &mut batch);
    assert_eq!(names(&batch), ["slow"]);
}

#[test]
fn every_span_path_reads_the_batch() {
    for condition in HOLD_ON_RICH_BATCH {
        let mut batch = rich_batch();
        let counters = run(&mut spans(&[condition]), &mut batch);
        assert_eq!(batch.len(), 0, "{condition} did not hold");
        assert_eq!(counters.get("condition_errors"), None, "{condition}");
        let mut batch = rich_batch();
        run(&mut spans(&[&format!("not ({condition})")]), &mut batch);
        assert_eq!(batch.len(), 1, "not ({condition}) held");
    }
}

#[test]
fn span_event_conditions_drop_events_and_keep_spans() {
    let (mut processor, mut batch) = case("span events");
    let counters = run(&mut processor, &mut batch);
    assert_eq!(names(&batch), ["GET", "POST"]);
    assert_eq!(
        batch
            .str_field(StrField::EventName)
            .iter()
            .collect::<Vec<_>>(),
        [Some("exception"), Some("log")]
    );
    assert_eq!(counters["events_dropped"], 3);
}

#[test]
fn events_of_dropped_spans_are_not_evaluated_or_counted() {
    let (mut processor, mut batch) = case("spans and their events");
    let counters = run(&mut processor, &mut batch);
    assert_eq!(names(&batch), ["POST"]);
    assert_eq!(batch.row_count(spanwise_sdk::Level::Event), 0);
    assert_eq!(counters["events_dropped"], 1);
}

#[test]
fn error_mode_ignore_counts_the_condition_false_and_logs_once() {
    let (mut processor, mut batch) = case("error_mode ignore");
    native::with_context(|cx| cx.logs.clear());
    let counters = run(&mut processor, &mut batch);
    let log = native::with_context(|cx| std::mem::take(&mut cx.logs));
    assert_eq!(names(&batch), ["keep", "keep too"]);
    assert_eq!(counters["condition_errors"], 2);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].0, LogLevel::Warn);
    assert!(
        log[0]
            .1
            .contains(r#"traces.span[0] "Len(attributes[\"n\"]) > 2" failed on 2 row(s)"#),
        "{}",
        log[0].1
    );
    assert!(
        log[0].1.contains("the integer 1 has no length"),
        "{}",
        log[0].1
    );
}

#[test]
fn error_mode_silent_logs_nothing_and_propagate_fails_the_batch() {
    let config = |mode: &str| {
        filter(
            serde_json::json!({"error_mode": mode, "traces": {"span": ["attributes[\"n\"] / 0 == 1"]}}),
        )
    };
    let mut batch = BatchBuilder::new().span("a", vec![kv("n", 1i64)]).build();
    native::with_context(|cx| cx.logs.clear());
    run(&mut config("silent"), &mut batch);
    let log = native::with_context(|cx| std::mem::take(&mut cx.logs));
    assert!(log.is_empty(), "{log:?}");
    assert_eq!(batch.len(), 1);

    let mut processor = config("propagate");
    let error = native::process(&mut processor, &mut batch).unwrap_err();
    assert_eq!(
        error,
        ProcessError::InvalidData(
            r#"traces.span[0] "attributes[\"n\"] / 0 == 1" failed (error_mode: propagate): attempted to divide by 0"#.into()
        )
    );
    assert_eq!(batch.len(), 1, "nothing is applied from a failed call");
}

#[test]
fn configs_are_checked_at_configure_with_index_and_column() {
    assert_eq!(
        config_error(
            serde_json::json!({"traces": {"span": ["name == \"a\"", "attributes[\"x\"] = 1"]}})
        ),
        r#"traces.span[1]: "attributes[\"x\"] = 1": column 17: expected a comparison (==, !=, <, <=, >, >=), found `=`"#
    );
    assert_eq!(
        config_error(serde_json::json!({"traces": {"spanevent": ["kind == 1"]}})),
        r#"traces.spanevent[0]: "kind == 1": `kind` is not a span event path this filter reads"#
    );
    assert!(
        config_error(serde_json::json!({"traces": {"span": ["IsMatch(name, \"[\")"]}}))
            .starts_with(r#"traces.span[0]: "IsMatch(name, \"[\")": IsMatch: invalid pattern"#)
    );
    assert!(
        config_error(serde_json::json!({"error_mode": "loud"})).contains("unknown variant `loud`")
    );
    assert!(
        config_error(serde_json::json!({"traces": {"spans": []}}))
            .contains("unknown field `spans`")
    );
    assert!(config_error(serde_json::json!({"metrics": {}})).contains("unknown field `metrics`"));
}

#[test]
fn an_empty_config_drops_nothing() {
    let mut processor = filter(serde_json::json!({}));
    let mut batch = rich_batch();
    run(&mut processor, &mut batch);
    assert_eq!(batch.len(), 1);
}

#[test]
fn whole_resources_go_when_all_their_spans_do() {
    let mut processor = spans(&[r#"resource.attributes["service.name"] == "health-prober""#]);
    let mut batch = BatchBuilder::new()
        .resource(vec![kv("service.name", "health-prober")])
        .span("probe", vec![])
        .span("probe", vec![])
        .resource(vec![kv("service.name", "sessions")])
        .span("GET", vec![])
        .build();
    run(&mut processor, &mut batch);
    assert_eq!(names(&batch), ["GET"]);
    assert_eq!(batch.resource_spans().len(), 1);
}

#[test]
fn the_collectors_filter_processor_and_this_one_agree_on_every_reference_case() {
    use crate::cases::{Expected, kept, reference, reference_input};
    let all = reference();
    assert!(all.len() >= 60);
    for case in all {
        let actual = match Filter::configure(&case.config) {
            Err(e) => Expected::ConfigError(e.to_string()),
            Ok(mut processor) => {
                let mut batch = reference_input();
                match native::process(&mut processor, &mut batch) {
                    Ok(()) => Expected::Kept(kept(&batch)),
                    Err(e) => Expected::ProcessError(e.to_string()),
                }
            }
        };
        match (&case.expected, &actual) {
            // Both refuse; the messages are our own.
            (Expected::ConfigError(_), Expected::ConfigError(_))
            | (Expected::ProcessError(_), Expected::ProcessError(_)) => {}
            (expected, actual) => assert_eq!(actual, expected, "case {:?}", case.name),
        }
    }
}
