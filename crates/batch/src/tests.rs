//! Reads and journaled edits over a small batch with every level populated.

use crate::{
    Batch, BatchBuilder, EditError, Journal, LentBatch, Level, SpanBatch, StrColumn, StrField,
    Value, kv,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, any_value};
use prost::Message;
use spanwise_abi::{Edited, StrEdit};

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
fn counts_are_what_the_columns_hold() {
    let batch = sample();
    let fields = [
        StrField::Name,
        StrField::StatusMessage,
        StrField::TraceState,
        StrField::ScopeName,
        StrField::ScopeVersion,
        StrField::SchemaUrl,
        StrField::EventName,
        StrField::LinkTraceState,
    ];
    let counts: Vec<usize> = fields.map(|f| batch.str_field_count(f)).to_vec();
    assert_eq!(
        counts,
        fields.map(|f| batch.str_field(f).non_empty()).to_vec()
    );
    // Three names, one status message ("failed"), no tracestate, one event name.
    assert_eq!((counts[0], counts[1], counts[2], counts[6]), (3, 1, 0, 1));
    for (at, key, count) in [
        (Level::Span, "url.full", 2),
        (Level::Span, "n", 1),
        (Level::Span, "absent", 0),
        (Level::Resource, "service.name", 3),
        (Level::Event, "exception.message", 1),
    ] {
        assert_eq!(batch.attribute_count(at, key), count, "{at:?} {key}");
    }
    // Through the trait, as a native plugin calls them.
    let lent = LentBatch::new(batch, usize::MAX);
    assert_eq!(lent.str_field_count(StrField::Name), 3);
    assert_eq!(lent.attribute_count(Level::Span, "url.full"), 2);
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
    assert!(matches!(
        journal.fill_str_field(StrField::SchemaUrl, vec![0], "x"),
        Err(EditError::ReadOnlyField(StrField::SchemaUrl))
    ));
    assert!(matches!(
        journal.fill_str_field(StrField::Name, vec![1, 3], "x"),
        Err(EditError::RowOutOfRange { row: 3, .. })
    ));
    assert!(matches!(
        journal.fill_str_field(StrField::Name, vec![0], &big),
        Err(EditError::OutputCap { cap: 64 })
    ));
    assert!(journal.is_empty());
}

#[test]
fn a_fill_sets_what_a_column_of_the_same_value_sets() {
    let mut filled = sample();
    let mut set = sample();
    let mut journal = Journal::new(&filled, usize::MAX);
    journal
        .fill_str_field(StrField::Name, vec![0, 2], "renamed")
        .unwrap();
    journal
        .fill_str_field(StrField::EventName, vec![0], "e")
        .unwrap();
    filled.apply(journal).unwrap();
    let mut journal = Journal::new(&set, usize::MAX);
    journal
        .set_str_field(
            StrField::Name,
            vec![0, 2],
            ["renamed"; 2].into_iter().collect(),
        )
        .unwrap();
    journal
        .set_str_field(StrField::EventName, vec![0], ["e"].into_iter().collect())
        .unwrap();
    set.apply(journal).unwrap();
    assert_eq!(filled.to_request(), set.to_request());
    assert_eq!(names(&filled), ["renamed", "POST /logs", "renamed"]);
    // Through the trait, as a native plugin records it.
    let mut lent = LentBatch::new(sample(), usize::MAX);
    lent.fill_str_field(StrField::Name, &[1], "x");
    let (mut batch, journal) = lent.finish();
    batch.apply(journal.unwrap()).unwrap();
    assert_eq!(names(&batch), ["GET /users/1", "x", "GET /health"]);
}

