//! [`scan_request`]: check that the fast decoder takes a request, and count its spans and
//! resources, without building anything; [`scan_into`]: the same walk, telling a [`Sink`]
//! where each resource, scope and span is (what a wire-form index is built from).
//!
//! A walk over the same fields with the same rules as the decoder's functions beside it: the
//! wire type each field is declared with, no unknown field, singular messages and `oneof`
//! values once, strings UTF-8, values nested at most [`MAX_DEPTH`] deep. What it accepts, the
//! fast decoder decodes (the tests and the `otlp_protobuf` fuzz target check that both say
//! the same of every input), so a batch kept in its wire form can always be decoded later.

use super::{FIXED32, FIXED64, LEN, MAX_DEPTH, Reader, VARINT, fields};

/// What a scan counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scanned {
    /// Spans in the request.
    pub spans: usize,
    /// Resource spans in the request.
    pub resources: usize,
}

/// What a scan notes of one span, besides where it is: the fields a wire-form index keeps.
/// A field given twice holds its last value, as decoders read it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpanSeen<'a> {
    /// The `trace_id` field's bytes (empty when absent).
    pub trace_id: &'a [u8],
    /// The `trace_state` field's bytes (empty when absent).
    pub trace_state: &'a [u8],
    /// `start_time_unix_nano`.
    pub start: u64,
    /// `end_time_unix_nano`.
    pub end: u64,
    /// The number of events.
    pub events: u32,
    /// The number of links.
    pub links: u32,
    /// The status code, as [`crate::Decoded::status_codes`] reads it (0 without a status).
    pub status: u8,
    /// `flags`.
    pub flags: u32,
}

/// A hash of an attribute key, from its length and its first and last eight bytes, for the
/// key filters of a wire-form index. Keys that differ only in the middle share it, which
/// costs a look at a row, never a wrong answer.
#[inline]
pub fn key_hash(key: &[u8]) -> u64 {
    let len = key.len();
    let (head, tail) = if len >= 8 {
        (
            u64::from_le_bytes(key[..8].try_into().expect("8 bytes")),
            u64::from_le_bytes(key[len - 8..].try_into().expect("8 bytes")),
        )
    } else {
        let mut word = [0u8; 8];
        word[..len].copy_from_slice(key);
        (u64::from_le_bytes(word), 0)
    };
    // Two rounds of multiply and fold (as splitmix64 finishes), so every output bit depends
    // on every input bit.
    let mut x = head ^ tail.rotate_left(32) ^ (len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Told by [`scan_into`] where the parts of a request are, in request order: each resource
/// spans message, then each of its scope spans messages, each followed by its spans. Every
/// slice borrows from the scanned bytes. Nothing is told of a request the scan refuses after
/// it was told of its first parts, so a sink must be dropped when the scan returns `None`.
pub trait Sink<'a> {
    /// Whether [`Sink::span_key`] is wanted (it costs a hash per span attribute).
    const KEYS: bool = false;
    /// The [`key_hash`] of an attribute key of the span [`Sink::span`] tells of next.
    fn span_key(&mut self, _hash: u64) {}
    /// A resource spans message (its payload, without tag and length).
    fn resource(&mut self, _payload: &'a [u8]) {}
    /// A scope spans message of the last resource.
    fn scope(&mut self, _payload: &'a [u8]) {}
    /// A span of the last scope.
    fn span(&mut self, _payload: &'a [u8], _seen: SpanSeen<'a>) {}
}

/// The sink that notes nothing.
impl Sink<'_> for () {}

/// Whether the fast decoder takes `bytes` (`Some`, with the counts) or leaves it to prost.
pub fn scan_request(bytes: &[u8]) -> Option<Scanned> {
    scan_into(bytes, &mut ())
}

/// [`scan_request`], telling `sink` where each part of the request is.
pub fn scan_into<'a>(bytes: &'a [u8], sink: &mut impl Sink<'a>) -> Option<Scanned> {
    let mut scanned = Scanned::default();
    fields(bytes, |r, number, wire| match number {
        1 => {
            scanned.resources += 1;
            scanned.spans += resource_spans(r.message(wire)?, sink)?;
            Some(())
        }
        _ => None,
    })?;
    Some(scanned)
}

impl<'a> Reader<'a> {
    /// A field of declared wire type `expected`, skipped.
    #[inline]
    fn take(&mut self, wire: u8, expected: u8) -> Option<()> {
        if wire != expected {
            return None;
        }
        self.skip(wire)
    }

    /// A string field, checked and skipped.
    #[inline]
    fn text(&mut self, wire: u8) -> Option<()> {
        self.text_bytes(wire).map(drop)
    }

    /// A string field, checked: its bytes.
    #[inline]
    fn text_bytes(&mut self, wire: u8) -> Option<&'a [u8]> {
        let bytes = self.message(wire)?;
        simdutf8::basic::from_utf8(bytes).ok().map(|_| bytes)
    }
}

/// A singular message seen for the first time, and good.
#[inline]
fn first(seen: &mut bool, good: Option<()>) -> Option<()> {
    if std::mem::replace(seen, true) {
        return None;
    }
    good
}

/// The spans of one resource spans.
fn resource_spans<'a>(bytes: &'a [u8], sink: &mut impl Sink<'a>) -> Option<usize> {
    sink.resource(bytes);
    let (mut spans, mut resource) = (0, false);
    fields(bytes, |r, number, wire| match number {
        1 => first(&mut resource, r.message(wire).and_then(self::resource)),
        2 => {
            spans += scope_spans(r.message(wire)?, sink)?;
            Some(())
        }
        3 => r.text(wire),
        _ => None,
    })?;
    Some(spans)
}

