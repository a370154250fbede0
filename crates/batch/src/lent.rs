//! [`LentBatch`]: a batch lent to a processor for one call.

use crate::{Batch, EditError, Journal, Secret};
use spanwise_abi::{
    BoolColumn, DoubleColumn, HashFunction, IntColumn, Level, SpanBatch, StrColumn, StrField, Value,
};
use std::collections::HashMap;

/// A batch lent to a processor for one call: reads see the batch as it was when the call began,
/// edits go to a [`Journal`] that checks each one in full as it is recorded.
///
/// This is the [`SpanBatch`] of native builds (plugin unit tests and benches), and what the host
/// keeps in a plugin's store while the plugin runs. A refused edit is kept as the call's error
/// ([`LentBatch::finish`]); the host, which must trap at once instead, records edits through
/// [`LentBatch::journal_mut`].
#[derive(Debug)]
pub struct LentBatch {
    batch: Batch,
    journal: Journal,
    error: Option<EditError>,
    keys: HashMap<String, Vec<u8>>,
}

impl LentBatch {
    /// Lend `batch`, refusing edits beyond `cap` bytes in all.
    pub fn new(batch: Batch, cap: usize) -> Self {
        let journal = Journal::new(&batch, cap);
        Self {
            batch,
            journal,
            error: None,
            keys: HashMap::new(),
        }
    }

    /// The keys, by name, that `hash_attributes` with HMAC-SHA256 may name.
    pub fn with_keys(mut self, keys: HashMap<String, Vec<u8>>) -> Self {
        self.keys = keys;
        self
    }

    /// The batch as it was when it was lent.
    pub fn batch(&self) -> &Batch {
        &self.batch
    }

    /// The journal, to record edits whose errors the caller handles itself.
    pub fn journal_mut(&mut self) -> &mut Journal {
        &mut self.journal
    }

    /// Give the batch back, untouched, with the journal, or with the first edit that was refused.
    pub fn finish(self) -> (Batch, Result<Journal, EditError>) {
        match self.error {
            Some(error) => (self.batch, Err(error)),
            None => (self.batch, Ok(self.journal)),
        }
    }

    fn record(&mut self, result: Result<(), EditError>) {
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
    }
}

impl SpanBatch for LentBatch {
    fn len(&self) -> usize {
        self.batch.len()
    }
    fn trace_ids(&self) -> Vec<u8> {
        self.batch.trace_ids()
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
        self.batch.str_field_count(field)
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
        self.batch.attribute_count(at, key)
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
        let r = self
            .journal
            .set_str_attribute(at, key, rows.to_vec(), values.clone());
        self.record(r);
    }
    fn set_attribute(&mut self, at: Level, key: &str, rows: &[u32], values: &[Value]) {
        let r = self
            .journal
            .set_attribute(at, key, rows.to_vec(), values.to_vec());
        self.record(r);
    }
    fn remove_attribute(&mut self, at: Level, key: &str, rows: &[u32]) {
        let r = self.journal.remove_attribute(at, key, rows.to_vec());
        self.record(r);
    }
    fn set_str_field(&mut self, field: StrField, rows: &[u32], values: &StrColumn) {
        let r = self
            .journal
            .set_str_field(field, rows.to_vec(), values.clone());
        self.record(r);
    }
    fn fill_str_field(&mut self, field: StrField, rows: &[u32], value: &str) {
        let r = self.journal.fill_str_field(field, rows.to_vec(), value);
        self.record(r);
    }
    fn drop_spans(&mut self, rows: &[u32]) {
        let r = self.journal.drop_spans(rows.to_vec());
        self.record(r);
    }
    fn drop_events(&mut self, rows: &[u32]) {
        let r = self.journal.drop_events(rows.to_vec());
        self.record(r);
    }
    fn hash_attributes(&mut self, at: Level, keys: &[&str], rows: &[u32], function: &HashFunction) {
        let secret = match function {
            HashFunction::Sha256 => Ok(None),
            HashFunction::HmacSha256(name) => match self.keys.get(name) {
                Some(secret) => Ok(Some(Secret(secret.clone()))),
                None => Err(EditError::UnknownKey(name.clone())),
            },
        };
        let r = secret.and_then(|secret| {
            self.journal
                .hash_attributes(at, keys, rows.to_vec(), secret)
        });
        self.record(r);
    }
}
