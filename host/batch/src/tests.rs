//! Reads and journaled edits over a small batch with every level populated.

use crate::{BatchBuilder, EditError, Journal, Level, StrColumn, StrField, Value, kv};

fn sample() -> crate::Batch {
    BatchBuilder::new()
        .resource(vec![kv("service.name", "sleep-api")])
        .span(
            "GET /users/1",
            vec![kv("url.full", "https://x/a?b=c"), kv("n", 3i64)],
        )
        .event("exception", vec![kv("exception.message", "boom")])
        .span("POST /logs", vec![])
        .resource(vec![kv("service.name", "questionnaire")])
        .span("GET /health", vec![kv("url.full", "https://x/health")])
        .status(2, "failed")
        .build()
}

#[test]
fn columns_cover_every_row_of_their_level() {
    let batch = sample();
    assert_eq!(batch.len(), 3);
    assert_eq!(batch.trace_ids().len(), 48);
    assert_eq!(
        batch.str_field(StrField::Name).iter().collect::<Vec<_>>(),
        vec![
            Some("GET /users/1"),
            Some("POST /logs"),
            Some("GET /health")
        ]
    );
    assert_eq!(
        batch
            .str_attribute(Level::Resource, "service.name")
            .iter()
            .collect::<Vec<_>>(),
        vec![Some("sleep-api"), Some("sleep-api"), Some("questionnaire")]
    );
    assert_eq!(
        batch
            .str_attribute(Level::Span, "n")
            .iter()
            .collect::<Vec<_>>(),
        vec![None, None, None],
        "a non-string value is absent from a string column"
    );
    assert_eq!(
        batch.attribute(Level::Span, "n"),
        vec![Some(Value::Int(3)), None, None]
    );
    assert_eq!(batch.event_spans(), vec![0]);
    assert_eq!(batch.status_codes(), vec![0, 0, 2]);
    assert_eq!(batch.durations(), vec![5_000_000; 3]);
    assert_eq!(batch.attribute_keys(Level::Span), vec!["url.full", "n"]);
}

#[test]
fn edits_apply_in_order_and_drops_come_last() {
    let mut batch = sample();
    let mut journal = Journal::new(&batch, 1 << 20);
    journal
        .set_str_attribute(
            Level::Span,
            "url.full",
            vec![0],
            StrColumn::from_options([Some("https://x/a")]),
        )
        .unwrap();
    journal
        .set_attribute(
            Level::Event,
            "exception.message",
            vec![0],
            vec![Value::Str("[x]".into())],
        )
        .unwrap();
    journal
        .set_str_attribute(
            Level::Resource,
            "env",
            vec![2],
            StrColumn::from_options([Some("prod")]),
        )
        .unwrap();
    journal.remove_attribute(Level::Span, "n", vec![0]).unwrap();
    journal
        .set_str_field(
            StrField::Name,
            vec![1],
            StrColumn::from_options([Some("POST")]),
        )
        .unwrap();
    journal.drop_spans(vec![2]).unwrap();
    batch.apply(journal).unwrap();

    assert_eq!(batch.len(), 2);
    assert_eq!(
        batch.str_attribute(Level::Span, "url.full").get(0),
        Some("https://x/a")
    );
    assert_eq!(batch.attribute(Level::Span, "n")[0], None);
    assert_eq!(
        batch
            .str_attribute(Level::Event, "exception.message")
            .get(0),
        Some("[x]")
    );
    assert_eq!(batch.str_field(StrField::Name).get(1), Some("POST"));
    assert_eq!(
        batch.resource_spans().len(),
        1,
        "the emptied resource is gone"
    );
}

#[test]
fn bad_edits_are_refused_when_recorded() {
    let batch = sample();
    let mut journal = Journal::new(&batch, 64);
    assert!(matches!(
        journal.drop_spans(vec![3]),
        Err(EditError::RowOutOfRange {
            row: 3,
            rows: 3,
            ..
        })
    ));
    assert!(matches!(
        journal.set_str_field(
            StrField::ScopeName,
            vec![0],
            StrColumn::from_options([Some("x")])
        ),
        Err(EditError::ReadOnlyField(StrField::ScopeName))
    ));
    assert!(matches!(
        journal.set_str_attribute(
            Level::Span,
            "k",
            vec![0, 1],
            StrColumn::from_options([Some("x")])
        ),
        Err(EditError::LengthMismatch { rows: 2, values: 1 })
    ));
    assert!(matches!(
        journal.set_str_attribute(Level::Span, "k", vec![0], StrColumn::from_options([None])),
        Err(EditError::BadColumn(_))
    ));
    let big = "x".repeat(100);
    assert!(matches!(
        journal.set_str_attribute(
            Level::Span,
            "k",
            vec![0],
            StrColumn::from_options([Some(big.as_str())])
        ),
        Err(EditError::OutputCap { cap: 64 })
    ));
    assert!(journal.is_empty());
}

#[test]
fn split_and_append_keep_every_span() {
    let mut batch = sample();
    let tail = batch.split_off(1);
    assert_eq!((batch.len(), tail.len()), (1, 2));
    batch.append(tail);
    assert_eq!(batch.len(), 3);
    assert_eq!(batch.str_field(StrField::Name).get(2), Some("GET /health"));
}
