//! [`scan_request`]: check that the fast decoder takes a request, and count its spans and
//! resources, without building anything.
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

/// Whether the fast decoder takes `bytes` (`Some`, with the counts) or leaves it to prost.
pub fn scan_request(bytes: &[u8]) -> Option<Scanned> {
    let mut scanned = Scanned::default();
    fields(bytes, |r, number, wire| match number {
        1 => {
            scanned.resources += 1;
            scanned.spans += resource_spans(r.message(wire)?)?;
            Some(())
        }
        _ => None,
    })?;
    Some(scanned)
}

impl Reader<'_> {
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
        let bytes = self.message(wire)?;
        simdutf8::basic::from_utf8(bytes).ok().map(drop)
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
fn resource_spans(bytes: &[u8]) -> Option<usize> {
    let (mut spans, mut resource) = (0, false);
    fields(bytes, |r, number, wire| match number {
        1 => first(&mut resource, r.message(wire).and_then(self::resource)),
        2 => {
            spans += scope_spans(r.message(wire)?)?;
            Some(())
        }
        3 => r.text(wire),
        _ => None,
    })?;
    Some(spans)
}

fn resource(bytes: &[u8]) -> Option<()> {
    fields(bytes, |r, number, wire| match number {
        1 => key_value(r.message(wire)?, 0),
        2 => r.take(wire, VARINT),
        _ => None,
    })
}

fn scope_spans(bytes: &[u8]) -> Option<usize> {
    let (mut spans, mut scope_seen) = (0, false);
    fields(bytes, |r, number, wire| match number {
        1 => first(&mut scope_seen, r.message(wire).and_then(scope)),
        2 => {
            span(r.message(wire)?)?;
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
        3 => key_value(r.message(wire)?, 0),
        4 => r.take(wire, VARINT),
        _ => None,
    })
}

fn span(bytes: &[u8]) -> Option<()> {
    let mut status_seen = false;
    fields(bytes, |r, number, wire| match number {
        1 | 2 | 4 => r.take(wire, LEN),
        3 | 5 => r.text(wire),
        6 | 10 | 12 | 14 => r.take(wire, VARINT),
        7 | 8 => r.take(wire, FIXED64),
        9 => key_value(r.message(wire)?, 0),
        11 => event(r.message(wire)?),
        13 => link(r.message(wire)?),
        15 => first(&mut status_seen, r.message(wire).and_then(status)),
        16 => r.take(wire, FIXED32),
        _ => None,
    })
}

fn event(bytes: &[u8]) -> Option<()> {
    fields(bytes, |r, number, wire| match number {
        1 => r.take(wire, FIXED64),
        2 => r.text(wire),
        3 => key_value(r.message(wire)?, 0),
        4 => r.take(wire, VARINT),
        _ => None,
    })
}

fn link(bytes: &[u8]) -> Option<()> {
    fields(bytes, |r, number, wire| match number {
        1 | 2 => r.take(wire, LEN),
        3 => r.text(wire),
        4 => key_value(r.message(wire)?, 0),
        5 => r.take(wire, VARINT),
        6 => r.take(wire, FIXED32),
        _ => None,
    })
}

fn status(bytes: &[u8]) -> Option<()> {
    fields(bytes, |r, number, wire| match number {
        2 => r.text(wire),
        3 => r.take(wire, VARINT),
        _ => None,
    })
}

fn key_value(bytes: &[u8], depth: usize) -> Option<()> {
    let mut value_seen = false;
    fields(bytes, |r, number, wire| match number {
        1 => r.text(wire),
        2 => first(
            &mut value_seen,
            r.message(wire).and_then(|v| any_value(v, depth)),
        ),
        3 => r.take(wire, VARINT),
        _ => None,
    })
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
            6 => list(r.message(wire)?, |kv| key_value(kv, depth + 1)),
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
