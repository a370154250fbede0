//! What one `decide` call reads from the batch, read once for all its traces, and a trace's view
//! of it.
//!
//! Attribute policies read their attribute with the collector's accessors: a value of another
//! type reads as that type's zero (`Str()` of an integer is `""`, `Int()` of a string is 0,
//! `Bool()` of anything but a boolean is false), so an attribute is loaded as its typed column
//! plus, where that zero could match, the rows where it is present at all (a second read the
//! policies skip when it cannot change their answer).

use spanwise_sampling::{Randomness, Threshold, TraceState};
use spanwise_sdk::{Level, SpanBatch, StrField, StrRows};
use std::cell::Cell;

/// The attribute type a policy reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `Str()`.
    Str,
    /// `Int()`.
    Int,
    /// `Bool()`.
    Bool,
}

/// One attribute the policies read.
#[derive(Debug, Clone)]
pub struct Need {
    /// The key.
    pub key: String,
    /// Read as.
    pub kind: Kind,
    /// Whether a value of another type (read as the zero of `kind`) can match, at the span
    /// level and at the resource level: then the rows that have the attribute at all are read.
    pub others_match: [bool; 2],
}

/// The attributes the policies read, by slot.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// By slot.
    pub attributes: Vec<Need>,
    /// Some policy reads span flags.
    pub flags: bool,
}

impl Needs {
    /// The slot of `key` read as `kind`, added if new; `others_match` (span, resource) as
    /// [`Need::others_match`].
    pub fn slot(&mut self, key: &str, kind: Kind, others_match: [bool; 2]) -> usize {
        if let Some(at) = self
            .attributes
            .iter()
            .position(|n| n.key == key && n.kind == kind)
        {
            let need = &mut self.attributes[at];
            need.others_match = [
                need.others_match[0] || others_match[0],
                need.others_match[1] || others_match[1],
            ];
            return at;
        }
        self.attributes.push(Need {
            key: key.to_owned(),
            kind,
            others_match,
        });
        self.attributes.len() - 1
    }
}

/// One attribute at one level, read as one type.
#[derive(Debug, Default)]
struct Typed {
    /// Not 0 where the attribute exists on the row, whatever its type (the host's `present`
    /// bytes, kept as they came).
    present: Vec<u8>,
    /// It exists on some row (else no row needs reading).
    anywhere: bool,
    strings: StrRows,
    ints: Vec<i64>,
    bools: Vec<bool>,
}

/// One attribute slot, span and resource level.
#[derive(Debug, Default)]
struct Attribute {
    kind: Option<Kind>,
    span: Typed,
    resource: Typed,
}

/// The columns of one call.
#[derive(Debug, Default)]
pub struct Data {
    trace_ids: Vec<u8>,
    starts: Vec<u64>,
    ends: Vec<u64>,
    status: Vec<u8>,
    flags: Vec<u32>,
    states: StrRows,
    /// Some span has a tracestate (else none needs parsing).
    any_state: bool,
    attributes: Vec<Attribute>,
}

impl Data {
    /// Read what `needs` asks for from `batch`.
    pub fn load<B: SpanBatch + ?Sized>(batch: &B, needs: &Needs) -> Data {
        let attributes = needs
            .attributes
            .iter()
            .map(|need| Attribute {
                kind: Some(need.kind),
                span: typed(batch, Level::Span, need, need.others_match[0]),
                resource: typed(batch, Level::Resource, need, need.others_match[1]),
            })
            .collect::<Vec<_>>();
        // Most calls carry no tracestate at all: the host counts them, and then the column
        // neither crosses nor is checked (every span's reads as "").
        let any_state = batch.str_field_count(StrField::TraceState) > 0;
        let states = if any_state {
            batch.str_field(StrField::TraceState).into_rows()
        } else {
            StrRows::default()
        };
        Data {
            trace_ids: batch.trace_ids(),
            starts: batch.start_times(),
            ends: batch.end_times(),
            status: batch.status_codes(),
            flags: if needs.flags {
                batch.flags()
            } else {
                Vec::new()
            },
            states,
            any_state,
            attributes,
        }
    }