#[test]
fn a_complex_value_that_does_not_decode_is_refused_when_recorded() {
    let mut batch = sample();
    let before = batch.to_request();
    let mut journal = Journal::new(&batch, 1 << 20);
    journal
        .set_str_attribute(
            Level::Span,
            "url.full",
            vec![0],
            StrColumn::from_options([Some("https://x/a")]),
        )
        .unwrap();
    let refused = journal.set_attribute(
        Level::Span,
        "tags",
        vec![1],
        vec![Value::Complex(vec![0x0a, 0xff, 0xff])],
    );
    assert!(
        matches!(&refused, Err(EditError::BadValue { key, .. }) if key == "tags"),
        "{refused:?}"
    );
    assert_eq!(
        journal.edits().len(),
        1,
        "the refused edit was not recorded"
    );
    // What the journal holds applies in full; nothing is left that could fail half-way.
    batch.apply(journal).unwrap();
    assert_ne!(batch.to_request(), before);
    assert_eq!(batch.attribute(Level::Span, "tags"), vec![None, None, None]);
}

#[test]
fn a_complex_value_that_decodes_is_stored_as_it_came() {
    let mut batch = sample();
    let array = AnyValue {
        value: Some(any_value::Value::ArrayValue(ArrayValue {
            values: vec![AnyValue {
                value: Some(any_value::Value::IntValue(7)),
            }],
        })),
    };
    let mut journal = Journal::new(&batch, 1 << 20);
    journal
        .set_attribute(
            Level::Span,
            "tags",
            vec![2],
            vec![Value::Complex(array.encode_to_vec())],
        )
        .unwrap();
    batch.apply(journal).unwrap();
    assert_eq!(
        batch.attribute(Level::Span, "tags")[2],
        Some(Value::Complex(array.encode_to_vec()))
    );
}

#[test]
fn a_journal_of_another_batch_changes_nothing() {
    let mut batch = sample();
    let other = BatchBuilder::new().span("x", vec![]).build();
    let mut journal = Journal::new(&other, 1 << 20);
    journal.drop_spans(vec![0]).unwrap();
    let before = batch.to_request();
    assert_eq!(batch.apply(journal), Err(EditError::WrongBatch));
    assert_eq!(batch.to_request(), before);
}

#[test]
fn typed_reads_and_attribute_rows() {
    let batch = BatchBuilder::new()
        .span(
            "a",
            vec![kv("code", 200i64), kv("ratio", 0.5), kv("ok", true)],
        )
        .span("b", vec![kv("code", "200"), kv("ok", false)])
        .span("c", vec![])
        .event("e", vec![kv("code", 1i64)])
        .build();
    assert_eq!(
        batch
            .int_attribute(Level::Span, "code")
            .iter()
            .collect::<Vec<_>>(),
        vec![Some(200), None, None],
        "a string is not an integer"
    );
    assert_eq!(
        batch
            .double_attribute(Level::Span, "ratio")
            .iter()
            .collect::<Vec<_>>(),
        vec![Some(0.5), None, None]
    );
    assert_eq!(
        batch
            .bool_attribute(Level::Span, "ok")
            .iter()
            .collect::<Vec<_>>(),
        vec![Some(true), Some(false), None]
    );
    assert_eq!(
        batch.attribute_rows(Level::Span, &["code", "ok", "missing"]),
        vec![vec![0, 1], vec![0, 1], vec![]]
    );
    assert_eq!(batch.attribute_rows(Level::Event, &["code"]), vec![vec![0]]);
    let columns = batch.str_attributes(Level::Span, &["code", "missing", "code"]);
    assert_eq!(columns.len(), 3);
    assert_eq!(
        columns[0].iter().collect::<Vec<_>>(),
        vec![None, Some("200"), None]
    );
    assert_eq!(
        columns[1].iter().collect::<Vec<_>>(),
        vec![None, None, None]
    );
    assert_eq!(columns[0], batch.str_attribute(Level::Span, "code"));
    assert_eq!(
        columns[2], columns[0],
        "a key asked twice is answered twice"
    );
    assert_eq!(batch.row_count(Level::Event), 1);
    assert_eq!(batch.row_count(Level::Link), 0);
}

