//! [`PluginInstance`]: one store, one instance, one call at a time, with limits; a trap discards
//! the instance and the next call gets a fresh one. The instance is a processor
//! ([`PluginInstance::process`], for the `span-processor` and `head-sampler` worlds) or a tail
//! sampler ([`PluginInstance::decide`]), as its component's world says.

use super::bindings::flat_sampler::{FlatTailSampler, FlatTailSamplerPre};
use super::bindings::head_sampler::{HeadSampler, HeadSamplerPre};
use super::bindings::sampler::{TailSampler, TailSamplerPre};
use super::bindings::{SpanProcessor, SpanProcessorPre, wit};
use super::engine::{EPOCH_TICK, Ticker};
use super::error::{CallError, LoadError, chain};
use super::state::{BatchHandle, PluginContext, PluginState};
use spanwise_abi::{HeadEdits, HeadView, TraceDecisions, TraceRows};
use spanwise_batch::{Batch, Edit, LentBatch};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::Resource;
use wasmtime::{Engine, Store, StoreLimitsBuilder, Trap};

/// Per-plugin limits, from the processor's `limits:` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long one call may run before it is interrupted.
    pub deadline: Duration,
    /// The most linear memory the instance may grow to, in bytes.
    pub memory: usize,
    /// The most bytes of edits one call may record.
    pub output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            deadline: Duration::from_millis(100),
            memory: 64 << 20,
            output: 16 << 20,
        }
    }
}

impl Limits {
    /// Epoch ticks for the deadline. The next tick may come at any moment, so one tick more than
    /// the deadline holds makes sure a call always gets its full deadline: it is interrupted
    /// between `deadline` and `deadline + EPOCH_TICK` after it started.
    fn deadline_ticks(&self) -> u64 {
        let tick = EPOCH_TICK.as_nanos().max(1);
        self.deadline.as_nanos().div_ceil(tick) as u64 + 1
    }
}

/// A linked component of one of the four worlds.
#[derive(Clone)]
pub(super) enum Pre {
    /// `span-processor`.
    Processor(SpanProcessorPre<PluginState>),
    /// `head-sampler` (0.1.7).
    HeadSampler(HeadSamplerPre<PluginState>),
    /// `flat-tail-sampler` (0.1.5).
    FlatSampler(FlatTailSamplerPre<PluginState>),
    /// `tail-sampler` (0.1.4).
    Sampler(TailSamplerPre<PluginState>),
}

enum Bindings {
    Processor(SpanProcessor),
    HeadSampler(HeadSampler),
    FlatSampler(FlatTailSampler),
    Sampler(TailSampler),
}

struct Live {
    store: Store<PluginState>,
    bindings: Bindings,
}

/// An instance of a plugin. Not shareable: the host keeps it behind a lock.
pub struct PluginInstance {
    engine: Engine,
    _ticker: Arc<Ticker>,
    pre: Pre,
    context: Arc<PluginContext>,
    limits: Limits,
    config_json: String,
    live: Option<Live>,
    instantiations: u64,
    /// Calls made on the current instance (since it was made, or remade after a trap).
    calls: u64,
    /// After a call that succeeded: the span rows it dropped, when dropping spans is all it did
    /// (`None` when it edited anything else). See [`PluginInstance::only_dropped`].
    only_dropped: Option<Vec<u32>>,
}

impl std::fmt::Debug for PluginInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginInstance")
            .field("name", &self.context.name)
            .field("limits", &self.limits)
            .field("instantiations", &self.instantiations)
            .finish()
    }
}

impl PluginInstance {
    pub(super) fn new(
        engine: Engine,
        ticker: Arc<Ticker>,
        pre: Pre,
        context: Arc<PluginContext>,
        limits: Limits,
        config_json: String,
    ) -> Result<Self, LoadError> {
        let mut instance = Self {
            engine,
            _ticker: ticker,
            pre,
            context,
            limits,
            config_json,
            live: None,
            instantiations: 0,
            calls: 0,
            only_dropped: None,
        };
        instance.live = Some(instance.instantiate()?);
        Ok(instance)
    }

    /// How many times an instance was made (1 + the number of traps recovered from).
    pub fn instantiations(&self) -> u64 {
        self.instantiations
    }

