//! The sources a set of conditions reads, loaded from the batch once per call, and a row's view
//! of them.
//!
//! Each attribute costs one packed string read (`str_attribute`) and, unless the conditions only
//! test it for equality with strings, one presence read (`attribute_rows`); values that are not
//! strings (numbers, maps...) cross as variants only when the batch has some, so a condition on
//! a string attribute never pays for them.

use crate::value::AttrValue;
use crate::{Level, SpanBatch, StrColumn, StrField};
use spanwise_ottl::{AttrLevel, EvalError, Row, Source, Table, Val};
use std::borrow::Cow;

/// The loaded sources, in slot order.
pub struct Columns(Vec<Loaded>);

struct Loaded {
    column: Column,
    /// Indexed by event row (a span event's own name, time and attributes) rather than by span
    /// row.
    per_event: bool,
}

enum Column {
    /// String values where the attribute is a string; the other values, if the batch has any.
    Attribute {
        strings: StrColumn,
        others: Vec<Option<Val<'static>>>,
    },
    Str(StrColumn),
    Static(Vec<&'static str>),
    Int(Vec<i64>),
    /// Fixed-width byte strings, packed.
    Bytes(Vec<u8>, usize),
    /// Fixed-width ASCII strings, packed (ids as hex).
    Hex(String, usize),
}

impl Columns {
    /// Load `sources` from `batch`; of an attribute whose slot is `strings_only`, only its
    /// string values.
    pub fn load<B: SpanBatch + ?Sized>(
        batch: &B,
        sources: &[Source],
        strings_only: &[bool],
    ) -> Self {
        Self(
            sources
                .iter()
                .zip(strings_only)
                .map(|(source, &strings_only)| load(batch, source, strings_only))
                .collect(),
        )
    }

    /// Row `span` (and, for span event conditions, event row `event`).
    pub fn row(&self, span: usize, event: usize) -> At<'_> {
        At {
            columns: self,
            span,
            event,
        }
    }

    /// Source `slot` lent whole: packed strings and integers are; the rest is read by row.
    fn lend(&self, slot: usize) -> spanwise_ottl::Column<'_> {
        match &self.0[slot].column {
            // The other values of an attribute are never equal to a string.
            Column::Attribute { strings: s, .. } | Column::Str(s) => lend_strings(s),
            Column::Int(values) => spanwise_ottl::Column::Ints(values),
            Column::Static(_) | Column::Bytes(..) | Column::Hex(..) => spanwise_ottl::Column::Rows,
        }
    }
}

fn lend_strings(column: &StrColumn) -> spanwise_ottl::Column<'_> {
    // A column of the wrong shape is read row by row, where reads are checked.
    if column.offsets.len() != column.present.len() + 1 {
        return spanwise_ottl::Column::Rows;
    }
    spanwise_ottl::Column::Strings {
        offsets: &column.offsets,
        data: &column.data,
        present: &column.present,
    }
}

/// The rows span conditions run over: one per span.
pub struct Spans<'a>(pub &'a Columns);

impl Table for Spans<'_> {
    type Row<'r>
        = At<'r>
    where
        Self: 'r;

    fn column(&self, slot: usize) -> spanwise_ottl::Column<'_> {
        self.0.lend(slot)
    }

    fn row(&self, row: u32) -> At<'_> {
        self.0.row(row as usize, 0)
    }
}

/// The rows span event conditions run over: one per event; `event_spans` gives the span of
/// each, whose own values (name, attributes...) the event's conditions may read.
pub struct Events<'a> {
    /// The loaded sources.
    pub columns: &'a Columns,
    /// The span row of each event row.
    pub event_spans: &'a [u32],
}

impl Table for Events<'_> {
    type Row<'r>
        = At<'r>
    where
        Self: 'r;

    fn column(&self, slot: usize) -> spanwise_ottl::Column<'_> {
        if self.columns.0[slot].per_event {
            self.columns.lend(slot)
        } else {
            spanwise_ottl::Column::Rows
        }
    }

    fn row(&self, row: u32) -> At<'_> {
        self.columns
            .row(self.event_spans[row as usize] as usize, row as usize)
    }
}

/// One row of [`Columns`].
pub struct At<'a> {
    columns: &'a Columns,
    span: usize,
    event: usize,
}

impl Row for At<'_> {
    fn get(&self, slot: usize) -> Result<Val<'_>, EvalError> {
        let loaded = &self.columns.0[slot];
        let row = if loaded.per_event {
            self.event
        } else {
            self.span
        };
        Ok(match &loaded.column {
            Column::Attribute { strings, others } => match strings.get(row) {
                Some(s) => Val::Str(Cow::Borrowed(s)),
                None => others
                    .get(row)
                    .and_then(Option::as_ref)
                    .map_or(Val::Nil, Val::view),
            },
            Column::Str(column) => column
                .get(row)
                .map_or(Val::Nil, |s| Val::Str(Cow::Borrowed(s))),
            Column::Static(names) => Val::Str(Cow::Borrowed(names[row])),
            Column::Int(values) => Val::Int(values[row]),
            Column::Bytes(data, width) => {
                Val::Bytes(Cow::Borrowed(&data[row * width..(row + 1) * width]))
            }
            Column::Hex(text, width) => {
                Val::Str(Cow::Borrowed(&text[row * width..(row + 1) * width]))
            }
        })
    }
}

