//! [`encode_request`]: an OTLP trace export request encoded to protobuf, byte for byte what
//! prost's generated encoder writes, in one pass.
//!
//! prost writes a nested message's length before its fields, so it computes the length of
//! every message it writes, and that computation walks the message's own nested messages:
//! a string in an attribute value of a span has its length worked out once for the value, the
//! attribute, the span, the scope spans and the resource spans (and once more for the request).
//! Here each message is written once, after a placeholder for its length as many bytes long as
//! the length usually needs (one for an attribute, two for a span, three for a resource or
//! scope); when the length needs more or fewer bytes, the message is moved over. Lengths are
//! still written as the shortest varint, so the bytes are prost's (the tests and the
//! `otlp_protobuf` fuzz target compare them).
//!
//! Attributes with a scalar value (most are) have their lengths worked out first instead, from
//! the key's and the value's, and are written straight. Resources and scopes, which are few,
//! are written by prost itself.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::encoding::{
    WireType, bool as pbool, bytes, double, encode_key, encode_varint, encoded_len_varint, fixed32,
    fixed64, int32, int64, string, uint32,
};

/// Encode `resource_spans` as the request holding them, appending to `out`.
pub fn encode_request(resource_spans: &[ResourceSpans], out: &mut Vec<u8>) {
    for rs in resource_spans {
        nested(out, 1, 3, |out| resource_spans_body(rs, out));
    }
}

/// Encode one span's fields (the span message without its own tag and length), appending to
/// `out`: what [`crate::decode::split::Piece::Span`] gives for the span of an encoded request.
pub fn encode_span(span: &Span, out: &mut Vec<u8>) {
    span_body(span, out);
}

/// Write field `tag` holding the message `body` writes, its length first. `guess` is the
/// number of bytes left for the length before the body is written.
#[inline]
fn nested(out: &mut Vec<u8>, tag: u32, guess: usize, body: impl FnOnce(&mut Vec<u8>)) {
    encode_key(tag, WireType::LengthDelimited, out);
    let at = out.len();
    out.resize(at + guess, 0);
    body(out);
    let len = out.len() - at - guess;
    let need = encoded_len_varint(len as u64);
    if need != guess {
        if need > guess {
            out.resize(out.len() + need - guess, 0);
        }
        out.copy_within(at + guess..at + guess + len, at + need);
        out.truncate(at + need + len);
    }
    let mut prefix = [0u8; 10];
    let mut slot = &mut prefix[..];
    encode_varint(len as u64, &mut slot);
    out[at..at + need].copy_from_slice(&prefix[..need]);
}

fn resource_spans_body(rs: &ResourceSpans, out: &mut Vec<u8>) {
    if let Some(resource) = &rs.resource {
        prost::encoding::message::encode(1, resource, out);
    }
    for ss in &rs.scope_spans {
        nested(out, 2, 3, |out| scope_spans_body(ss, out));
    }
    if !rs.schema_url.is_empty() {
        string::encode(3, &rs.schema_url, out);
    }
}

fn scope_spans_body(ss: &ScopeSpans, out: &mut Vec<u8>) {
    if let Some(scope) = &ss.scope {
        prost::encoding::message::encode(1, scope, out);
    }
    for span in &ss.spans {
        nested(out, 2, 2, |out| span_body(span, out));
    }
    if !ss.schema_url.is_empty() {
        string::encode(3, &ss.schema_url, out);
    }
}

fn span_body(span: &Span, out: &mut Vec<u8>) {
    if !span.trace_id.is_empty() {
        bytes::encode(1, &span.trace_id, out);
    }
    if !span.span_id.is_empty() {
        bytes::encode(2, &span.span_id, out);
    }
    if !span.trace_state.is_empty() {
        string::encode(3, &span.trace_state, out);
    }
    if !span.parent_span_id.is_empty() {
        bytes::encode(4, &span.parent_span_id, out);
    }
    if !span.name.is_empty() {
        string::encode(5, &span.name, out);
    }
    if span.kind != 0 {
        int32::encode(6, &span.kind, out);
    }
    if span.start_time_unix_nano != 0 {
        fixed64::encode(7, &span.start_time_unix_nano, out);
    }
    if span.end_time_unix_nano != 0 {
        fixed64::encode(8, &span.end_time_unix_nano, out);
    }
    attributes(9, &span.attributes, out);
    if span.dropped_attributes_count != 0 {
        uint32::encode(10, &span.dropped_attributes_count, out);
    }
    for event in &span.events {
        nested(out, 11, 1, |out| event_body(event, out));
    }
    if span.dropped_events_count != 0 {
        uint32::encode(12, &span.dropped_events_count, out);
    }
    for link in &span.links {
        nested(out, 13, 1, |out| link_body(link, out));
    }
    if span.dropped_links_count != 0 {
        uint32::encode(14, &span.dropped_links_count, out);
    }
    if let Some(status) = &span.status {
        nested(out, 15, 1, |out| status_body(status, out));
    }
    if span.flags != 0 {
        fixed32::encode(16, &span.flags, out);
    }
}

