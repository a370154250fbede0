//! [`split_spans`]: an encoded export request cut into its spans, each still encoded, with the
//! other fields of the resource spans and scope spans it was sent under; and [`Assembler`],
//! which puts such pieces back together as one request. What a buffer that holds spans in
//! their encoded form needs (the tail sampler's): a span's bytes are copied, never decoded.

use super::{LEN, Reader};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};

/// The fields of a resource spans or scope spans message other than its list of children
/// (field 2), as encoded: those before the list and those after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// Fields numbered below 2 (the resource, the scope), as encoded.
    pub head: Vec<u8>,
    /// Fields numbered above 2 (the schema URL), as encoded.
    pub tail: Vec<u8>,
}

/// The resource and scope some spans were sent under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The resource spans' fields other than its scope spans.
    pub resource: Envelope,
    /// The scope spans' fields other than its spans.
    pub scope: Envelope,
}

impl Origin {
    /// The origin of the spans of `scope` in `resource`, as [`split_spans`] would find it in
    /// their encoding.
    pub fn of(resource: &ResourceSpans, scope: &ScopeSpans) -> Origin {
        Origin {
            resource: encoded_envelope(resource.resource.as_ref(), &resource.schema_url),
            scope: encoded_envelope(scope.scope.as_ref(), &scope.schema_url),
        }
    }
}

/// The envelope of a message whose field 1 is `first` and field 3 `schema_url`.
fn encoded_envelope<M: prost::Message>(first: Option<&M>, schema_url: &String) -> Envelope {
    let mut envelope = Envelope::default();
    if let Some(message) = first {
        prost::encoding::message::encode(1, message, &mut envelope.head);
    }
    if !schema_url.is_empty() {
        prost::encoding::string::encode(3, schema_url, &mut envelope.tail);
    }
    envelope
}

/// What [`split_spans`] finds, in the order of the request.
#[derive(Debug)]
pub enum Piece<'a> {
    /// A scope spans begins: the spans that follow were sent under this origin.
    Scope(Origin),
    /// A span: its encoded bytes (without its own tag and length) and its trace id field's
    /// bytes (empty when it has none).
    Span {
        /// The span message.
        bytes: &'a [u8],
        /// The value of its `trace_id` field.
        trace_id: &'a [u8],
    },
}

/// Walk an encoded export request, giving each scope spans' origin and then each of its spans
/// to `visit`. `None` when the bytes are not a well-formed request (a [`crate::Batch`]'s bytes
/// always are).
pub fn split_spans<'a>(bytes: &'a [u8], mut visit: impl FnMut(Piece<'a>)) -> Option<()> {
    each_field(bytes, |number, wire, _, value| {
        if number == 1 && wire == LEN {
            resource_spans(value, &mut visit)?;
        }
        Some(())
    })
}

fn resource_spans<'a>(bytes: &'a [u8], visit: &mut impl FnMut(Piece<'a>)) -> Option<()> {
    let resource = envelope(bytes)?;
    each_field(bytes, |number, wire, _, value| {
        if number == 2 && wire == LEN {
            let scope = envelope(value)?;
            visit(Piece::Scope(Origin {
                resource: resource.clone(),
                scope,
            }));
            each_field(value, |number, wire, _, span| {
                if number == 2 && wire == LEN {
                    visit(Piece::Span {
                        bytes: span,
                        trace_id: trace_id(span)?,
                    });
                }
                Some(())
            })?;
        }
        Some(())
    })
}

/// The fields of a message other than field 2, split around it.
fn envelope(bytes: &[u8]) -> Option<Envelope> {
    let mut envelope = Envelope::default();
    each_field(bytes, |number, _, raw, _| {
        match number {
            1 => envelope.head.extend_from_slice(raw),
            2 => {}
            _ => envelope.tail.extend_from_slice(raw),
        }
        Some(())
    })?;
    Some(envelope)
}

/// The value of a span's `trace_id` field, or nothing. A field given twice holds its last
/// value, as protobuf decoders (prost, the fast decoder) read it.
fn trace_id(span: &[u8]) -> Option<&[u8]> {
    let mut found: &[u8] = &[];
    let mut reader = Reader::new(span);
    while !reader.done() {
        let (number, wire) = reader.key()?;
        if number == 1 && wire == LEN {
            found = reader.len_delimited()?;
        } else {
            reader.skip(wire)?;
        }
    }
    Some(found)
}

/// Call `field(number, wire type, the whole field as encoded, its value)` for each field of a
/// message; a length-delimited field's value is its payload, another's is empty.
fn each_field<'a>(
    bytes: &'a [u8],
    mut field: impl FnMut(u32, u8, &'a [u8], &'a [u8]) -> Option<()>,
) -> Option<()> {
    let mut reader = Reader::new(bytes);
    while !reader.done() {
        let start = bytes.len() - reader.bytes.len();
        let (number, wire) = reader.key()?;
        let value = if wire == LEN {
            reader.len_delimited()?
        } else {
            reader.skip(wire)?;
            &[]
        };
        let end = bytes.len() - reader.bytes.len();
        field(number, wire, &bytes[start..end], value)?;
    }
    Some(())
}

