//! Running a processor natively over a host [`Batch`], with the same journaled edits as the
//! WebAssembly build (the host itself lends batches as [`LentBatch`]). Used by plugin unit tests
//! and by the native side of the benches.
//!
//! The host functions ([`crate::log`], [`crate::count`], [`crate::keyed_hash`]) are served by a
//! per-thread [`HostContext`] that tests can set up and inspect.

use crate::{LogLevel, ProcessError, Processor, Sampler, TraceDecisions, TraceRows};
use spanwise_abi::{BytesColumn, HeadView, StrColumn, Viewed};
use spanwise_batch::{Batch, LentBatch};
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

pub(crate) fn keyed_hash_bytes(key: &str, values: &BytesColumn) -> Result<Vec<u8>, String> {
    with_context(|c| match c.keys.get(key) {
        Some(secret) => Ok(spanwise_batch::hash::hmac_sha256_bytes(secret, values)),
        None => Err(format!("no key named {key:?} is configured")),
    })
}

pub(crate) fn sha256(values: &BytesColumn) -> Vec<u8> {
    spanwise_batch::hash::sha256_bytes(values)
}

/// Run `processor` over `batch` as the host does: the processor sees a [`LentBatch`] (the batch
/// as it was, edits to a journal); if it returns `Ok` and every edit was valid, the edits are
/// applied, all of them; otherwise the batch is left exactly as it was and the error returned.
pub fn process<P: Processor>(processor: &mut P, batch: &mut Batch) -> Result<(), ProcessError> {
    lend(batch, |lent| processor.process(lent))
}

/// Run `processor` over `batch` as the host runs a component of the `head-sampler` world (what
/// [`crate::export_head_sampler!`] builds): the [`HeadView`] read first, the processor on a
/// [`Viewed`] batch, the [`HeadEdits`](crate::HeadEdits) it kept back recorded after its other
/// edits; then as [`process`].
pub fn sample<P: Processor>(processor: &mut P, batch: &mut Batch) -> Result<(), ProcessError> {
    lend(batch, |lent| {
        let view = HeadView::read(lent);
        let mut viewed = Viewed::new(lent, view);
        processor.process(&mut viewed)?;
        viewed.into_edits().record_on(lent);
        Ok(())
    })
}

/// Lend `batch` to `run` as a [`LentBatch`], and apply its edits when it returns `Ok`.
fn lend(
    batch: &mut Batch,
    run: impl FnOnce(&mut LentBatch) -> Result<(), ProcessError>,
) -> Result<(), ProcessError> {
    let keys = with_context(|c| c.keys.clone());
    let mut lent = LentBatch::new(std::mem::take(batch), usize::MAX).with_keys(keys);
    let result = run(&mut lent);
    let (original, journal) = lent.finish();
    *batch = original;
    result?;
    let journal = journal.map_err(|e| ProcessError::Internal(format!("invalid edit: {e}")))?;
    let applied = batch
        .apply(journal)
        .map_err(|e| ProcessError::Internal(e.to_string()))?;
    if applied.hashed > 0 {
        count("hashed", applied.hashed);
    }
    Ok(())
}

/// Run `sampler` over `batch` as the host does: the sampler sees a [`LentBatch`]; if it returns
/// `Ok` with one verdict per trace (checked as the host checks them) and every edit was valid,
/// the edits are applied and the verdicts returned; otherwise the batch is left exactly as it
/// was and the error returned.
pub fn decide<S: Sampler>(
    sampler: &mut S,
    batch: &mut Batch,
    traces: &TraceRows,
) -> Result<TraceDecisions, ProcessError> {
    let keys = with_context(|c| c.keys.clone());
    let mut lent = LentBatch::new(std::mem::take(batch), usize::MAX).with_keys(keys);
    let result = sampler.decide(&mut lent, traces);
    let (original, journal) = lent.finish();
    *batch = original;
    let decisions = result?;
    decisions
        .check(traces.len())
        .map_err(ProcessError::Internal)?;
    let journal = journal.map_err(|e| ProcessError::Internal(format!("invalid edit: {e}")))?;
    batch
        .apply(journal)
        .map_err(|e| ProcessError::Internal(e.to_string()))?;
    Ok(decisions)
}
