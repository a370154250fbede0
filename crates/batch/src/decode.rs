//! [`decode_request`]: an OTLP trace export request decoded from protobuf bytes, faster than
//! prost's generated decoder on what clients send, and giving exactly what it gives.
//!
//! prost decodes field by field through generic buffer adapters: every string is copied by a
//! `Buf` loop and checked by `str::from_utf8` one by one, and every repeated field grows its
//! `Vec` by doubling (a copy of every span it holds each time). Here each message's repeated
//! fields are counted first (a walk over its tags, no decoding), so every `Vec` is allocated
//! once at its size; strings are checked with `simdutf8` and copied once.
//!
//! Only the encoding that a protobuf library writes is decoded here: every field with the wire
//! type of its declaration, no unknown field, no singular message or `oneof` given twice, no
//! string-table index (`key_strindex` aside, which is a plain integer), nesting of at most
//! [`MAX_DEPTH`] values. Anything else (and every malformed input) goes to prost's decoder,
//! which then decides: what it accepts is the answer, and its error is the error. So the result
//! never differs from prost's, only the time taken.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;

mod scan;
pub mod split;
pub use scan::{Scanned, Sink, SpanSeen, key_hash, scan_into, scan_request};

/// How deeply arrays and maps may nest in one attribute value here. prost allows 100 nested
/// messages in all, and a map level is three (value, list, pair): deeper values go to prost,
/// which then accepts or refuses them itself.
pub const MAX_DEPTH: usize = 16;

/// Decode an `ExportTraceServiceRequest`, as `prost::Message::decode` does.
pub fn decode_request(bytes: &[u8]) -> Result<ExportTraceServiceRequest, prost::DecodeError> {
    match request(bytes) {
        Some(request) => Ok(request),
        None => ExportTraceServiceRequest::decode(bytes),
    }
}

/// Wire types.
pub(crate) const VARINT: u8 = 0;
pub(crate) const FIXED64: u8 = 1;
pub(crate) const LEN: u8 = 2;
pub(crate) const FIXED32: u8 = 5;

/// A cursor over one message's bytes. Every method returns `None` on anything this decoder
/// leaves to prost.
pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub(crate) fn done(&self) -> bool {
        self.bytes.is_empty()
    }

    #[inline]
    pub(crate) fn varint(&mut self) -> Option<u64> {
        // Most varints here (keys, lengths of short values) are one byte.
        if let Some((&byte, rest)) = self.bytes.split_first()
            && byte < 0x80
        {
            self.bytes = rest;
            return Some(u64::from(byte));
        }
        let mut value = 0u64;
        for (i, &byte) in self.bytes.iter().take(10).enumerate() {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                // A tenth byte may only hold the top bit.
                if i == 9 && byte > 1 {
                    return None;
                }
                self.bytes = &self.bytes[i + 1..];
                return Some(value);
            }
        }
        None
    }

    /// The next field's number and wire type.
    #[inline]
    pub(crate) fn key(&mut self) -> Option<(u32, u8)> {
        let key = self.varint()?;
        let field = u32::try_from(key >> 3).ok()?;
        if field == 0 {
            return None;
        }
        Some((field, (key & 7) as u8))
    }

    #[inline]
    pub(crate) fn len_delimited(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.varint()?).ok()?;
        if len > self.bytes.len() {
            return None;
        }
        let (value, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Some(value)
    }

    #[inline]
    pub(crate) fn raw_fixed64(&mut self) -> Option<u64> {
        let (value, rest) = self.bytes.split_first_chunk::<8>()?;
        self.bytes = rest;
        Some(u64::from_le_bytes(*value))
    }

    #[inline]
    fn raw_fixed32(&mut self) -> Option<u32> {
        let (value, rest) = self.bytes.split_first_chunk::<4>()?;
        self.bytes = rest;
        Some(u32::from_le_bytes(*value))
    }

    /// Skip a field's value (to count fields).
    #[inline]
    pub(crate) fn skip(&mut self, wire: u8) -> Option<()> {
        match wire {
            VARINT => self.varint().map(drop),
            FIXED64 => self.raw_fixed64().map(drop),
            LEN => self.len_delimited().map(drop),
            FIXED32 => self.raw_fixed32().map(drop),
            _ => None,
        }
    }

    /// The value of a field of declared wire type `expected`, read by `read`.
    #[inline]
    fn expect<T>(
        &mut self,
        wire: u8,
        expected: u8,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<T> {
        if wire != expected {
            return None;
        }
        read(self)
    }

    #[inline]
    fn string(&mut self, wire: u8) -> Option<String> {
        let bytes = self.expect(wire, LEN, Self::len_delimited)?;
        simdutf8::basic::from_utf8(bytes).ok().map(str::to_owned)
    }

    #[inline]
    fn bytes(&mut self, wire: u8) -> Option<Vec<u8>> {
        self.expect(wire, LEN, Self::len_delimited)
            .map(<[u8]>::to_vec)
    }

    #[inline]
    fn message(&mut self, wire: u8) -> Option<&'a [u8]> {
        self.expect(wire, LEN, Self::len_delimited)
    }

    #[inline]
    fn varint_field(&mut self, wire: u8) -> Option<u64> {
        self.expect(wire, VARINT, Self::varint)
    }

    #[inline]
    fn uint32(&mut self, wire: u8) -> Option<u32> {
        self.varint_field(wire).map(|v| v as u32)
    }

    #[inline]
    fn int32(&mut self, wire: u8) -> Option<i32> {
        self.varint_field(wire).map(|v| v as i32)
    }

    #[inline]
    fn fixed64(&mut self, wire: u8) -> Option<u64> {
        self.expect(wire, FIXED64, Self::raw_fixed64)
    }

    #[inline]
    fn fixed32(&mut self, wire: u8) -> Option<u32> {
        self.expect(wire, FIXED32, Self::raw_fixed32)
    }
}