fn event_body(event: &Event, out: &mut Vec<u8>) {
    if event.time_unix_nano != 0 {
        fixed64::encode(1, &event.time_unix_nano, out);
    }
    if !event.name.is_empty() {
        string::encode(2, &event.name, out);
    }
    attributes(3, &event.attributes, out);
    if event.dropped_attributes_count != 0 {
        uint32::encode(4, &event.dropped_attributes_count, out);
    }
}

fn link_body(link: &Link, out: &mut Vec<u8>) {
    if !link.trace_id.is_empty() {
        bytes::encode(1, &link.trace_id, out);
    }
    if !link.span_id.is_empty() {
        bytes::encode(2, &link.span_id, out);
    }
    if !link.trace_state.is_empty() {
        string::encode(3, &link.trace_state, out);
    }
    attributes(4, &link.attributes, out);
    if link.dropped_attributes_count != 0 {
        uint32::encode(5, &link.dropped_attributes_count, out);
    }
    if link.flags != 0 {
        fixed32::encode(6, &link.flags, out);
    }
}

fn status_body(status: &Status, out: &mut Vec<u8>) {
    if !status.message.is_empty() {
        string::encode(2, &status.message, out);
    }
    if status.code != 0 {
        int32::encode(3, &status.code, out);
    }
}

#[inline]
fn attributes(tag: u32, list: &[KeyValue], out: &mut Vec<u8>) {
    for kv in list {
        if !scalar_attribute(tag, kv, out) {
            nested(out, tag, 1, |out| key_value_body(kv, out));
        }
    }
}

/// Write `kv` as field `tag` when its value is a string, a boolean, an integer or a double (most
/// attributes are), its lengths worked out first, so nothing is moved: the bytes
/// [`key_value_body`] writes inside [`nested`]. `false` (nothing written) for any other value.
#[inline]
fn scalar_attribute(tag: u32, kv: &KeyValue, out: &mut Vec<u8>) -> bool {
    use any_value::Value as V;
    let Some(AnyValue { value: Some(value) }) = &kv.value else {
        return false;
    };
    if kv.key_strindex != 0 {
        return false;
    }
    // The `AnyValue`'s one field (a `oneof` field: written whatever its value), after its key.
    let value_len = 1 + match value {
        V::StringValue(text) => encoded_len_varint(text.len() as u64) + text.len(),
        V::BoolValue(_) => 1,
        V::IntValue(i) => encoded_len_varint(*i as u64),
        V::DoubleValue(_) => 8,
        _ => return false,
    };
    let key = kv.key.as_bytes();
    // The `KeyValue`: field 1, the key (when not empty), and field 2, the value.
    let key_len = if key.is_empty() {
        0
    } else {
        1 + encoded_len_varint(key.len() as u64) + key.len()
    };
    let len = key_len + 1 + encoded_len_varint(value_len as u64) + value_len;
    out.reserve(prost::encoding::key_len(tag) + encoded_len_varint(len as u64) + len);
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(len as u64, out);
    if !key.is_empty() {
        out.push(field_key(1, WireType::LengthDelimited));
        encode_varint(key.len() as u64, out);
        out.extend_from_slice(key);
    }
    out.push(field_key(2, WireType::LengthDelimited));
    encode_varint(value_len as u64, out);
    match value {
        V::StringValue(text) => {
            out.push(field_key(1, WireType::LengthDelimited));
            encode_varint(text.len() as u64, out);
            out.extend_from_slice(text.as_bytes());
        }
        V::BoolValue(b) => out.extend_from_slice(&[field_key(2, WireType::Varint), u8::from(*b)]),
        V::IntValue(i) => {
            out.push(field_key(3, WireType::Varint));
            encode_varint(*i as u64, out);
        }
        V::DoubleValue(d) => {
            out.push(field_key(4, WireType::SixtyFourBit));
            out.extend_from_slice(&d.to_le_bytes());
        }
        _ => unreachable!("other values returned above"),
    }
    true
}

/// The one-byte key of field `tag` (at most 15) with wire type `wire`.
const fn field_key(tag: u8, wire: WireType) -> u8 {
    tag << 3 | wire as u8
}

