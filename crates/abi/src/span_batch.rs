//! [`SpanBatch`]: what a processor sees of a batch, and the helpers built on it.

use crate::types::{
    BoolColumn, DoubleColumn, HashFunction, IntColumn, Level, StrColumn, StrField, Value,
};

/// A batch of spans lent by the host for one call. Mirrors the WIT `span-batch` resource (see
/// `wit/` for the row model of each level): the required methods are the contract, one per WIT
/// function; the provided ones are helpers that write the usual glue on top of them.
///
/// Reads return the batch as it was when the call began. Edits are recorded and applied, all of
/// them, only if the call returns `Ok`. An edit that names a row out of range or a read-only
/// field, a column whose length does not match its rows, a malformed column or a `Complex` value
/// that does not decode fails the call (on WebAssembly it traps) and nothing is applied.
///
/// Implemented by the SDK over the host's resource (WebAssembly) and by `spanwise-batch`'s
/// `LentBatch` over a host `Batch` (native builds, and the host itself).
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
    /// The number of rows of the field's level whose value is a non-empty string: 0 says the
    /// column would read as empty, without reading it (WIT 0.1.6). The host answers it without
    /// building the column; this default reads the column.
    fn str_field_count(&self, field: StrField) -> usize {
        self.str_field(field).non_empty()
    }
    /// For each span row, the number of its resource (rows that share a resource share it).
    fn resource_ids(&self) -> Vec<u32>;
    /// For each span row, the number of its scope, unique across the batch.
    fn scope_ids(&self) -> Vec<u32>;
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
    /// The number of rows at a level (spans for resource, scope and span; events; links).
    fn row_count(&self, at: Level) -> usize;
    /// The distinct attribute keys at a level.
    fn attribute_keys(&self, at: Level) -> Vec<String>;
    /// For each key, the rows of the level that have it (any type), ascending.
    fn attribute_rows(&self, at: Level, keys: &[&str]) -> Vec<Vec<u32>>;
    /// The number of rows of a level that have the attribute `key`, any type: the length of
    /// [`SpanBatch::attribute_rows`] for it, without the list (WIT 0.1.6).
    fn attribute_count(&self, at: Level, key: &str) -> usize {
        self.attribute_rows(at, &[key])
            .pop()
            .map_or(0, |rows| rows.len())
    }
    /// One attribute as strings over the rows of a level (absent where missing or not a string).
    fn str_attribute(&self, at: Level, key: &str) -> StrColumn;
    /// Several attributes as string columns, one per key in order, in one pass.
    fn str_attributes(&self, at: Level, keys: &[&str]) -> Vec<StrColumn>;
    /// One attribute as integers (absent where missing or not an integer).
    fn int_attribute(&self, at: Level, key: &str) -> IntColumn;
    /// One attribute as floats (absent where missing or not a double).
    fn double_attribute(&self, at: Level, key: &str) -> DoubleColumn;
    /// One attribute as booleans (absent where missing or not a boolean).
    fn bool_attribute(&self, at: Level, key: &str) -> BoolColumn;
    /// One attribute of any type over the rows of a level: the general, slower path.
    fn attribute(&self, at: Level, key: &str) -> Vec<Option<Value>>;
    /// Set a string attribute on `rows`, one present value per row.
    fn set_str_attribute(&mut self, at: Level, key: &str, rows: &[u32], values: &StrColumn);
    /// Set an attribute of any type on `rows`, one value per row.
    fn set_attribute(&mut self, at: Level, key: &str, rows: &[u32], values: &[Value]);
    /// Remove an attribute from `rows`.
    fn remove_attribute(&mut self, at: Level, key: &str, rows: &[u32]);
    /// Rewrite a writable string field on `rows`, one present value per row.
    fn set_str_field(&mut self, field: StrField, rows: &[u32], values: &StrColumn);
    /// Set a writable string field to `value` on every row of `rows`: [`SpanBatch::set_str_field`]
    /// with one value repeated, without the column (WIT 0.1.6). This default builds the column.
    fn fill_str_field(&mut self, field: StrField, rows: &[u32], value: &str) {
        let values: StrColumn = rows.iter().map(|_| value).collect();
        self.set_str_field(field, rows, &values);
    }
    /// Drop spans.
    fn drop_spans(&mut self, rows: &[u32]);
    /// Drop span events (event rows); their spans stay. (WIT 0.1.3.)
    fn drop_events(&mut self, rows: &[u32]);
    /// On each of `rows`, replace every attribute whose key is in `keys` by the lowercase hex
    /// digest of its value, as the collector's `hash` action does (strings as UTF-8, integers
    /// and doubles as 8 bytes little-endian, booleans as one byte; other types become `""`).
    /// Applied in order with the other edits, to the values the attributes have then; at the
    /// resource and scope levels each resource (scope) once. The digests run in the host, which
    /// adds how many values it hashed to the processor's counter `hashed`.
    fn hash_attributes(&mut self, at: Level, keys: &[&str], rows: &[u32], function: &HashFunction);

    /// Every span row, `0..len()`.
    fn all_rows(&self) -> Vec<u32> {
        (0..self.len() as u32).collect()
    }

    /// The rows of a level that have attribute `key`, whatever its type.
    fn rows_with_attribute(&self, at: Level, key: &str) -> Vec<u32> {
        self.attribute_rows(at, &[key]).pop().unwrap_or_default()
    }

    /// Rewrite the string attribute `key`: `f` gets each row that holds a string value and the
    /// value, and answers `Some(new)` to change it. Only rows whose value really changes are
    /// written, in one edit. Returns how many changed.
    fn map_str_attribute(
        &mut self,
        at: Level,
        key: &str,
        mut f: impl FnMut(u32, &str) -> Option<String>,
    ) -> usize {
        self.edit_str_attribute(at, key, |row, value| match f(row, value) {
            Some(new) => StrEdit::Set(new),
            None => StrEdit::Keep,
        })
        .set
    }

    /// Rewrite or remove the string attribute `key`: `f` gets each row that holds a string
    /// value and the value, and answers with a [`StrEdit`]. At most two edits are recorded (one
    /// set, one remove), and only for rows that change.
    fn edit_str_attribute(
        &mut self,
        at: Level,
        key: &str,
        mut f: impl FnMut(u32, &str) -> StrEdit,
    ) -> Edited {
        // Checked as UTF-8 once for the column (at once when it is ASCII), not row by row.
        let column = self.str_attribute(at, key).into_rows();
        let (mut set_rows, mut removed) = (Vec::new(), Vec::new());
        let mut values = StrColumn::new();
        for (row, value) in column.iter_present() {
            match f(row as u32, value) {
                StrEdit::Keep => {}
                StrEdit::Set(new) if new == value => {}
                StrEdit::Set(new) => {
                    set_rows.push(row as u32);
                    values.push(Some(&new));
                }
                StrEdit::Remove => removed.push(row as u32),
            }
        }
        if !set_rows.is_empty() {
            self.set_str_attribute(at, key, &set_rows, &values);
        }
        if !removed.is_empty() {
            self.remove_attribute(at, key, &removed);
        }
        Edited {
            set: set_rows.len(),
            removed: removed.len(),
        }
    }

    /// Rewrite a writable string field as [`SpanBatch::map_str_attribute`] does an attribute.
    fn map_str_field(
        &mut self,
        field: StrField,
        mut f: impl FnMut(u32, &str) -> Option<String>,
    ) -> usize {
        let column = self.str_field(field).into_rows();
        let mut rows = Vec::new();
        let mut values = StrColumn::new();
        for (row, value) in column.iter_present() {
            if let Some(new) = f(row as u32, value).filter(|new| new != value) {
                rows.push(row as u32);
                values.push(Some(&new));
            }
        }
        if !rows.is_empty() {
            self.set_str_field(field, &rows, &values);
        }
        rows.len()
    }

    /// Remove attribute `key` from every row of the level that has it, whatever its type.
    /// Returns how many rows had it.
    fn remove_attribute_everywhere(&mut self, at: Level, key: &str) -> usize {
        let rows = self.rows_with_attribute(at, key);
        if !rows.is_empty() {
            self.remove_attribute(at, key, &rows);
        }
        rows.len()
    }
}

/// What [`SpanBatch::edit_str_attribute`] does with one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrEdit {
    /// Leave it as it is.
    Keep,
    /// Replace it (a value equal to the old one is not written).
    Set(String),
    /// Remove the attribute from the row.
    Remove,
}

/// How many rows an edit helper changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Edited {
    /// Rows given a new value.
    pub set: usize,
    /// Rows whose attribute was removed.
    pub removed: usize,
}