/// How many times each of `fields` occurs in `bytes` (a walk over the tags).
fn count<const N: usize>(bytes: &[u8], fields: [u32; N]) -> Option<[usize; N]> {
    let mut counts = [0; N];
    let mut reader = Reader::new(bytes);
    while !reader.done() {
        let (field, wire) = reader.key()?;
        if let Some(i) = fields.iter().position(|&f| f == field) {
            counts[i] += 1;
        }
        reader.skip(wire)?;
    }
    Some(counts)
}

/// Set a singular message field once; a second occurrence (which prost merges) is left to it.
#[inline]
fn once<T>(slot: &mut Option<T>, value: Option<T>) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value?);
    Some(())
}

/// Read each field of a message with `field` (number, wire type); `None` from it (a field this
/// decoder does not take) stops the walk.
#[inline]
fn fields<'a>(
    bytes: &'a [u8],
    mut field: impl FnMut(&mut Reader<'a>, u32, u8) -> Option<()>,
) -> Option<()> {
    let mut reader = Reader::new(bytes);
    while !reader.done() {
        let (number, wire) = reader.key()?;
        field(&mut reader, number, wire)?;
    }
    Some(())
}

/// A message whose only field is the repeated message field 1 (the request, an array, a map),
/// each item decoded by `item`.
#[inline]
fn list<T>(bytes: &[u8], item: impl Fn(&[u8]) -> Option<T>) -> Option<Vec<T>> {
    let [n] = count(bytes, [1])?;
    let mut items = Vec::with_capacity(n);
    fields(bytes, |reader, number, wire| match number {
        1 => {
            items.push(item(reader.message(wire)?)?);
            Some(())
        }
        _ => None,
    })?;
    Some(items)
}

fn request(bytes: &[u8]) -> Option<ExportTraceServiceRequest> {
    Some(ExportTraceServiceRequest {
        resource_spans: list(bytes, resource_spans_of)?,
    })
}

fn resource_spans_of(bytes: &[u8]) -> Option<ResourceSpans> {
    let [n] = count(bytes, [2])?;
    let mut out = ResourceSpans {
        scope_spans: Vec::with_capacity(n),
        ..Default::default()
    };
    fields(bytes, |r, number, wire| {
        match number {
            1 => once(&mut out.resource, r.message(wire).and_then(resource_of))?,
            2 => out.scope_spans.push(scope_spans_of(r.message(wire)?)?),
            3 => out.schema_url = r.string(wire)?,
            _ => return None,
        }
        Some(())
    })?;
    Some(out)
}

fn resource_of(bytes: &[u8]) -> Option<Resource> {
    let [n] = count(bytes, [1])?;
    let mut out = Resource {
        attributes: Vec::with_capacity(n),
        ..Default::default()
    };
    fields(bytes, |r, number, wire| {
        match number {
            1 => out.attributes.push(key_value(r.message(wire)?, 0)?),
            2 => out.dropped_attributes_count = r.uint32(wire)?,
            _ => return None,
        }
        Some(())
    })?;
    Some(out)
}

fn scope_spans_of(bytes: &[u8]) -> Option<ScopeSpans> {
    let [n] = count(bytes, [2])?;
    let mut out = ScopeSpans {
        spans: Vec::with_capacity(n),
        ..Default::default()
    };
    fields(bytes, |r, number, wire| {
        match number {
            1 => once(&mut out.scope, r.message(wire).and_then(scope_of))?,
            2 => out.spans.push(span_of(r.message(wire)?)?),
            3 => out.schema_url = r.string(wire)?,
            _ => return None,
        }
        Some(())
    })?;
    Some(out)
}

fn scope_of(bytes: &[u8]) -> Option<InstrumentationScope> {
    let [n] = count(bytes, [3])?;
    let mut out = InstrumentationScope {
        attributes: Vec::with_capacity(n),
        ..Default::default()
    };
    fields(bytes, |r, number, wire| {
        match number {
            1 => out.name = r.string(wire)?,
            2 => out.version = r.string(wire)?,
            3 => out.attributes.push(key_value(r.message(wire)?, 0)?),
            4 => out.dropped_attributes_count = r.uint32(wire)?,
            _ => return None,
        }
        Some(())
    })?;
    Some(out)
}