fn load<B: SpanBatch + ?Sized>(batch: &B, source: &Source, strings_only: bool) -> Loaded {
    let span = |column| Loaded {
        column,
        per_event: false,
    };
    let event = |column| Loaded {
        column,
        per_event: true,
    };
    let ints = |values: Vec<u64>| values.into_iter().map(|v| v as i64).collect();
    match source {
        Source::Attribute(level, key) => {
            let level = match level {
                AttrLevel::Resource => Level::Resource,
                AttrLevel::Scope => Level::Scope,
                AttrLevel::Span => Level::Span,
                AttrLevel::Event => Level::Event,
            };
            let column = if strings_only {
                Column::Str(batch.str_attribute(level, key))
            } else {
                attribute(batch, level, key)
            };
            if level == Level::Event {
                event(column)
            } else {
                span(column)
            }
        }
        Source::Name => span(Column::Str(batch.str_field(StrField::Name))),
        Source::StatusMessage => span(Column::Str(batch.str_field(StrField::StatusMessage))),
        Source::TraceState => span(Column::Str(batch.str_field(StrField::TraceState))),
        Source::ScopeName => span(Column::Str(batch.str_field(StrField::ScopeName))),
        Source::ScopeVersion => span(Column::Str(batch.str_field(StrField::ScopeVersion))),
        Source::EventName => event(Column::Str(batch.str_field(StrField::EventName))),
        Source::Kind => span(Column::Int(
            batch.kinds().into_iter().map(i64::from).collect(),
        )),
        Source::KindString => span(Column::Static(
            batch.kinds().into_iter().map(kind_name).collect(),
        )),
        Source::StatusCode => span(Column::Int(
            batch.status_codes().into_iter().map(i64::from).collect(),
        )),
        Source::Flags => span(Column::Int(
            batch.flags().into_iter().map(i64::from).collect(),
        )),
        Source::StartTime => span(Column::Int(ints(batch.start_times()))),
        Source::EndTime => span(Column::Int(ints(batch.end_times()))),
        Source::Duration => span(Column::Int(ints(batch.durations()))),
        Source::EventTime => event(Column::Int(ints(batch.event_times()))),
        Source::TraceId => span(Column::Bytes(batch.trace_ids(), 16)),
        Source::SpanId => span(Column::Bytes(batch.span_ids(), 8)),
        Source::ParentSpanId => span(Column::Bytes(batch.parent_span_ids(), 8)),
        Source::TraceIdString => span(Column::Hex(hex::encode(batch.trace_ids()), 32)),
        Source::SpanIdString => span(Column::Hex(hex::encode(batch.span_ids()), 16)),
        Source::ParentSpanIdString => span(Column::Hex(hex::encode(batch.parent_span_ids()), 16)),
    }
}

/// An attribute: its string values, and its other values only where the batch has some.
fn attribute<B: SpanBatch + ?Sized>(batch: &B, level: Level, key: &str) -> Column {
    let strings = batch.str_attribute(level, key);
    let present = batch
        .attribute_rows(level, &[key])
        .pop()
        .map_or(0, |rows| rows.len());
    let string_count = strings.present.iter().filter(|&&p| p != 0).count();
    let others = if present > string_count {
        batch
            .attribute(level, key)
            .into_iter()
            .map(|value| match value {
                Some(crate::Value::Str(_)) | None => None,
                Some(value) => Some(to_val(&AttrValue::from_wire(&value))),
            })
            .collect()
    } else {
        Vec::new()
    };
    Column::Attribute { strings, others }
}

/// An attribute value as conditions see it (the collector's raw values: an empty value is
/// `nil`).
fn to_val(value: &AttrValue) -> Val<'static> {
    match value {
        AttrValue::Empty => Val::Nil,
        AttrValue::Str(s) => Val::Str(Cow::Owned(s.clone())),
        AttrValue::Bool(b) => Val::Bool(*b),
        AttrValue::Int(i) => Val::Int(*i),
        AttrValue::Double(d) => Val::Float(*d),
        AttrValue::Bytes(b) => Val::Bytes(Cow::Owned(b.clone())),
        AttrValue::Array(items) => Val::List(items.iter().map(to_val).collect()),
        AttrValue::Map(entries) => Val::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), to_val(v)))
                .collect(),
        ),
    }
}

/// The collector's name of a span kind (`ptrace.SpanKind.String()`).
fn kind_name(kind: u8) -> &'static str {
    match kind {
        0 => "Unspecified",
        1 => "Internal",
        2 => "Server",
        3 => "Client",
        4 => "Producer",
        5 => "Consumer",
        _ => "",
    }
}