#[test]
fn helpers_record_only_what_changes() {
    let batch = BatchBuilder::new()
        .span(
            "GET /a?x=1",
            vec![kv("url.full", "https://h/a?x=1"), kv("n", 1i64)],
        )
        .span("GET /b", vec![kv("url.full", "https://h/b"), kv("n", 2i64)])
        .span("GET /c", vec![kv("url.full", "drop me")])
        .build();
    let mut lent = LentBatch::new(batch, usize::MAX);
    let changed = lent.map_str_attribute(Level::Span, "url.full", |_, url| {
        url.split_once('?').map(|(path, _)| path.to_owned())
    });
    assert_eq!(changed, 1);
    let edited = lent.edit_str_attribute(Level::Span, "url.full", |row, url| match row {
        1 => StrEdit::Set(url.to_owned()),
        2 => StrEdit::Remove,
        _ => StrEdit::Keep,
    });
    assert_eq!(
        edited,
        Edited { set: 0, removed: 1 },
        "an equal value is not written"
    );
    assert_eq!(
        lent.map_str_field(StrField::Name, |_, name| Some(name.replace("?x=1", ""))),
        1
    );
    assert_eq!(lent.remove_attribute_everywhere(Level::Span, "n"), 2);
    assert_eq!(lent.all_rows(), vec![0, 1, 2]);
    let (mut batch, journal) = lent.finish();
    let journal = journal.unwrap();
    assert_eq!(
        journal.edits().len(),
        4,
        "one edit per helper call that changed something"
    );
    batch.apply(journal).unwrap();
    assert_eq!(
        batch
            .str_attribute(Level::Span, "url.full")
            .iter()
            .collect::<Vec<_>>(),
        vec![Some("https://h/a"), Some("https://h/b"), None]
    );
    assert_eq!(batch.str_field(StrField::Name).get(0), Some("GET /a"));
    assert_eq!(
        batch.attribute_rows(Level::Span, &["n"]),
        vec![Vec::<u32>::new()]
    );
}

#[test]
fn a_refused_edit_through_the_trait_is_the_calls_error() {
    let mut lent = LentBatch::new(sample(), usize::MAX);
    lent.drop_spans(&[0]);
    lent.drop_spans(&[7]);
    let (batch, journal) = lent.finish();
    assert!(matches!(
        journal,
        Err(EditError::RowOutOfRange { row: 7, .. })
    ));
    assert_eq!(batch.len(), 3, "the batch comes back untouched");
}

fn names(batch: &Batch) -> Vec<String> {
    batch
        .str_field(StrField::Name)
        .iter()
        .map(|n| n.unwrap_or_default().to_owned())
        .collect()
}

/// Three resources, the middle one with two scopes, seven spans in all.
fn layered() -> Batch {
    let mut batch = BatchBuilder::new()
        .resource(vec![kv("service.name", "a")])
        .span("a0", vec![])
        .span("a1", vec![])
        .resource(vec![kv("service.name", "b")])
        .span("b0", vec![])
        .span("b1", vec![])
        .resource(vec![kv("service.name", "c")])
        .span("c0", vec![])
        .span("c1", vec![])
        .span("c2", vec![])
        .build()
        .into_request();
    // Give resource b a second scope holding b1.
    let scope = &mut batch.resource_spans[1].scope_spans;
    let mut second = scope[0].clone();
    second.spans = vec![scope[0].spans.pop().unwrap()];
    second.scope.as_mut().unwrap().name = "second".into();
    scope.push(second);
    Batch::from_request(batch)
}

#[test]
fn split_off_at_every_row_keeps_every_span_in_order() {
    let all = names(&layered());
    for at in 0..=all.len() {
        let mut head = layered();
        let tail = head.split_off(at);
        assert_eq!(names(&head), all[..at], "head at {at}");
        assert_eq!(names(&tail), all[at..], "tail at {at}");
        assert!(
            head.resource_spans()
                .iter()
                .chain(tail.resource_spans())
                .all(|r| !r.scope_spans.is_empty()
                    && r.scope_spans.iter().all(|s| !s.spans.is_empty())),
            "no empty resource or scope at {at}"
        );
        // Spans keep their resource and scope.
        let services = |b: &Batch| -> Vec<String> {
            b.str_attribute(Level::Resource, "service.name")
                .iter()
                .map(|s| s.unwrap().to_owned())
                .collect()
        };
        let mut joined = services(&head);
        joined.extend(services(&tail));
        assert_eq!(joined, services(&layered()), "resources at {at}");
        let scopes = |b: &Batch| {
            b.str_field(StrField::ScopeName)
                .iter()
                .map(|s| s.map(String::from))
                .collect::<Vec<_>>()
        };
        let mut joined = scopes(&head);
        joined.extend(scopes(&tail));
        assert_eq!(joined, scopes(&layered()), "scopes at {at}");
        // The halves are whole batches: edits and appends work on them.
        head.append(tail);
        assert_eq!(names(&head), all);
    }
}