/// Builds an encoded export request from origins and the encoded spans sent under each: one
/// resource spans holding one scope spans per call of [`Assembler::group`].
#[derive(Debug, Default)]
pub struct Assembler {
    out: Vec<u8>,
}

impl Assembler {
    /// An empty request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add `spans` (each encoded as [`Piece::Span`] gives it) under `origin`.
    pub fn group<'s>(&mut self, origin: &Origin, spans: impl Iterator<Item = &'s [u8]> + Clone) {
        let listed: usize = spans
            .clone()
            .map(|span| field_len(span.len()))
            .sum::<usize>();
        let scope_len = origin.scope.head.len() + listed + origin.scope.tail.len();
        let resource_len =
            origin.resource.head.len() + field_len(scope_len) + origin.resource.tail.len();
        self.out.reserve(field_len(resource_len));
        let out = &mut self.out;
        encode_key(1, WireType::LengthDelimited, out);
        encode_varint(resource_len as u64, out);
        out.extend_from_slice(&origin.resource.head);
        encode_key(2, WireType::LengthDelimited, out);
        encode_varint(scope_len as u64, out);
        out.extend_from_slice(&origin.scope.head);
        for span in spans {
            encode_key(2, WireType::LengthDelimited, out);
            encode_varint(span.len() as u64, out);
            out.extend_from_slice(span);
        }
        out.extend_from_slice(&origin.scope.tail);
        out.extend_from_slice(&origin.resource.tail);
    }

    /// The request's bytes.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// The bytes of a length-delimited field numbered below 16 holding `len` bytes.
fn field_len(len: usize) -> usize {
    1 + encoded_len_varint(len as u64) + len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BatchBuilder;
    use prost::Message;

    fn request() -> Vec<u8> {
        let mut builder = BatchBuilder::new();
        for (service, spans) in [("a", 3), ("b", 2)] {
            builder = builder.resource(vec![crate::kv("service.name", service)]);
            for i in 0..spans {
                builder = builder.span(&format!("{service}{i}"), vec![]);
            }
        }
        builder.build().to_bytes().to_vec()
    }

    #[test]
    fn split_and_assembled_again_gives_the_same_request() {
        let bytes = request();
        let mut groups: Vec<(Origin, Vec<&[u8]>)> = Vec::new();
        let mut ids = Vec::new();
        split_spans(&bytes, |piece| match piece {
            Piece::Scope(origin) => groups.push((origin, Vec::new())),
            Piece::Span { bytes, trace_id } => {
                groups.last_mut().expect("a scope first").1.push(bytes);
                ids.push(trace_id.to_vec());
            }
        })
        .expect("a well-formed request");
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].1.len(), 3);
        assert_eq!(groups[1].1.len(), 2);
        let decoded = crate::decode_request(&bytes).unwrap();
        let first = &decoded.resource_spans[0].scope_spans[0].spans;
        assert_eq!(ids[0], first[0].trace_id);
        assert_eq!(groups[0].1[1], first[1].encode_to_vec());

        let mut assembler = Assembler::new();
        for (origin, spans) in &groups {
            assembler.group(origin, spans.iter().copied());
        }
        assert_eq!(assembler.finish(), bytes);
    }

    #[test]
    fn a_resource_with_schema_url_keeps_it_after_its_scopes() {
        let mut request = crate::decode_request(&request()).unwrap();
        request.resource_spans[0].schema_url = "https://example.com/schema".into();
        request.resource_spans[0].scope_spans[0].schema_url = "scope-schema".into();
        let bytes = request.encode_to_vec();
        let mut origins = Vec::new();
        let mut spans = Vec::new();
        split_spans(&bytes, |piece| match piece {
            Piece::Scope(origin) => origins.push(origin),
            Piece::Span { bytes, .. } => spans.push((origins.len() - 1, bytes)),
        })
        .unwrap();
        // The origin of decoded spans is the one their encoding gives, and so are their bytes.
        let rs = &request.resource_spans[0];
        assert_eq!(Origin::of(rs, &rs.scope_spans[0]), origins[0]);
        let mut one = Vec::new();
        crate::encode_span(&rs.scope_spans[0].spans[0], &mut one);
        assert_eq!(one, spans[0].1);
        let mut assembler = Assembler::new();
        for (at, origin) in origins.iter().enumerate() {
            assembler.group(
                origin,
                spans.iter().filter(|(o, _)| *o == at).map(|(_, s)| *s),
            );
        }
        assert_eq!(assembler.finish(), bytes);
    }

    #[test]
    fn a_trace_id_given_twice_is_its_last() {
        // A span of two `trace_id` fields (1, then 2) and a name.
        let span = [0x0a, 0x01, 0x01, 0x2a, 0x01, b'n', 0x0a, 0x01, 0x02];
        assert_eq!(trace_id(&span), Some(&[0x02][..]));
        let decoded = opentelemetry_proto::tonic::trace::v1::Span::decode(&span[..]).unwrap();
        assert_eq!(decoded.trace_id, [0x02]);
    }

    #[test]
    fn malformed_bytes_are_refused() {
        let bytes = request();
        assert!(split_spans(&bytes[..bytes.len() - 3], |_| {}).is_none());
        assert!(split_spans(&[0x0a, 0x05, 0x01], |_| {}).is_none());
    }
}
