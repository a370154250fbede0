//! An OTLP/protobuf export request as the receivers take it (gRPC and HTTP): decoded with the
//! recursion limit (by prost, and by the receivers' faster decoder, which must agree with it),
//! indexed into a batch, and encoded back. Nothing may panic, and what decoded must encode to
//! bytes that decode to the same request (compared as bytes: a NaN double is a
//! legal attribute value and never equal to itself). A batch kept in its wire form (what the
//! receivers' scan takes) decodes to the same request and counts the same spans. The batch's
//! encoder writes prost's bytes, and a request cut into spans as the tail sampler's buffer holds
//! them and put back together holds the same spans. An indexed batch (the receivers' form for
//! a pipeline whose first plugin reads in wire form) reads as the decoded batch does, and with
//! the same drops and tracestates written around them decodes to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use spanwise_batch::decode::split::{Assembler, Origin, Piece, split_spans};
use spanwise_batch::{Batch, Journal, Level, StrColumn, StrField};

fuzz_target!(|data: &[u8]| {
    // A request the scan takes is kept in its wire form: it must decode as the fast path does.
    if let Some(scanned) = spanwise_batch::decode::scan_request(data) {
        let wire = Batch::from_encoded(bytes::Bytes::copy_from_slice(data)).expect("scanned");
        assert_eq!(wire.len(), scanned.spans);
        assert_eq!(
            wire.resource_spans().len(),
            scanned.resources,
            "the scan counts the resources the decoder finds"
        );
        assert_eq!(wire.len(), Batch::from_request(wire.to_request()).len());
        indexed_agrees(data);
    }
    // The receivers' decoder gives what prost gives: the same request, or an error.
    let fast = spanwise_batch::decode_request(data);
    let Ok(request) = ExportTraceServiceRequest::decode(data) else {
        assert!(
            fast.is_err(),
            "the receivers' decoder took what prost refuses"
        );
        return;
    };
    assert_eq!(
        fast.expect("the receivers' decoder takes what prost takes")
            .encode_to_vec(),
        request.encode_to_vec()
    );
    let again = request.encode_to_vec();
    // The batch's encoder writes prost's bytes.
    let mut ours = Vec::new();
    spanwise_batch::encode_request(&request.resource_spans, &mut ours);
    assert_eq!(ours, again, "the batch's encoder differs from prost's");
    // Cut into spans (the tail buffer's form) and put back together, the request decodes to
    // the same spans.
    let mut groups: Vec<(Origin, Vec<&[u8]>)> = Vec::new();
    split_spans(&again, |piece| match piece {
        Piece::Scope(origin) => groups.push((origin, Vec::new())),
        Piece::Span { bytes, .. } => groups.last_mut().expect("a scope first").1.push(bytes),
    })
    .expect("an encoded request splits");
    let mut assembler = Assembler::new();
    for (origin, spans) in &groups {
        assembler.group(origin, spans.iter().copied());
    }
    let assembled = ExportTraceServiceRequest::decode(assembler.finish().as_slice())
        .expect("spans put back together decode");
    let spans_of = |r: &ExportTraceServiceRequest| -> Vec<_> {
        r.resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| s.spans.iter().map(|span| span.encode_to_vec()))
            .collect()
    };
    assert_eq!(spans_of(&assembled), spans_of(&request));
    let decoded =
        ExportTraceServiceRequest::decode(again.as_slice()).expect("re-encoded request decodes");
    assert_eq!(decoded.encode_to_vec(), again);
    let batch = Batch::from_request(request);
    let spans = batch.len();
    let back = batch.into_request();
    let counted: usize = back
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    assert_eq!(counted, spans);
});

/// The index's reads and edits against the decoded batch's: every other span dropped, the
/// others' tracestates set (to a value taken from the input, so any UTF-8 is tried).
fn indexed_agrees(data: &[u8]) {
    let bytes = bytes::Bytes::copy_from_slice(data);
    let mut indexed = Batch::from_encoded_indexed(bytes.clone()).expect("scanned");
    let mut decoded = Batch::from_request(spanwise_batch::decode_request(data).expect("scanned"));
    let keys = ["a", "service.name", "sampling.priority"];
    assert_eq!(indexed.trace_ids(), decoded.trace_ids());
    assert_eq!(indexed.durations(), decoded.durations());
    assert_eq!(
        indexed.str_field(StrField::TraceState),
        decoded.str_field(StrField::TraceState)
    );
    assert_eq!(
        indexed.attribute_rows(Level::Span, &keys),
        decoded.attribute_rows(Level::Span, &keys)
    );
    assert_eq!(
        indexed.str_attributes(Level::Span, &keys),
        decoded.str_attributes(Level::Span, &keys)
    );
    assert_eq!(
        indexed.int_attribute(Level::Span, "a"),
        decoded.int_attribute(Level::Span, "a")
    );
    assert!(
        indexed.is_indexed(),
        "the reads above are answered from the bytes"
    );
    let state = String::from_utf8_lossy(&data[..data.len().min(12)]).into_owned();
    let spans = indexed.len() as u32;
    for batch in [&mut indexed, &mut decoded] {
        let mut journal = Journal::new(batch, usize::MAX);
        let kept: Vec<u32> = (0..spans).filter(|row| row % 2 == 1).collect();
        let values: StrColumn = kept.iter().map(|_| state.as_str()).collect();
        journal
            .set_str_field(StrField::TraceState, kept, values)
            .expect("rows in range");
        journal
            .drop_spans((0..spans).filter(|row| row % 2 == 0).collect())
            .expect("rows in range");
        batch
            .apply(journal)
            .expect("the journal belongs to the batch");
    }
    assert!(
        indexed.is_indexed(),
        "drops and tracestates are applied to the index"
    );
    assert_eq!(indexed.len(), decoded.len());
    assert_eq!(
        spanwise_batch::decode_request(&indexed.to_bytes())
            .expect("the written request decodes")
            .encode_to_vec(),
        decoded.to_request().encode_to_vec()
    );
}