#[test]
fn rows_know_which_resource_and_scope_they_share() {
    let batch = layered();
    assert_eq!(batch.resource_ids(), vec![0, 0, 1, 1, 2, 2, 2]);
    assert_eq!(batch.scope_ids(), vec![0, 0, 1, 2, 3, 3, 3]);
}

#[test]
fn into_chunks_cuts_in_order() {
    let chunks = layered().into_chunks(3);
    let sizes: Vec<usize> = chunks.iter().map(Batch::len).collect();
    assert_eq!(sizes, vec![3, 3, 1]);
    let joined: Vec<String> = chunks.iter().flat_map(names).collect();
    assert_eq!(joined, names(&layered()));
    assert_eq!(layered().into_chunks(0).len(), 1);
    assert_eq!(layered().into_chunks(7).len(), 1);
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

fn sha256_hex(text: &str) -> String {
    let column = spanwise_abi::BytesColumn::from(StrColumn::from_options([Some(text)]));
    crate::hash::sha256_bytes(&column)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn hashing_in_place_follows_the_edits_before_it_and_hashes_a_shared_resource_once() {
    let mut batch = sample();
    let mut lent = LentBatch::new(batch.clone(), 1 << 20);
    let rows = lent.all_rows();
    // Rewrite one URL first: the hash must see the value set, not the one read.
    lent.set_str_attribute(
        Level::Span,
        "url.full",
        &[2],
        &StrColumn::from_options([Some("https://x/ready")]),
    );
    lent.hash_attributes(
        Level::Span,
        &["url.full", "n", "url.full", "missing"],
        &rows,
        &spanwise_abi::HashFunction::Sha256,
    );
    // Two spans share the first resource: it is hashed once, not twice.
    lent.hash_attributes(
        Level::Resource,
        &["service.name"],
        &rows,
        &spanwise_abi::HashFunction::Sha256,
    );
    let (_, journal) = lent.finish();
    let applied = batch.apply(journal.unwrap()).unwrap();
    let urls = batch.str_attribute(Level::Span, "url.full");
    assert_eq!(urls.get(0), Some(sha256_hex("https://x/a?b=c").as_str()));
    assert_eq!(urls.get(1), None, "a span without the key is left alone");
    assert_eq!(urls.get(2), Some(sha256_hex("https://x/ready").as_str()));
    let n: Vec<u8> = {
        use sha2::Digest;
        sha2::Sha256::digest(3i64.to_le_bytes()).to_vec()
    };
    let n: String = n.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        batch.str_attribute(Level::Span, "n").get(0),
        Some(n.as_str()),
        "an integer hashes as its 8 bytes little-endian and becomes a string"
    );
    let services = batch.str_attribute(Level::Resource, "service.name");
    assert_eq!(services.get(0), Some(sha256_hex("sleep-api").as_str()));
    assert_eq!(services.get(1), services.get(0), "the same resource");
    assert_eq!(services.get(2), Some(sha256_hex("questionnaire").as_str()));
    assert_eq!(
        applied.hashed,
        3 + 2,
        "two URLs and one integer; two resources"
    );
}

#[test]
fn a_keyed_hash_needs_a_key_the_processor_has_and_never_shows_it() {
    let batch = sample();
    let keyed = spanwise_abi::HashFunction::HmacSha256("patient".into());
    let mut lent = LentBatch::new(batch.clone(), 1 << 20);
    lent.hash_attributes(Level::Span, &["url.full"], &[0], &keyed);
    let (_, journal) = lent.finish();
    assert_eq!(
        journal.unwrap_err(),
        EditError::UnknownKey("patient".into())
    );

    let keys = [("patient".to_owned(), b"not-for-logs".to_vec())].into();
    let mut lent = LentBatch::new(batch.clone(), 1 << 20).with_keys(keys);
    lent.hash_attributes(Level::Span, &["url.full"], &[0], &keyed);
    lent.hash_attributes(Level::Span, &["url.full"], &[9], &keyed);
    let (_, journal) = lent.finish();
    assert!(
        matches!(journal, Err(EditError::RowOutOfRange { row: 9, .. })),
        "rows are checked when the edit is recorded"
    );

    let mut journal = Journal::new(&batch, 1 << 20);
    journal
        .hash_attributes(
            Level::Span,
            &["url.full"],
            vec![0],
            Some(crate::Secret(b"not-for-logs".to_vec())),
        )
        .unwrap();
    let shown = format!("{journal:?}");
    assert!(
        !shown.contains("110, 111, 116") && shown.contains("Secret(12 bytes)"),
        "{shown}"
    );
}

#[test]
fn dropped_events_go_after_every_other_edit_and_their_spans_stay() {
    let mut batch = BatchBuilder::new()
        .span("a", vec![])
        .event("a0", vec![])
        .event("a1", vec![])
        .span("b", vec![])
        .event("b0", vec![])
        .span("c", vec![])
        .event("c0", vec![])
        .build();
    let mut journal = Journal::new(&batch, 1024);
    journal.drop_events(vec![0, 2]).unwrap();
    // Event rows keep their numbers until the end of the call: row 1 is still `a1`.
    journal
        .set_str_field(
            StrField::EventName,
            vec![1],
            StrColumn::from_options([Some("a1 renamed")]),
        )
        .unwrap();
    // An event of a dropped span may be named too.
    journal.drop_events(vec![3]).unwrap();
    journal.drop_spans(vec![2]).unwrap();
    assert!(matches!(
        journal.drop_events(vec![4]),
        Err(EditError::RowOutOfRange {
            row: 4,
            rows: 4,
            ..
        })
    ));
    batch.apply(journal).unwrap();
    assert_eq!(batch.len(), 2);
    assert_eq!(
        batch
            .str_field(StrField::EventName)
            .iter()
            .collect::<Vec<_>>(),
        [Some("a1 renamed")]
    );
    assert_eq!(batch.event_spans(), [0]);
}

/// `sample()` as request bytes, kept in wire form.
fn wire_sample() -> (Batch, bytes::Bytes) {
    let bytes = bytes::Bytes::from(sample().into_request().encode_to_vec());
    let batch = Batch::from_encoded(bytes.clone()).expect("a request the scan takes");
    (batch, bytes)
}

#[test]
fn a_batch_from_bytes_stays_in_wire_form_until_it_is_edited() {
    let (mut batch, bytes) = wire_sample();
    assert!(batch.is_wire_only());
    assert_eq!((batch.len(), batch.resource_count()), (3, 2));
    assert_eq!(batch.encoded(), Some(&bytes));
    // A read decodes, and the bytes still stand for the batch.
    assert_eq!(batch.trace_ids().len(), 48);
    assert!(!batch.is_wire_only());
    assert_eq!(batch.encoded(), Some(&bytes));
    assert_eq!(batch.to_request(), sample().into_request());
    // An edit leaves only the decoded form.
    let mut journal = Journal::new(&batch, usize::MAX);
    journal.drop_spans(vec![0]).unwrap();
    batch.apply(journal).unwrap();
    assert_eq!(batch.encoded(), None);
    assert_eq!(batch.len(), 2);
    assert_eq!(batch.resource_count(), 2);
    assert_eq!(batch.to_bytes(), batch.to_request().encode_to_vec());
    assert_eq!(
        wire_sample().0.to_bytes(),
        bytes,
        "no edit: the bytes as they came"
    );
}

#[test]
fn batches_in_wire_form_append_as_bytes_and_others_decode() {
    let (mut both, bytes) = wire_sample();
    let (other, _) = wire_sample();
    both.append(other);
    assert!(both.is_wire_only());
    assert_eq!((both.len(), both.resource_count()), (6, 4));
    assert_eq!(both.encoded().map(|b| b.len()), Some(2 * bytes.len()));
    let mut expected = sample();
    expected.append(sample());
    assert_eq!(both.to_request(), expected.to_request());

    let (mut mixed, _) = wire_sample();
    mixed.append(sample());
    assert_eq!(mixed.encoded(), None);
    assert_eq!(mixed.to_request(), expected.to_request());
    let mut empty = Batch::default();
    empty.append(wire_sample().0);
    assert!(
        empty.is_wire_only(),
        "appended to nothing, it is the other batch"
    );
    empty.append(Batch::default());
    assert_eq!(empty.len(), 3);
}

#[test]
fn a_wire_batch_splits_and_chunks_as_a_decoded_one() {
    let (batch, _) = wire_sample();
    let kept = batch.clone().into_chunks(3);
    assert!(kept[0].is_wire_only(), "one chunk: nothing to cut");
    let chunks = batch.into_chunks(2);
    let decoded = sample().into_chunks(2);
    assert_eq!(chunks.len(), decoded.len());
    for (a, b) in chunks.iter().zip(&decoded) {
        assert_eq!(a.to_request(), b.to_request());
    }
}

#[test]
fn bytes_the_scan_leaves_are_decoded_at_once_or_refused() {
    // An unknown field (2, a varint), which prost skips: the fast path leaves it to prost.
    let mut bytes = sample().into_request().encode_to_vec();
    bytes.extend_from_slice(&[0x10, 0x01]);
    let decoded = Batch::from_encoded(bytes.into()).unwrap();
    assert!(!decoded.is_wire_only());
    assert_eq!(decoded.encoded(), None);
    assert_eq!(decoded.to_request(), sample().into_request());
    let refused = Batch::from_encoded(bytes::Bytes::from_static(&[0x0a, 0x05, 0x01]));
    assert!(refused.is_err());
}

/// Four spans: tracestates on rows 1 and 3, `sampling.priority` on rows 0 (an int) and 2 (a
/// string).
fn sampled() -> Batch {
    let mut batch = BatchBuilder::new()
        .resource(vec![kv("service.name", "sleep-api")])
        .span("a", vec![kv("sampling.priority", 1i64)])
        .span("b", vec![])
        .span("c", vec![kv("sampling.priority", "high")])
        .span("d", vec![kv("n", 1i64)])
        .build()
        .to_request();
    let spans = &mut request_spans(&mut batch);
    spans[1].trace_state = "ot=th:8".into();
    spans[3].trace_state = "vendor=x".into();
    Batch::from_request(batch)
}

fn request_spans(
    request: &mut opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest,
) -> Vec<&mut opentelemetry_proto::tonic::trace::v1::Span> {
    request
        .resource_spans
        .iter_mut()
        .flat_map(|r| &mut r.scope_spans)
        .flat_map(|s| &mut s.spans)
        .collect()
}

/// The spans' names and tracestates, in order.
fn names_and_states(batch: &Batch) -> Vec<(String, String)> {
    let mut request = batch.to_request();
    request_spans(&mut request)
        .into_iter()
        .map(|s| (s.name.clone(), s.trace_state.clone()))
        .collect()
}

/// One edit of a script that runs on a batch directly and on a [`Viewed`] of it.
enum Step {
    FillState(&'static [u32], &'static str),
    FillName(&'static [u32], &'static str),
    SetState(&'static [u32], &'static str),
    Drop(&'static [u32]),
    RemoveN,
}

fn run<B: SpanBatch + ?Sized>(batch: &mut B, steps: &[Step]) {
    for step in steps {
        match *step {
            Step::FillState(rows, value) => batch.fill_str_field(StrField::TraceState, rows, value),
            Step::FillName(rows, value) => batch.fill_str_field(StrField::Name, rows, value),
            Step::SetState(rows, value) => {
                let values = StrColumn::from_options(rows.iter().map(|_| Some(value)));
                batch.set_str_field(StrField::TraceState, rows, &values);
            }
            Step::Drop(rows) => batch.drop_spans(rows),
            Step::RemoveN => batch.remove_attribute(Level::Span, "n", &[3]),
        }
    }
}

/// `batch` after `steps` ran on it directly, and after they ran on a [`Viewed`] of it whose
/// kept-back edits were then recorded as the host records them: the two batches, and the
/// edits kept back.
fn direct_and_viewed(batch: &Batch, steps: &[Step]) -> (Batch, Batch, spanwise_abi::HeadEdits) {
    let mut direct = LentBatch::new(batch.clone(), 1 << 20);
    run(&mut direct, steps);
    let (mut a, journal) = direct.finish();
    a.apply(journal.unwrap()).unwrap();

    let mut lent = LentBatch::new(batch.clone(), 1 << 20);
    let view = spanwise_abi::HeadView::read(&lent);
    let mut viewed = spanwise_abi::Viewed::new(&mut lent, view);
    run(&mut viewed, steps);
    let edits = viewed.into_edits();
    edits.record_on(&mut lent);
    let (mut b, journal) = lent.finish();
    b.apply(journal.unwrap()).unwrap();
    (a, b, edits)
}

#[test]
fn a_viewed_batch_answers_the_views_reads_as_the_batch_does() {
    let batch = sampled();
    let mut lent = LentBatch::new(batch.clone(), 1 << 20);
    let view = spanwise_abi::HeadView::read(&lent);
    assert_eq!(view.trace_state_count, 2);
    assert_eq!(view.priority_count, 2, "priorities of any type count");
    assert_eq!(view.trace_ids, batch.trace_ids());
    let viewed = spanwise_abi::Viewed::new(&mut lent, view);
    assert_eq!(viewed.len(), 4);
    assert_eq!(viewed.str_field_count(StrField::TraceState), 2);
    assert_eq!(
        viewed.str_field_count(StrField::Name),
        4,
        "asked of the batch"
    );
    assert_eq!(
        viewed.attribute_count(Level::Span, spanwise_abi::SAMPLING_PRIORITY),
        2
    );
    assert_eq!(viewed.attribute_count(Level::Span, "n"), 1);
    assert_eq!(viewed.trace_ids(), batch.trace_ids());
    assert_eq!(
        viewed.trace_ids(),
        batch.trace_ids(),
        "a second read asks the batch"
    );
}

#[test]
fn a_viewed_batch_edits_as_the_batch_itself_does() {
    let batch = sampled();
    // The head sampler's usual call: a fill, then a drop; both kept back.
    let (a, b, edits) = direct_and_viewed(
        &batch,
        &[Step::FillState(&[0, 2], "ot=th:c"), Step::Drop(&[1, 3])],
    );
    assert_eq!(names_and_states(&a), names_and_states(&b));
    assert_eq!(
        names_and_states(&b),
        vec![
            ("a".to_owned(), "ot=th:c".to_owned()),
            ("c".to_owned(), "ot=th:c".to_owned())
        ]
    );
    assert_eq!(edits.trace_state_rows, vec![0, 2]);
    assert_eq!(edits.trace_state, "ot=th:c");
    assert_eq!(edits.dropped, vec![1, 3]);

    // Edits of every kind between and after: what is kept back goes to the batch first, in
    // order, so a later column of tracestates wins over an earlier fill, and the last fill
    // (kept back) wins over both.
    let (a, b, edits) = direct_and_viewed(
        &batch,
        &[
            Step::FillState(&[0, 1, 2], "x=1"),
            Step::Drop(&[3]),
            Step::SetState(&[0], "y=2"),
            Step::FillName(&[1], "renamed"),
            Step::FillState(&[1], "z=3"),
            Step::FillState(&[2], "w=4"),
            Step::RemoveN,
            Step::Drop(&[2]),
            Step::FillState(&[0], "v=5"),
        ],
    );
    assert_eq!(names_and_states(&a), names_and_states(&b));
    assert_eq!(
        names_and_states(&b),
        vec![
            ("a".to_owned(), "v=5".to_owned()),
            ("renamed".to_owned(), "z=3".to_owned()),
        ]
    );
    // Kept back at the end: the drop of row 2 and the fill after it cannot both be (the result
    // puts a fill before a drop), so the drop went to the batch and the fill was kept.
    assert_eq!(edits.trace_state_rows, vec![0]);
    assert_eq!(edits.trace_state, "v=5");
    assert_eq!(edits.dropped, Vec::<u32>::new());
}
