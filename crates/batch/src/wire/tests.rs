//! The wire form's index against the decoded batch: the same reads (span and resource
//! attributes among them), and after the same edits
//! the same request (byte for byte when the request came as a protobuf library writes it),
//! over a request with every field set and 5,000 mutations of it.

use crate::decode::tests::{Rng, full};
use crate::{Batch, BatchBuilder, Journal, decode_request, kv};
use bytes::Bytes;
use prost::Message;
use spanwise_abi::{DoubleColumn, Level, StrColumn, StrField};

/// Keys of `full()`'s attributes of every type, and one no span has.
const KEYS: [&str; 7] = ["s", "b", "i", "d", "map", "no value", "absent"];

fn bits(column: DoubleColumn) -> (Vec<u64>, Vec<u8>) {
    (
        column.values.iter().map(|v| v.to_bits()).collect(),
        column.present,
    )
}

/// Every read the index answers gives what the decoded batch gives.
fn same_reads(wire: &Batch, decoded: &Batch) {
    assert!(wire.is_wire_only(), "the reads below must not decode");
    assert_eq!(wire.len(), decoded.len());
    assert_eq!(wire.resource_count(), decoded.resource_count());
    for level in [Level::Span, Level::Event, Level::Link] {
        assert_eq!(wire.row_count(level), decoded.row_count(level), "{level:?}");
    }
    assert_eq!(wire.trace_ids(), decoded.trace_ids());
    assert_eq!(wire.start_times(), decoded.start_times());
    assert_eq!(wire.end_times(), decoded.end_times());
    assert_eq!(wire.durations(), decoded.durations());
    assert_eq!(wire.status_codes(), decoded.status_codes());
    assert_eq!(wire.flags(), decoded.flags());
    assert_eq!(
        wire.str_field(StrField::TraceState),
        decoded.str_field(StrField::TraceState)
    );
    let states = decoded.str_field(StrField::TraceState).non_empty();
    assert_eq!(wire.str_field_count(StrField::TraceState), states);
    assert_eq!(decoded.str_field_count(StrField::TraceState), states);
    for at in [Level::Span, Level::Resource] {
        same_attribute_reads(wire, decoded, at, &KEYS);
    }
    assert!(wire.is_wire_only(), "no read above decoded the batch");
}

/// Every attribute read of `keys` at level `at` gives what the decoded batch gives.
fn same_attribute_reads(wire: &Batch, decoded: &Batch, at: Level, keys: &[&str]) {
    assert_eq!(
        wire.attribute_rows(at, keys),
        decoded.attribute_rows(at, keys),
        "{at:?}"
    );
    assert_eq!(
        wire.str_attributes(at, keys),
        decoded.str_attributes(at, keys),
        "{at:?}"
    );
    for &key in keys {
        let rows = decoded.attribute_rows(at, &[key]).pop().unwrap_or_default();
        assert_eq!(wire.attribute_count(at, key), rows.len(), "{at:?} {key}");
        assert_eq!(decoded.attribute_count(at, key), rows.len(), "{at:?} {key}");
        assert_eq!(wire.str_attribute(at, key), decoded.str_attribute(at, key));
        assert_eq!(wire.int_attribute(at, key), decoded.int_attribute(at, key));
        assert_eq!(
            wire.bool_attribute(at, key),
            decoded.bool_attribute(at, key)
        );
        assert_eq!(
            bits(wire.double_attribute(at, key)),
            bits(decoded.double_attribute(at, key))
        );
        let any = |batch: &Batch| {
            // As bytes: a NaN double never equals itself.
            format!("{:?}", batch.attribute(at, key))
        };
        assert_eq!(any(wire), any(decoded), "{at:?} {key}");
    }
}