    /// Calls made on the current instance: 0 until its first call, and again after a trap
    /// replaced it. Its first call pays for warming up (see `spanwise demo`).
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// After the last call, if it succeeded and all it did was drop spans (or nothing): the
    /// rows it dropped, as numbered in the batch it was given. `None` after a failed call or
    /// one that edited anything else. Lets a caller that holds the batch in another form (the
    /// C ABI's caller, in Go) drop the same spans itself instead of re-reading the whole batch.
    pub fn only_dropped(&mut self) -> Option<Vec<u32>> {
        self.only_dropped.take()
    }

    /// The processor id.
    pub fn name(&self) -> &str {
        &self.context.name
    }

    fn instantiate(&mut self) -> Result<Live, LoadError> {
        self.instantiations += 1;
        self.calls = 0;
        let name = self.context.name.clone();
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory)
            .trap_on_grow_failure(true)
            .build();
        let mut store = Store::new(&self.engine, PluginState::new(self.context.clone(), limits));
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(self.limits.deadline_ticks());
        let bindings = match &self.pre {
            Pre::Processor(pre) => pre.instantiate(&mut store).map(Bindings::Processor),
            Pre::HeadSampler(pre) => pre.instantiate(&mut store).map(Bindings::HeadSampler),
            Pre::FlatSampler(pre) => pre.instantiate(&mut store).map(Bindings::FlatSampler),
            Pre::Sampler(pre) => pre.instantiate(&mut store).map(Bindings::Sampler),
        }
        .map_err(|e| LoadError::Instantiate {
            name: name.clone(),
            reason: chain(&e),
        })?;
        store.set_epoch_deadline(self.limits.deadline_ticks());
        let configured = match &bindings {
            Bindings::Processor(b) => b.call_configure(&mut store, &self.config_json),
            Bindings::HeadSampler(b) => b.call_configure(&mut store, &self.config_json),
            Bindings::FlatSampler(b) => b.call_configure(&mut store, &self.config_json),
            Bindings::Sampler(b) => b.call_configure(&mut store, &self.config_json),
        };
        match configured {
            Ok(Ok(())) => Ok(Live { store, bindings }),
            Ok(Err(wit::ConfigError { field, message })) => Err(LoadError::Config {
                name,
                field,
                message,
            }),
            Err(e) => Err(LoadError::Instantiate {
                name,
                reason: format!("configure trapped: {}", self.describe_trap(&e)),
            }),
        }
    }

    /// Run the plugin over `batch`. On `Ok` its edits are applied; on any error the batch is
    /// exactly as it was. After a trap the instance is discarded and a fresh one is made at once,
    /// so the next batch meets a clean instance.
    ///
    /// A head sampler (`head-sampler` world) is handed the [`HeadView`] of the batch with the
    /// call, and the [`HeadEdits`] it returns are recorded after the edits it made on the
    /// batch; a refused one (a row out of range, past the output limit) fails the call with
    /// the batch as it was.
    pub fn process(&mut self, batch: &mut Batch) -> Result<(), CallError> {
        self.call(batch, |bindings, store, handle| match bindings {
            Bindings::Processor(b) => b.call_process(store, handle),
            Bindings::HeadSampler(b) => {
                let view = HeadView::read(lent(store)?);
                match b.call_sample(&mut *store, handle, &view.into())? {
                    Ok(edits) => record(store, edits.into()).map(Ok),
                    Err(e) => Ok(Err(e)),
                }
            }
            Bindings::FlatSampler(_) | Bindings::Sampler(_) => Ok(Err(
                wit::ProcessError::Internal("a tail sampler cannot run as a processor".into()),
            )),
        })
    }

    /// Ask a tail sampler for one verdict per trace of `traces` (the rows of each trace in
    /// `batch`). On `Ok` its edits are applied and its answer has passed
    /// [`TraceDecisions::check`] (one verdict per trace, probabilities in range, policies
    /// named); on any error the batch is exactly as it was. Traps are handled as in
    /// [`PluginInstance::process`].
    pub fn decide(
        &mut self,
        batch: &mut Batch,
        traces: &TraceRows,
    ) -> Result<TraceDecisions, CallError> {
        self.call(batch, |bindings, store, handle| {
            let answer = match bindings {
                Bindings::FlatSampler(b) => b
                    .call_decide(store, handle, &traces.clone().into())?
                    .map(TraceDecisions::from),
                // A sampler of 0.1.4 takes a list per trace and answers a record per trace.
                Bindings::Sampler(b) => {
                    b.call_decide(store, handle, &traces.to_lists())?
                        .map(|decisions| {
                            decisions
                                .into_iter()
                                .map(spanwise_abi::TraceDecision::from)
                                .collect()
                        })
                }
                Bindings::Processor(_) | Bindings::HeadSampler(_) => Err(
                    wit::ProcessError::Internal("a processor cannot decide on traces".into()),
                ),
            };
            // An answer of the wrong shape fails the call before any edit is applied.
            Ok(answer.and_then(|decisions: TraceDecisions| {
                decisions
                    .check(traces.len())
                    .map(|()| decisions)
                    .map_err(wit::ProcessError::Internal)
            }))
        })
    }

    /// Lend `batch` to the instance for one call made by `invoke`, then apply the edits (on
    /// `Ok`) or restore the batch, and replace the instance after a trap.
    fn call<T>(
        &mut self,
        batch: &mut Batch,
        invoke: impl FnOnce(
            &Bindings,
            &mut Store<PluginState>,
            Resource<BatchHandle>,
        ) -> wasmtime::Result<Result<T, wit::ProcessError>>,
    ) -> Result<T, CallError> {
        if self.live.is_none() {
            match self.instantiate() {
                Ok(live) => self.live = Some(live),
                Err(e) => return Err(CallError::Unavailable(e.to_string())),
            }
        }
        self.calls += 1;
        self.only_dropped = None;
        let live = self.live.as_mut().expect("instantiated above");
        let state = live.store.data_mut();
        state.lent = Some(LentBatch::new(std::mem::take(batch), self.limits.output));
        let outcome = state.borrow_handle().and_then(|handle| {
            live.store.set_epoch_deadline(self.limits.deadline_ticks());
            invoke(&live.bindings, &mut live.store, handle)
        });
        let lent = live
            .store
            .data_mut()
            .lent
            .take()
            .expect("the lent batch outlives the call");
        let (original, journal) = lent.finish();
        *batch = original;
        match outcome {
            Ok(Ok(value)) => {
                // The host records edits through the journal and traps on the first refused
                // one, so a call that returned `ok` has a clean journal; and a clean journal
                // applies in full.
                let journal = journal
                    .map_err(|e| CallError::Failed(format!("edits could not be applied: {e}")))?;
                let only_dropped = journal
                    .edits()
                    .iter()
                    .try_fold(Vec::new(), |mut rows, edit| match edit {
                        Edit::DropSpans { rows: dropped } => {
                            rows.extend_from_slice(dropped);
                            Some(rows)
                        }
                        _ => None,
                    });
                let applied = batch
                    .apply(journal)
                    .map_err(|e| CallError::Failed(format!("edits could not be applied: {e}")))?;
                if applied.hashed > 0 {
                    self.context.counters.add("hashed", applied.hashed);
                }
                self.only_dropped = only_dropped;
                Ok(value)
            }
            Ok(Err(error)) => Err(CallError::Failed(match error {
                wit::ProcessError::InvalidData(m) => format!("invalid data: {m}"),
                wit::ProcessError::Internal(m) => format!("internal error: {m}"),
            })),
            Err(trap) => {
                let error = match trap.downcast_ref::<Trap>() {
                    Some(Trap::Interrupt) => CallError::Deadline {
                        deadline_ms: self.limits.deadline.as_millis() as u64,
                    },
                    _ => CallError::Trap(self.describe_trap(&trap)),
                };
                self.live = None;
                match self.instantiate() {
                    Ok(live) => self.live = Some(live),
                    Err(e) => tracing::error!(
                        processor = %self.context.name,
                        "cannot re-instantiate after a trap (will retry on the next batch): {e}"
                    ),
                }
                Err(error)
            }
        }
    }

    fn describe_trap(&self, error: &wasmtime::Error) -> String {
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => format!(
                "deadline of {} ms exceeded",
                self.limits.deadline.as_millis()
            ),
            _ => chain(error),
        }
    }
}

/// The batch lent for the current call.
fn lent(store: &Store<PluginState>) -> wasmtime::Result<&LentBatch> {
    store
        .data()
        .lent
        .as_ref()
        .ok_or_else(|| wasmtime::Error::msg("no batch is lent outside a call"))
}

/// Record a head sampler's returned `edits` on the lent batch, after its other edits (the
/// tracestate fill, then the drop). A refused one fails the call when the journal is read, as a
/// refused edit of a native call does; the batch stays as it was.
fn record(store: &mut Store<PluginState>, edits: HeadEdits) -> wasmtime::Result<()> {
    let lent = store
        .data_mut()
        .lent
        .as_mut()
        .ok_or_else(|| wasmtime::Error::msg("no batch is lent outside a call"))?;
    edits.record_on(lent);
    Ok(())
}