#[inline]
fn key_value_body(kv: &KeyValue, out: &mut Vec<u8>) {
    if !kv.key.is_empty() {
        string::encode(1, &kv.key, out);
    }
    if let Some(value) = &kv.value {
        nested(out, 2, 1, |out| any_value_body(value, out));
    }
    if kv.key_strindex != 0 {
        int32::encode(3, &kv.key_strindex, out);
    }
}

fn any_value_body(value: &AnyValue, out: &mut Vec<u8>) {
    use any_value::Value as V;
    // A `oneof` field is written whatever its value, as prost writes it.
    match &value.value {
        None => {}
        Some(V::StringValue(s)) => string::encode(1, s, out),
        Some(V::BoolValue(b)) => pbool::encode(2, b, out),
        Some(V::IntValue(i)) => int64::encode(3, i, out),
        Some(V::DoubleValue(d)) => double::encode(4, d, out),
        Some(V::ArrayValue(array)) => nested(out, 5, 1, |out| {
            for item in &array.values {
                nested(out, 1, 1, |out| any_value_body(item, out));
            }
        }),
        Some(V::KvlistValue(list)) => nested(out, 6, 1, |out| attributes(1, &list.values, out)),
        Some(V::BytesValue(b)) => bytes::encode(7, b, out),
        Some(V::StringValueStrindex(i)) => int32::encode(8, i, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tests::kv;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
    use prost::Message;

    fn same_as_prost(request: &ExportTraceServiceRequest) {
        let mut out = Vec::new();
        encode_request(&request.resource_spans, &mut out);
        assert_eq!(out, request.encode_to_vec());
    }

    #[test]
    fn every_field_and_value_is_written_as_prost_writes_it() {
        use any_value::Value as V;
        let long = "x".repeat(300);
        let nested_list = V::ArrayValue(ArrayValue {
            values: vec![
                AnyValue { value: None },
                AnyValue {
                    value: Some(V::KvlistValue(KeyValueList {
                        values: vec![kv("deep", V::StringValue(long.repeat(3)))],
                    })),
                },
            ],
        });
        let attributes = vec![
            kv("s", V::StringValue(String::new())),
            kv("b", V::BoolValue(false)),
            kv("i", V::IntValue(-1)),
            kv("d", V::DoubleValue(0.0)),
            kv("bytes", V::BytesValue(vec![0, 1, 2])),
            kv("strindex", V::StringValueStrindex(-7)),
            kv("long", V::StringValue(long.clone())),
            kv("list", nested_list),
            KeyValue {
                key: String::new(),
                value: None,
                key_strindex: 3,
            },
        ];
        let span = Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            trace_state: "ot=th:8".into(),
            parent_span_id: vec![3; 8],
            flags: 0x301,
            name: long.clone(),
            kind: -2,
            start_time_unix_nano: 1,
            end_time_unix_nano: u64::MAX,
            attributes: attributes.clone(),
            dropped_attributes_count: 1,
            events: vec![
                Event {
                    time_unix_nano: 5,
                    name: "e".into(),
                    attributes: attributes.clone(),
                    dropped_attributes_count: 2,
                },
                Event::default(),
            ],
            dropped_events_count: 3,
            links: vec![
                Link {
                    trace_id: vec![4; 16],
                    span_id: vec![5; 8],
                    trace_state: "a=b".into(),
                    attributes,
                    dropped_attributes_count: 4,
                    flags: 1,
                },
                Link::default(),
            ],
            dropped_links_count: 300,
            status: Some(Status {
                message: "boom".into(),
                code: 2,
            }),
        };
        let request = ExportTraceServiceRequest {
            resource_spans: vec![
                ResourceSpans {
                    resource: Some(Default::default()),
                    scope_spans: vec![
                        ScopeSpans {
                            scope: Some(Default::default()),
                            spans: vec![span.clone(), Span::default()],
                            schema_url: "s".into(),
                        },
                        ScopeSpans::default(),
                    ],
                    schema_url: "r".into(),
                },
                ResourceSpans::default(),
            ],
        };
        same_as_prost(&request);
        same_as_prost(&ExportTraceServiceRequest::default());
        // Spans under 128 bytes (their length in one byte, not the two set aside).
        same_as_prost(&ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        name: "a".into(),
                        status: Some(Status::default()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        });
    }

    #[test]
    fn lengths_past_each_guess_move_the_message_over() {
        // A scope spans past 2 MiB needs a four-byte length, one more than set aside; a span
        // past 16 KiB needs three.
        let span = Span {
            name: "n".repeat(20_000),
            ..Default::default()
        };
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![span; 110],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        same_as_prost(&request);
    }
}