/// Random tracestates (a column, or one value on many rows) and drops, recorded for `batch`.
fn edits(rng: &mut Rng, batch: &Batch) -> Journal {
    let spans = batch.len();
    let mut journal = Journal::new(batch, usize::MAX);
    if spans == 0 {
        return journal;
    }
    for _ in 0..rng.below(3) {
        let rows: Vec<u32> = (0..=rng.below(spans))
            .map(|_| rng.below(spans) as u32)
            .collect();
        let text = |rng: &mut Rng| {
            ["", "ot=th:8", "ot=th:c;rv:0123456789abcd,vendor=x", "é=1"][rng.below(4)]
        };
        if rng.below(2) == 0 {
            let value = text(rng);
            journal
                .fill_str_field(StrField::TraceState, rows, value)
                .unwrap();
        } else {
            let values: StrColumn = rows.iter().map(|_| text(rng)).collect();
            journal
                .set_str_field(StrField::TraceState, rows, values)
                .unwrap();
        }
    }
    if rng.below(3) > 0 {
        let rows = (0..spans as u32).filter(|_| rng.below(3) == 0).collect();
        journal.drop_spans(rows).unwrap();
    }
    journal
}

/// `bytes` read, edited (twice) and written through the index and through the decoded batch:
/// the same at every step.
fn agrees(bytes: &[u8], rng: &mut Rng) {
    let bytes = Bytes::copy_from_slice(bytes);
    let mut wire = Batch::from_encoded_indexed(bytes.clone()).unwrap();
    let Ok(request) = decode_request(&bytes) else {
        unreachable!("the scan took what the decoder takes")
    };
    let canonical = request.encode_to_vec() == bytes;
    let mut decoded = Batch::from_request(request);
    same_reads(&wire, &decoded);
    for _ in 0..2 {
        let journal = edits(rng, &wire);
        decoded.apply(replay(&journal, &decoded)).unwrap();
        wire.apply(journal).unwrap();
        same_reads(&wire, &decoded);
        let written = wire.to_bytes();
        assert_eq!(
            decode_request(&written).unwrap(),
            decoded.to_request(),
            "the written request differs"
        );
        if canonical {
            assert_eq!(written, decoded.to_bytes(), "not the decoded batch's bytes");
        }
    }
    // A read the index does not answer decodes what it would write.
    assert_eq!(wire.span_ids(), decoded.span_ids());
    assert!(!wire.is_wire_only());
    assert_eq!(wire.to_request(), decoded.to_request());
}

/// The edits of `journal`, recorded again for `batch`.
fn replay(journal: &Journal, batch: &Batch) -> Journal {
    let mut copy = Journal::new(batch, usize::MAX);
    for edit in journal.edits() {
        match edit {
            crate::Edit::SetStrField {
                field,
                rows,
                values,
            } => copy
                .set_str_field(*field, rows.clone(), values.clone())
                .unwrap(),
            crate::Edit::FillStrField { field, rows, value } => {
                copy.fill_str_field(*field, rows.clone(), value).unwrap()
            }
            crate::Edit::DropSpans { rows } => copy.drop_spans(rows.clone()).unwrap(),
            other => unreachable!("not made here: {other:?}"),
        }
    }
    copy
}

#[test]
fn reads_and_edits_agree_with_the_decoded_batch() {
    let bytes = full().encode_to_vec();
    let mut rng = Rng(0x1dea_5eed);
    for _ in 0..50 {
        agrees(&bytes, &mut rng);
    }
}

#[test]
fn agrees_on_mutated_requests() {
    let base = full().encode_to_vec();
    let mut rng = Rng(0x0bad_cafe_d00d);
    let mut taken = 0;
    for _ in 0..5_000 {
        let bytes = rng.mutate(&base);
        if crate::decode::scan_request(&bytes).is_some() {
            taken += 1;
            agrees(&bytes, &mut rng);
        }
    }
    assert!(taken > 100, "only {taken} mutations were taken");
}

#[test]
fn a_tracestate_given_twice_or_out_of_order_is_replaced_whole() {
    // A span of: name "n", trace_state "a=1", trace_id [7; 16], trace_state "b=2".
    let mut span = vec![0x2a, 0x01, b'n', 0x1a, 0x03];
    span.extend_from_slice(b"a=1");
    span.extend_from_slice(&[0x0a, 0x10]);
    span.extend_from_slice(&[7; 16]);
    span.extend_from_slice(&[0x1a, 0x03]);
    span.extend_from_slice(b"b=2");
    let scope = [&[0x12, span.len() as u8][..], &span].concat();
    let resource = [&[0x12, scope.len() as u8][..], &scope].concat();
    let request = [&[0x0a, resource.len() as u8][..], &resource].concat();
    let mut batch = Batch::from_encoded_indexed(Bytes::from(request.clone())).unwrap();
    assert_eq!(batch.str_field(StrField::TraceState).get(0), Some("b=2"));
    let mut journal = Journal::new(&batch, usize::MAX);
    journal
        .set_str_field(
            StrField::TraceState,
            vec![0],
            ["ot=th:8"].into_iter().collect(),
        )
        .unwrap();
    batch.apply(journal).unwrap();
    let span =
        &decode_request(&batch.to_bytes()).unwrap().resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(span.trace_state, "ot=th:8");
    assert_eq!(
        (span.name.as_str(), &span.trace_id[..]),
        ("n", &[7; 16][..])
    );
}