    /// One trace's columns made directly: spans with these (start, end) times and status
    /// codes, nothing else (for tests of the policies over odd timestamps).
    #[cfg(test)]
    pub(crate) fn of_spans(times: &[(u64, u64)], codes: &[u8]) -> Data {
        Data {
            trace_ids: vec![1; 16 * times.len()],
            starts: times.iter().map(|t| t.0).collect(),
            ends: times.iter().map(|t| t.1).collect(),
            status: codes.to_vec(),
            flags: Vec::new(),
            states: StrRows::default(),
            any_state: false,
            attributes: Vec::new(),
        }
    }

    /// Trace `rows`.
    pub fn trace<'a>(&'a self, rows: &'a [u32]) -> Trace<'a> {
        Trace {
            data: self,
            rows,
            summary: Cell::new(None),
        }
    }
}

fn typed<B: SpanBatch + ?Sized>(batch: &B, at: Level, need: &Need, others: bool) -> Typed {
    let key = need.key.as_str();
    let mut column = Typed::default();
    column.present = match need.kind {
        Kind::Str => {
            let mut read = batch.str_attribute(at, key);
            // A column with no value is never read (rows of another type read as "").
            if any_set(&read.present) {
                column.anywhere = true;
                let present = read.present.clone();
                column.strings = read.into_rows();
                present
            } else {
                std::mem::take(&mut read.present)
            }
        }
        Kind::Int => {
            let read = batch.int_attribute(at, key);
            column.ints = read.values;
            read.present
        }
        Kind::Bool => {
            let read = batch.bool_attribute(at, key);
            column.bools = read.values;
            read.present
        }
    };
    column.anywhere = column.anywhere || any_set(&column.present);
    if others {
        // Values of other types read as the zero of this one.
        if let Some(rows) = batch.attribute_rows(at, &[key]).into_iter().next() {
            for row in rows {
                if let Some(p) = column.present.get_mut(row as usize) {
                    *p = 1;
                    column.anywhere = true;
                }
            }
        }
    }
    column
}

/// Whether any of `present` is not 0: one OR over every byte (a search for the first set byte
/// goes a byte at a time).
fn any_set(present: &[u8]) -> bool {
    spanwise_sdk::or_all(present) != 0
}

impl Typed {
    fn present(&self, row: usize) -> bool {
        self.present.get(row).is_some_and(|&p| p != 0)
    }
}

/// One trace: its rows of the call's columns.
pub struct Trace<'a> {
    data: &'a Data,
    /// Its span rows, in the order the host gave them.
    pub rows: &'a [u32],
    /// What [`Trace::summary`] worked out, once asked.
    summary: Cell<Option<Summary>>,
}

/// What several policies ask of a trace's spans, gathered in one pass: its status codes and
/// the span of its timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Bit `c` set when a span has status code `c` (codes past 31 set none).
    pub status: u32,
    /// The earliest start and latest end, or `None` when a timestamp is 0 or past
    /// `i64::MAX` (the latency check then goes span by span) or there are no spans.
    pub times: Option<(u64, u64)>,
}

/// The bit of status code `code` in [`Summary::status`] (0 past 31).
pub fn status_bit(code: u8) -> u32 {
    1u32.checked_shl(u32::from(code)).unwrap_or(0)
}

/// An attribute as the collector's accessor reads it: `None` where the attribute is absent.
pub enum Read<'a> {
    /// `Str()`.
    Str(&'a str),
    /// `Int()`.
    Int(i64),
    /// `Bool()`.
    Bool(bool),
}

impl<'a> Trace<'a> {
    /// The 16 bytes of the trace id (of its first span).
    pub fn trace_id(&self) -> [u8; 16] {
        let Some(&row) = self.rows.first() else {
            return [0; 16];
        };
        let at = row as usize * 16;
        self.data
            .trace_ids
            .get(at..at + 16)
            .and_then(|id| id.try_into().ok())
            .unwrap_or([0; 16])
    }

    /// Its [`Summary`], worked out on the first call: one loop over the spans, where the status
    /// and latency policies would each make one (as WebAssembly, each loop's overhead per span
    /// is several times native).
    pub fn summary(&self) -> Summary {
        if let Some(summary) = self.summary.get() {
            return summary;
        }
        let (starts, ends, codes) = (
            self.data.starts.as_slice(),
            self.data.ends.as_slice(),
            self.data.status.as_slice(),
        );
        let (mut min, mut max, mut odd, mut status) = (u64::MAX, 0u64, false, 0u32);
        for &r in self.rows {
            let r = r as usize;
            let start = starts.get(r).copied().unwrap_or(0);
            let end = ends.get(r).copied().unwrap_or(0);
            min = min.min(start);
            max = max.max(end);
            odd |= crate::policy::odd_times(start, end);
            status |= status_bit(codes.get(r).copied().unwrap_or(0));
        }
        let summary = Summary {
            status,
            times: (!odd && !self.rows.is_empty()).then_some((min, max)),
        };
        self.summary.set(Some(summary));
        summary
    }