fn span_of(bytes: &[u8]) -> Option<Span> {
    let [attributes, events, links] = count(bytes, [9, 11, 13])?;
    let mut out = Span {
        attributes: Vec::with_capacity(attributes),
        events: Vec::with_capacity(events),
        links: Vec::with_capacity(links),
        ..Default::default()
    };
    fields(bytes, |r, number, wire| {
        match number {
            1 => out.trace_id = r.bytes(wire)?,
            2 => out.span_id = r.bytes(wire)?,
            3 => out.trace_state = r.string(wire)?,
            4 => out.parent_span_id = r.bytes(wire)?,
            5 => out.name = r.string(wire)?,
            6 => out.kind = r.int32(wire)?,
            7 => out.start_time_unix_nano = r.fixed64(wire)?,
            8 => out.end_time_unix_nano = r.fixed64(wire)?,
            9 => out.attributes.push(key_value(r.message(wire)?, 0)?),
            10 => out.dropped_attributes_count = r.uint32(wire)?,
            11 => out.events.push(event_of(r.message(wire)?)?),
            12 => out.dropped_events_count = r.uint32(wire)?,
            13 => out.links.push(link_of(r.message(wire)?)?),
            14 => out.dropped_links_count = r.uint32(wire)?,
            15 => once(&mut out.status, r.message(wire).and_then(status_of))?,
            16 => out.flags = r.fixed32(wire)?,
            _ => return None,
        }
        Some(())
    })?;
    Some(out)
}

fn event_of(bytes: &[u8]) -> Option<Event> {
    let [n] = count(bytes, [3])?;
    let mut out = Event {
        attributes: Vec::with_capacity(n),
        ..Default::default()
    };
    fields(bytes, |r, number, wire| {
        match number {
            1 => out.time_unix_nano = r.fixed64(wire)?,
            2 => out.name = r.string(wire)?,
            3 => out.attributes.push(key_value(r.message(wire)?, 0)?),
            4 => out.dropped_attributes_count = r.uint32(wire)?,
            _ => return None,
        }
        Some(())
    })?;
    Some(out)
}

fn link_of(bytes: &[u8]) -> Option<Link> {
    let [n] = count(bytes, [4])?;
    let mut out = Link {
        attributes: Vec::with_capacity(n),
        ..Default::default()
    };
    fields(bytes, |r, number, wire| {
        match number {
            1 => out.trace_id = r.bytes(wire)?,
            2 => out.span_id = r.bytes(wire)?,
            3 => out.trace_state = r.string(wire)?,
            4 => out.attributes.push(key_value(r.message(wire)?, 0)?),
            5 => out.dropped_attributes_count = r.uint32(wire)?,
            6 => out.flags = r.fixed32(wire)?,
            _ => return None,
        }
        Some(())
    })?;
    Some(out)
}

fn status_of(bytes: &[u8]) -> Option<Status> {
    let mut out = Status::default();
    fields(bytes, |r, number, wire| {
        match number {
            2 => out.message = r.string(wire)?,
            3 => out.code = r.int32(wire)?,
            _ => return None,
        }
        Some(())
    })?;
    Some(out)
}

#[inline]
fn key_value(bytes: &[u8], depth: usize) -> Option<KeyValue> {
    let mut out = KeyValue::default();
    fields(bytes, |r, number, wire| {
        match number {
            1 => out.key = r.string(wire)?,
            2 => once(
                &mut out.value,
                r.message(wire).and_then(|v| any_value_of(v, depth)),
            )?,
            3 => out.key_strindex = r.int32(wire)?,
            _ => return None,
        }
        Some(())
    })?;
    Some(out)
}

#[inline]
fn any_value_of(bytes: &[u8], depth: usize) -> Option<AnyValue> {
    use any_value::Value as V;
    let mut value = None;
    fields(bytes, |r, number, wire| {
        let next = match number {
            1 => V::StringValue(r.string(wire)?),
            2 => V::BoolValue(r.varint_field(wire)? != 0),
            3 => V::IntValue(r.varint_field(wire)? as i64),
            4 => V::DoubleValue(f64::from_bits(r.fixed64(wire)?)),
            5 | 6 if depth >= MAX_DEPTH => return None,
            5 => V::ArrayValue(ArrayValue {
                values: list(r.message(wire)?, |v| any_value_of(v, depth + 1))?,
            }),
            6 => V::KvlistValue(KeyValueList {
                values: list(r.message(wire)?, |kv| key_value(kv, depth + 1))?,
            }),
            7 => V::BytesValue(r.bytes(wire)?),
            _ => return None,
        };
        once(&mut value, Some(next))
    })?;
    Some(AnyValue { value })
}

#[cfg(test)]
pub(crate) mod tests;