#[test]
fn dropping_every_span_of_a_scope_drops_the_scope_and_its_resource() {
    let mut builder = BatchBuilder::new();
    for service in ["a", "b"] {
        builder = builder.resource(vec![kv("service.name", service)]);
        for i in 0..2 {
            builder = builder.span(&format!("{service}{i}"), vec![kv("k", "v")]);
        }
    }
    let bytes = builder.build().to_bytes();
    let mut wire = Batch::from_encoded_indexed(bytes.clone()).unwrap();
    let mut decoded = Batch::from_request(decode_request(&bytes).unwrap());
    for batch in [&mut wire, &mut decoded] {
        let mut journal = Journal::new(batch, usize::MAX);
        journal.drop_spans(vec![0, 1]).unwrap();
        batch.apply(journal).unwrap();
    }
    assert!(wire.is_wire_only(), "a drop is applied to the index");
    assert_eq!((wire.len(), wire.resource_count()), (2, 1));
    assert_eq!(wire.to_bytes(), decoded.to_bytes());
    assert_eq!(
        wire.encoded(),
        None,
        "the received bytes no longer hold the batch"
    );
}

#[test]
fn resource_attributes_are_read_per_resource() {
    // Three resources, the first and the last alike, the middle one with other values and
    // types; spans of each, and a resource with no attributes at all.
    let mut builder = BatchBuilder::new();
    for (service, tier) in [("a", "x"), ("b", "y"), ("a", "x")] {
        builder = builder.resource(vec![kv("service.name", service), kv("tier", tier)]);
        for i in 0..3 {
            builder = builder.span(&format!("{service}{i}"), vec![kv("k", "v")]);
        }
    }
    builder = builder.resource(Vec::new()).span("bare", Vec::new());
    let keys = ["service.name", "tier", "k", "absent"];
    let bytes = builder.build().to_bytes();
    let mut wire = Batch::from_encoded_indexed(bytes.clone()).unwrap();
    let mut decoded = Batch::from_request(decode_request(&bytes).unwrap());
    same_attribute_reads(&wire, &decoded, Level::Resource, &keys);
    assert_eq!(
        wire.str_attribute(Level::Resource, "service.name").get(4),
        Some("b")
    );
    // With the middle resource's spans and one of the last's dropped.
    for batch in [&mut wire, &mut decoded] {
        let mut journal = Journal::new(batch, usize::MAX);
        journal.drop_spans(vec![3, 4, 5, 7]).unwrap();
        batch.apply(journal).unwrap();
    }
    same_attribute_reads(&wire, &decoded, Level::Resource, &keys);
    assert_eq!(
        wire.attribute_rows(Level::Resource, &keys),
        vec![vec![0, 1, 2, 3, 4], vec![0, 1, 2, 3, 4], vec![], vec![]]
    );
    assert!(wire.is_wire_only(), "resource reads come from the index");
}

#[test]
fn other_edits_decode_first() {
    let bytes = full().encode_to_vec();
    let mut wire = Batch::from_encoded_indexed(Bytes::from(bytes.clone())).unwrap();
    let mut decoded = Batch::from_request(decode_request(&bytes).unwrap());
    for batch in [&mut wire, &mut decoded] {
        let mut journal = Journal::new(batch, usize::MAX);
        journal.drop_spans(vec![1]).unwrap();
        journal
            .set_str_field(StrField::Name, vec![0], ["renamed"].into_iter().collect())
            .unwrap();
        batch.apply(journal).unwrap();
    }
    assert!(!wire.is_wire_only());
    assert_eq!(wire.to_bytes(), decoded.to_bytes());
}
