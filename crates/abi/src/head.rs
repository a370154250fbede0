//! [`HeadView`] and [`HeadEdits`]: what crosses with a head sampler's call (WIT `head-view` and
//! `head-edits`, 0.1.7), and [`Viewed`], the batch a head sampler runs on inside that call.

use crate::{
    BoolColumn, DoubleColumn, HashFunction, IntColumn, Level, SpanBatch, StrColumn, StrField, Value,
};
use std::cell::Cell;

/// The span attribute a head sampler reads as a sampling priority, as the OpenTelemetry
/// Collector's samplers read it.
pub const SAMPLING_PRIORITY: &str = "sampling.priority";

/// What the host reads of a batch for a head sampler before the call (WIT `head-view`): each
/// field is the answer of the [`SpanBatch`] read of the same name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadView {
    /// [`SpanBatch::trace_ids`].
    pub trace_ids: Vec<u8>,
    /// [`SpanBatch::str_field_count`] of [`StrField::TraceState`].
    pub trace_state_count: u32,
    /// [`SpanBatch::attribute_count`] of [`SAMPLING_PRIORITY`] at [`Level::Span`].
    pub priority_count: u32,
}

impl HeadView {
    /// Read the view of `batch`.
    pub fn read<B: SpanBatch + ?Sized>(batch: &B) -> Self {
        Self {
            trace_ids: batch.trace_ids(),
            trace_state_count: batch.str_field_count(StrField::TraceState) as u32,
            priority_count: batch.attribute_count(Level::Span, SAMPLING_PRIORITY) as u32,
        }
    }
}

/// The edits a head sampler hands back with its result (WIT `head-edits`): recorded after the
/// call's other edits, the fill first, then the drop; an empty list records nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadEdits {
    /// Rows whose tracestate becomes [`HeadEdits::trace_state`].
    pub trace_state_rows: Vec<u32>,
    /// The tracestate written on those rows.
    pub trace_state: String,
    /// Rows to drop.
    pub dropped: Vec<u32>,
}

impl HeadEdits {
    /// Record these edits on `batch`, as the host records them after a call.
    pub fn record_on<B: SpanBatch + ?Sized>(&self, batch: &mut B) {
        if !self.trace_state_rows.is_empty() {
            batch.fill_str_field(
                StrField::TraceState,
                &self.trace_state_rows,
                &self.trace_state,
            );
        }
        if !self.dropped.is_empty() {
            batch.drop_spans(&self.dropped);
        }
    }
}

/// A head sampler's batch inside a `head-sampler` call: `B` (the host's batch) with the reads
/// of a [`HeadView`] answered from it and the edits a [`HeadEdits`] can hold kept back for the
/// result, so that neither crosses on its own.
///
/// Order is kept: a fill of the tracestate or a drop is kept back, after what was kept back
/// before goes to `B` when the result could not hold both in their order (a second fill, a
/// fill after a drop, a second drop); any other edit first sends what is kept back to `B`, in
/// the order it was made. What is kept back is recorded after everything `B` was given, as the
/// host records a result's edits. Reads never see edits made in the same call, so answering
/// them from the view is the same as asking `B`.
pub struct Viewed<'a, B: SpanBatch + ?Sized> {
    batch: &'a mut B,
    /// The view's trace ids, until the first read takes them (a second read asks `B`).
    trace_ids: Cell<Option<Vec<u8>>>,
    len: usize,
    trace_state_count: usize,
    priority_count: usize,
    fill: Option<(Vec<u32>, String)>,
    dropped: Option<Vec<u32>>,
}

impl<'a, B: SpanBatch + ?Sized> Viewed<'a, B> {
    /// `batch`, of which `view` was read.
    pub fn new(batch: &'a mut B, view: HeadView) -> Self {
        Self {
            len: view.trace_ids.len() / 16,
            trace_state_count: view.trace_state_count as usize,
            priority_count: view.priority_count as usize,
            trace_ids: Cell::new(Some(view.trace_ids)),
            batch,
            fill: None,
            dropped: None,
        }
    }

    /// The edits kept back, for the result.
    pub fn into_edits(self) -> HeadEdits {
        let (trace_state_rows, trace_state) = self.fill.unwrap_or_default();
        HeadEdits {
            trace_state_rows,
            trace_state,
            dropped: self.dropped.unwrap_or_default(),
        }
    }

    /// Send what is kept back to the batch, in order (the fill, if any, came first).
    fn flush(&mut self) {
        if let Some((rows, value)) = self.fill.take() {
            self.batch
                .fill_str_field(StrField::TraceState, &rows, &value);
        }
        if let Some(rows) = self.dropped.take() {
            self.batch.drop_spans(&rows);
        }
    }
}

