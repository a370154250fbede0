//! Running a processor natively over a host [`Batch`], with the same journaled edits as the
//! WebAssembly build. Used by plugin unit tests and by the native side of the benches.
//!
//! The host functions ([`crate::log`], [`crate::count`], [`crate::keyed_hash`]) are served by a
//! per-thread [`HostContext`] that tests can set up and inspect.

use crate::{LogLevel, ProcessError, Processor, SpanBatch};
use spanwise_batch::types::{Level, StrColumn, StrField, Value};
use spanwise_batch::{Batch, EditError, Journal};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

/// The native stand-in for the host: counters, log lines and keyed-hash keys of this thread.
#[derive(Debug, Default, Clone)]
pub struct HostContext {
    /// Counters added with [`crate::count`].
    pub counters: BTreeMap<String, u64>,
    /// Log lines written with [`crate::log`].
    pub logs: Vec<(LogLevel, String)>,
    /// Keys for [`crate::keyed_hash`], by name.
    pub keys: HashMap<String, Vec<u8>>,
}

thread_local! {
    static CONTEXT: RefCell<HostContext> = RefCell::new(HostContext::default());
}

/// Run `f` with this thread's host context.
pub fn with_context<R>(f: impl FnOnce(&mut HostContext) -> R) -> R {
    CONTEXT.with(|c| f(&mut c.borrow_mut()))
}

/// Take this thread's counters, leaving them empty.
pub fn take_counters() -> BTreeMap<String, u64> {
    with_context(|c| std::mem::take(&mut c.counters))
}

pub(crate) fn log(level: LogLevel, message: &str) {
    with_context(|c| c.logs.push((level, message.to_owned())));
}

pub(crate) fn count(name: &str, delta: u64) {
    with_context(|c| *c.counters.entry(name.to_owned()).or_default() += delta);
}

pub(crate) fn keyed_hash(key: &str, values: &StrColumn) -> Result<Vec<u8>, String> {
    with_context(|c| match c.keys.get(key) {
        Some(secret) => Ok(spanwise_batch::hash::hmac_sha256_column(secret, values)),
        None => Err(format!("no key named {key:?} is configured")),
    })
}

/// Run `processor` over `batch`: the edits it records are applied if it returns `Ok` and every
/// edit was valid; otherwise the batch is left as it was and the error is returned.
pub fn process<P: Processor>(processor: &mut P, batch: &mut Batch) -> Result<(), ProcessError> {
    let mut view = NativeBatch::new(batch);
    processor.process(&mut view)?;
    let journal = view.finish()?;
    batch
        .apply(journal)
        .map_err(|e| ProcessError::Internal(e.to_string()))
}

/// A [`SpanBatch`] over a host [`Batch`]: reads go to the batch, edits to a [`Journal`].
pub struct NativeBatch<'a> {
    batch: &'a Batch,
    journal: Journal,
    error: Option<EditError>,
}

impl<'a> NativeBatch<'a> {
    /// A view of `batch` with an empty journal and no cap on edits.
    pub fn new(batch: &'a Batch) -> Self {
        Self {
            batch,
            journal: Journal::new(batch, usize::MAX),
            error: None,
        }
    }

    /// The journal, or the first invalid edit (which on WebAssembly would have trapped).
    pub fn finish(self) -> Result<Journal, ProcessError> {
        match self.error {
            Some(e) => Err(ProcessError::Internal(format!("invalid edit: {e}"))),
            None => Ok(self.journal),
        }
    }

    fn record(&mut self, result: Result<(), EditError>) {
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
    }
}

impl SpanBatch for NativeBatch<'_> {
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
    fn attribute_keys(&self, at: Level) -> Vec<String> {
        self.batch.attribute_keys(at)
    }
    fn str_attribute(&self, at: Level, key: &str) -> StrColumn {
        self.batch.str_attribute(at, key)
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
    fn drop_spans(&mut self, rows: &[u32]) {
        let r = self.journal.drop_spans(rows.to_vec());
        self.record(r);
    }
}
