//! An OTLP/protobuf export request as the receivers take it (gRPC and HTTP): decoded with the
//! recursion limit (by prost, and by the receivers' faster decoder, which must agree with it),
//! indexed into a batch, and encoded back. Nothing may panic, and what decoded must encode to
//! bytes that decode to the same request (compared as bytes: a NaN double is a
//! legal attribute value and never equal to itself). A batch kept in its wire form (what the
//! receivers' scan takes) decodes to the same request and counts the same spans. The batch's
//! encoder writes prost's bytes, and a request cut into spans as the tail sampler's buffer holds
//! them and put back together holds the same spans.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use spanwise_batch::Batch;
use spanwise_batch::decode::split::{Assembler, Origin, Piece, split_spans};

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