impl<B: SpanBatch + ?Sized> SpanBatch for Viewed<'_, B> {
    fn len(&self) -> usize {
        self.len
    }
    fn trace_ids(&self) -> Vec<u8> {
        match self.trace_ids.take() {
            Some(ids) => ids,
            None => self.batch.trace_ids(),
        }
    }
    fn span_ids(&self) -> Vec<u8> {
        self.batch.span_ids()
    }
    fn parent_span_ids(&self) -> Vec<u8> {
        self.batch.parent_span_ids()
    }
    fn flags(&self) -> Vec<u32> {
        self.batch.flags()
    }
    fn kinds(&self) -> Vec<u8> {
        self.batch.kinds()
    }
    fn start_times(&self) -> Vec<u64> {
        self.batch.start_times()
    }
    fn end_times(&self) -> Vec<u64> {
        self.batch.end_times()
    }
    fn durations(&self) -> Vec<u64> {
        self.batch.durations()
    }
    fn status_codes(&self) -> Vec<u8> {
        self.batch.status_codes()
    }
    fn str_field(&self, field: StrField) -> StrColumn {
        self.batch.str_field(field)
    }
    fn str_field_count(&self, field: StrField) -> usize {
        match field {
            StrField::TraceState => self.trace_state_count,
            _ => self.batch.str_field_count(field),
        }
    }
    fn resource_ids(&self) -> Vec<u32> {
        self.batch.resource_ids()
    }
    fn scope_ids(&self) -> Vec<u32> {
        self.batch.scope_ids()
    }
    fn event_spans(&self) -> Vec<u32> {
        self.batch.event_spans()
    }
    fn event_times(&self) -> Vec<u64> {
        self.batch.event_times()
    }
    fn link_spans(&self) -> Vec<u32> {
        self.batch.link_spans()
    }
    fn link_trace_ids(&self) -> Vec<u8> {
        self.batch.link_trace_ids()
    }
    fn link_span_ids(&self) -> Vec<u8> {
        self.batch.link_span_ids()
    }
    fn row_count(&self, at: Level) -> usize {
        self.batch.row_count(at)
    }
    fn attribute_keys(&self, at: Level) -> Vec<String> {
        self.batch.attribute_keys(at)
    }
    fn attribute_rows(&self, at: Level, keys: &[&str]) -> Vec<Vec<u32>> {
        self.batch.attribute_rows(at, keys)
    }
    fn attribute_count(&self, at: Level, key: &str) -> usize {
        match (at, key) {
            (Level::Span, SAMPLING_PRIORITY) => self.priority_count,
            _ => self.batch.attribute_count(at, key),
        }
    }
    fn str_attribute(&self, at: Level, key: &str) -> StrColumn {
        self.batch.str_attribute(at, key)
    }
    fn str_attributes(&self, at: Level, keys: &[&str]) -> Vec<StrColumn> {
        self.batch.str_attributes(at, keys)
    }
    fn int_attribute(&self, at: Level, key: &str) -> IntColumn {
        self.batch.int_attribute(at, key)
    }
    fn double_attribute(&self, at: Level, key: &str) -> DoubleColumn {
        self.batch.double_attribute(at, key)
    }
    fn bool_attribute(&self, at: Level, key: &str) -> BoolColumn {
        self.batch.bool_attribute(at, key)
    }
    fn attribute(&self, at: Level, key: &str) -> Vec<Option<Value>> {
        self.batch.attribute(at, key)
    }
    fn set_str_attribute(&mut self, at: Level, key: &str, rows: &[u32], values: &StrColumn) {
        self.flush();
        self.batch.set_str_attribute(at, key, rows, values);
    }
    fn set_attribute(&mut self, at: Level, key: &str, rows: &[u32], values: &[Value]) {
        self.flush();
        self.batch.set_attribute(at, key, rows, values);
    }
    fn remove_attribute(&mut self, at: Level, key: &str, rows: &[u32]) {
        self.flush();
        self.batch.remove_attribute(at, key, rows);
    }
    fn set_str_field(&mut self, field: StrField, rows: &[u32], values: &StrColumn) {
        self.flush();
        self.batch.set_str_field(field, rows, values);
    }
    fn fill_str_field(&mut self, field: StrField, rows: &[u32], value: &str) {
        // A kept-back drop came before this fill, which the result would put after it.
        if self.fill.is_some() || self.dropped.is_some() {
            self.flush();
        }
        if field == StrField::TraceState {
            self.fill = Some((rows.to_vec(), value.to_owned()));
        } else {
            self.batch.fill_str_field(field, rows, value);
        }
    }
    fn drop_spans(&mut self, rows: &[u32]) {
        if self.dropped.is_some() {
            self.flush();
        }
        self.dropped = Some(rows.to_vec());
    }
    fn drop_events(&mut self, rows: &[u32]) {
        self.flush();
        self.batch.drop_events(rows);
    }
    fn hash_attributes(&mut self, at: Level, keys: &[&str], rows: &[u32], function: &HashFunction) {
        self.flush();
        self.batch.hash_attributes(at, keys, rows, function);
    }
}