fn resource(bytes: &[u8]) -> Option<()> {
    fields(bytes, |r, number, wire| match number {
        1 => key_value(r.message(wire)?, 0).map(drop),
        2 => r.take(wire, VARINT),
        _ => None,
    })
}

fn scope_spans<'a, S: Sink<'a>>(bytes: &'a [u8], sink: &mut S) -> Option<usize> {
    sink.scope(bytes);
    let (mut spans, mut scope_seen) = (0, false);
    fields(bytes, |r, number, wire| match number {
        1 => first(&mut scope_seen, r.message(wire).and_then(scope)),
        2 => {
            let payload = r.message(wire)?;
            let seen = span(payload, sink)?;
            sink.span(payload, seen);
            spans += 1;
            Some(())
        }
        3 => r.text(wire),
        _ => None,
    })?;
    Some(spans)
}

fn scope(bytes: &[u8]) -> Option<()> {
    fields(bytes, |r, number, wire| match number {
        1 | 2 => r.text(wire),
        3 => key_value(r.message(wire)?, 0).map(drop),
        4 => r.take(wire, VARINT),
        _ => None,
    })
}

fn span<'a, S: Sink<'a>>(bytes: &'a [u8], sink: &mut S) -> Option<SpanSeen<'a>> {
    let mut status_seen = false;
    let mut seen = SpanSeen::default();
    fields(bytes, |r, number, wire| match number {
        1 => {
            seen.trace_id = r.message(wire)?;
            Some(())
        }
        2 | 4 => r.take(wire, LEN),
        3 => {
            seen.trace_state = r.text_bytes(wire)?;
            Some(())
        }
        5 => r.text(wire),
        6 | 10 | 12 | 14 => r.take(wire, VARINT),
        7 => {
            seen.start = r.fixed64(wire)?;
            Some(())
        }
        8 => {
            seen.end = r.fixed64(wire)?;
            Some(())
        }
        9 => {
            let key = key_value(r.message(wire)?, 0)?;
            if S::KEYS {
                sink.span_key(key_hash(key));
            }
            Some(())
        }
        11 => {
            seen.events += 1;
            event(r.message(wire)?)
        }
        13 => {
            seen.links += 1;
            link(r.message(wire)?)
        }
        15 => {
            let code = r.message(wire).and_then(status);
            seen.status = code.unwrap_or(0);
            first(&mut status_seen, code.map(drop))
        }
        16 => {
            seen.flags = r.fixed32(wire)?;
            Some(())
        }
        _ => None,
    })?;
    Some(seen)
}

fn event(bytes: &[u8]) -> Option<()> {
    fields(bytes, |r, number, wire| match number {
        1 => r.take(wire, FIXED64),
        2 => r.text(wire),
        3 => key_value(r.message(wire)?, 0).map(drop),
        4 => r.take(wire, VARINT),
        _ => None,
    })
}

fn link(bytes: &[u8]) -> Option<()> {
    fields(bytes, |r, number, wire| match number {
        1 | 2 => r.take(wire, LEN),
        3 => r.text(wire),
        4 => key_value(r.message(wire)?, 0).map(drop),
        5 => r.take(wire, VARINT),
        6 => r.take(wire, FIXED32),
        _ => None,
    })
}

/// A status, checked: its code as a status-code column holds it (an `int32` clamped to a byte;
/// the last given, as decoders read it).
fn status(bytes: &[u8]) -> Option<u8> {
    let mut code = 0;
    fields(bytes, |r, number, wire| match number {
        2 => r.text(wire),
        3 => {
            code = (r.varint_field(wire)? as i32).clamp(0, 255) as u8;
            Some(())
        }
        _ => None,
    })?;
    Some(code)
}

/// A key-value pair, checked: its key (the last given, as decoders read it).
fn key_value(bytes: &[u8], depth: usize) -> Option<&[u8]> {
    let mut value_seen = false;
    let mut key: &[u8] = &[];
    fields(bytes, |r, number, wire| match number {
        1 => {
            key = r.text_bytes(wire)?;
            Some(())
        }
        2 => first(
            &mut value_seen,
            r.message(wire).and_then(|v| any_value(v, depth)),
        ),
        3 => r.take(wire, VARINT),
        _ => None,
    })?;
    Some(key)
}

fn any_value(bytes: &[u8], depth: usize) -> Option<()> {
    let mut seen = false;
    fields(bytes, |r, number, wire| {
        let good = match number {
            1 => r.text(wire),
            2 | 3 => r.take(wire, VARINT),
            4 => r.take(wire, FIXED64),
            5 | 6 if depth >= MAX_DEPTH => return None,
            5 => list(r.message(wire)?, |v| any_value(v, depth + 1)),
            6 => list(r.message(wire)?, |kv| key_value(kv, depth + 1).map(drop)),
            7 => r.take(wire, LEN),
            _ => return None,
        };
        first(&mut seen, good)
    })
}

/// A message whose only field is the repeated message field 1, each item checked by `item`.
fn list(bytes: &[u8], item: impl Fn(&[u8]) -> Option<()>) -> Option<()> {
    fields(bytes, |r, number, wire| match number {
        1 => item(r.message(wire)?),
        _ => None,
    })
}
