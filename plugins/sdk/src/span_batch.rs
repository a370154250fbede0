//! The [`SpanBatch`] trait: what a processor sees of a batch.

use spanwise_batch::types::{Level, StrColumn, StrField, Value};

/// A batch of spans lent by the host for one call. Mirrors the WIT `span-batch` resource: see
/// `wit/spanwise.wit` for the row model of each level.
///
/// Reads return the batch as it was when the call began. Edits are recorded and applied, all of
/// them, only if the call returns `Ok`. An edit that names a row out of range, a read-only field,
/// or a column whose length does not match its rows fails the call (on WebAssembly it traps).
pub trait SpanBatch {
    /// The number of spans.
    fn len(&self) -> usize;
    /// Whether the batch holds no span.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Trace ids, 16 bytes per span.
    fn trace_ids(&self) -> Vec<u8>;
    /// Span ids, 8 bytes per span.
    fn span_ids(&self) -> Vec<u8>;
    /// Parent span ids, 8 bytes per span, zero for roots.
    fn parent_span_ids(&self) -> Vec<u8>;
    /// Span flags.
    fn flags(&self) -> Vec<u32>;
    /// Span kinds as OTLP numbers.
    fn kinds(&self) -> Vec<u8>;
    /// Start times in nanoseconds since the epoch.
    fn start_times(&self) -> Vec<u64>;
    /// End times in nanoseconds since the epoch.
    fn end_times(&self) -> Vec<u64>;
    /// Durations in nanoseconds.
    fn durations(&self) -> Vec<u64>;
    /// Status codes as OTLP numbers (0 unset, 1 ok, 2 error).
    fn status_codes(&self) -> Vec<u8>;
    /// One string field over the rows of its level.
    fn str_field(&self, field: StrField) -> StrColumn;
    /// For each event row, its span row.
    fn event_spans(&self) -> Vec<u32>;
    /// For each event row, its time.
    fn event_times(&self) -> Vec<u64>;
    /// For each link row, its span row.
    fn link_spans(&self) -> Vec<u32>;
    /// For each link row, the linked trace id (16 bytes each).
    fn link_trace_ids(&self) -> Vec<u8>;
    /// For each link row, the linked span id (8 bytes each).
    fn link_span_ids(&self) -> Vec<u8>;
    /// The distinct attribute keys at a level.
    fn attribute_keys(&self, at: Level) -> Vec<String>;
    /// One attribute as strings over the rows of a level (absent where missing or not a string).
    fn str_attribute(&self, at: Level, key: &str) -> StrColumn;
    /// One attribute of any type over the rows of a level.
    fn attribute(&self, at: Level, key: &str) -> Vec<Option<Value>>;
    /// Set a string attribute on `rows`, one present value per row.
    fn set_str_attribute(&mut self, at: Level, key: &str, rows: &[u32], values: &StrColumn);
    /// Set an attribute of any type on `rows`, one value per row.
    fn set_attribute(&mut self, at: Level, key: &str, rows: &[u32], values: &[Value]);
    /// Remove an attribute from `rows`.
    fn remove_attribute(&mut self, at: Level, key: &str, rows: &[u32]);
    /// Rewrite a writable string field on `rows`, one present value per row.
    fn set_str_field(&mut self, field: StrField, rows: &[u32], values: &StrColumn);
    /// Drop spans.
    fn drop_spans(&mut self, rows: &[u32]);
}