    /// The number of spans.
    pub fn span_count(&self) -> i64 {
        self.rows.len() as i64
    }

    /// Start and end time of each span, in order.
    pub fn times(&self) -> impl Iterator<Item = (u64, u64)> + 'a {
        // The columns are taken once, so that a loop over the iterator holds them in locals
        // instead of reading them through `data` per span (as WebAssembly, LLVM reloads them).
        let (starts, ends) = (self.data.starts.as_slice(), self.data.ends.as_slice());
        self.rows.iter().map(move |&r| {
            let r = r as usize;
            (
                starts.get(r).copied().unwrap_or(0),
                ends.get(r).copied().unwrap_or(0),
            )
        })
    }

    /// The flags of each span.
    pub fn flags(&self) -> impl Iterator<Item = u32> + 'a {
        let flags = self.data.flags.as_slice();
        self.rows
            .iter()
            .map(move |&r| flags.get(r as usize).copied().unwrap_or(0))
    }

    /// The tracestate of each span.
    pub fn tracestates(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.rows
            .iter()
            .map(|&r| self.data.states.get(r as usize).unwrap_or(""))
    }

    /// Whether attribute `slot` exists on some span of the call (`spans`) and on some resource
    /// (`resources`): where it exists nowhere, every value read is `None`.
    pub fn exists(&self, slot: usize) -> (bool, bool) {
        let attribute = &self.data.attributes[slot];
        (attribute.span.anywhere, attribute.resource.anywhere)
    }

    /// Attribute `slot` of each span, as its policy reads it.
    pub fn span_values(&self, slot: usize) -> impl Iterator<Item = Option<Read<'a>>> + '_ {
        let attribute = &self.data.attributes[slot];
        self.rows
            .iter()
            .map(move |&r| read(attribute, &attribute.span, r as usize))
    }

    /// Attribute `slot` of the resource of each span (a resource once per span of it).
    pub fn resource_values(&self, slot: usize) -> impl Iterator<Item = Option<Read<'a>>> + '_ {
        let attribute = &self.data.attributes[slot];
        // Resource attributes are read per span row: each span gets its resource's value.
        self.rows
            .iter()
            .map(move |&r| read(attribute, &attribute.resource, r as usize))
    }

    /// The randomness of the trace: the `rv` of the first span that has one, else the low 56
    /// bits of the trace id (OpenTelemetry's consistent sampling).
    pub fn randomness(&self) -> Randomness {
        if !self.data.any_state {
            return Randomness::from_trace_id(&self.trace_id());
        }
        for state in self.tracestates() {
            if state.is_empty() {
                continue;
            }
            let (state, _) = TraceState::parse(state);
            if let Some(rv) = state.ot.rv {
                return rv.value();
            }
        }
        Randomness::from_trace_id(&self.trace_id())
    }

    /// The lowest probability its spans arrived sampled with (the `th` in their tracestate),
    /// or 1 when none was sampled before.
    pub fn arrival_probability(&self) -> f64 {
        let mut least = 1.0f64;
        if !self.data.any_state {
            return least;
        }
        for state in self.tracestates() {
            if state.is_empty() {
                continue;
            }
            let (state, _) = TraceState::parse(state);
            if let Some(th) = state.ot.th {
                let th: Threshold = th.value();
                if th != Threshold::NEVER {
                    least = least.min(th.probability());
                }
            }
        }
        least
    }
}

fn read<'a>(attribute: &'a Attribute, typed: &'a Typed, row: usize) -> Option<Read<'a>> {
    if !typed.present(row) {
        return None;
    }
    Some(match attribute.kind {
        Some(Kind::Str) | None => Read::Str(typed.strings.get(row).unwrap_or("")),
        Some(Kind::Int) => Read::Int(typed.ints.get(row).copied().unwrap_or(0)),
        Some(Kind::Bool) => Read::Bool(typed.bools.get(row).copied().unwrap_or(false)),
    })
}
