//! [`WasmStage`]: a plugin processor served by a pool of instances, with its `on_error` policy
//! and its counters.

use super::Dropped;
use super::traps::{AfterTrap, Traps};
use crate::config::OnError;
use crate::config::TrapsConfig;
use crate::runtime::{CallError, PluginInstance};
use crate::telemetry::Counters;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use spanwise_batch::Batch;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

/// The result of running one batch through a plugin.
pub struct StageOutcome {
    /// What goes on to the next stage (empty when everything was dropped).
    pub batch: Batch,
    /// Spans dropped here, if any.
    pub dropped: Option<Dropped>,
    /// Why the plugin failed on this batch, when it did (`on_error` then decided what `batch`
    /// is).
    pub failure: Option<String>,
    /// When `batch` is the batch given minus some spans and nothing else changed: the rows
    /// (as numbered in the batch given) that are gone. `None` when anything else was edited.
    pub only_dropped: Option<Vec<u32>>,
}

/// A WebAssembly processor in a pipeline, served by a pool of configured instances of the same
/// plugin: as many batches run at once as the pool has instances, each on its own instance (its
/// own store, memory cap and deadline; a trap replaces only that instance). Batches waiting for
/// an instance wait asynchronously (on `turn`), not on a blocking thread.
pub struct WasmStage {
    id: String,
    idle: Mutex<Vec<PluginInstance>>,
    returned: Condvar,
    size: usize,
    turn: Arc<tokio::sync::Semaphore>,
    on_error: OnError,
    /// Host-side counters: `batches`, `spans_in`, `spans_out`, `spans_dropped`, `errors`,
    /// `traps`, `deadline_exceeded`, `spans_dropped_on_error`, `spans_passed_on_error`,
    /// `call_nanos` (every call), and `first_calls` and `first_call_nanos` (the first call of
    /// each instance, which pays for warming it up).
    pub stats: Arc<Counters>,
    /// The plugin's own counters, from the `count` import (shared by the pool's instances).
    pub plugin_counters: Arc<Counters>,
    /// How long each call took, in seconds (10 µs to 160 ms buckets, by fours).
    pub latency: Histogram,
    traps: Traps,
    /// Whether every batch handed over in indexed wire form so far left the call still in it:
    /// the plugin read and edited it there, so the receiver may keep requests in that form for
    /// it ([`super::Pipeline::intake`]).
    reads_wire: AtomicBool,
}

/// An instance taken from the pool for one call; it goes back when this is dropped, even if
/// the call panicked.
struct Borrowed<'a> {
    stage: &'a WasmStage,
    instance: Option<PluginInstance>,
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        if let Some(instance) = self.instance.take() {
            lock(&self.stage.idle).push(instance);
            self.stage.returned.notify_one();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl WasmStage {
    /// A stage around a pool of configured instances of one plugin (at least one).
    pub fn new(
        id: &str,
        instances: Vec<PluginInstance>,
        on_error: OnError,
        plugin_counters: Arc<Counters>,
    ) -> Self {
        assert!(!instances.is_empty(), "a stage needs at least one instance");
        let size = instances.len();
        Self {
            id: id.to_owned(),
            idle: Mutex::new(instances),
            returned: Condvar::new(),
            size,
            turn: Arc::new(tokio::sync::Semaphore::new(size)),
            on_error,
            stats: Arc::default(),
            plugin_counters,
            latency: Histogram::new(exponential_buckets(1e-5, 4.0, 8)),
            traps: Traps::new(TrapsConfig::default()),
            reads_wire: AtomicBool::new(true),
        }
    }

    /// Whether the plugin has read and edited every batch it got in indexed wire form without
    /// decoding it (true until one needed decoding).
    pub fn reads_wire(&self) -> bool {
        self.reads_wire.load(Ordering::Relaxed)
    }

    /// The same stage, treating a plugin that keeps trapping as `policy` says.
    pub fn with_traps(mut self, policy: TrapsConfig) -> Self {
        self.traps = Traps::new(policy);
        self
    }

    /// The processor id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What happens to a batch the plugin fails on.
    pub fn on_error(&self) -> OnError {
        self.on_error
    }

    /// How many instances serve this processor: the most batches it runs at once.
    pub fn pool_size(&self) -> usize {
        self.size
    }

    /// How many instances are running a batch now.
    pub fn busy(&self) -> usize {
        self.size - lock(&self.idle).len()
    }

    /// [`WasmStage::run`] on a blocking thread, once an instance is free for this batch.
    pub async fn run_blocking(self: &Arc<Self>, batch: Batch) -> StageOutcome {
        let turn = self
            .turn
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let stage = self.clone();
        tokio::task::spawn_blocking(move || {
            let outcome = stage.run(batch);
            drop(turn);
            outcome
        })
        .await
        .expect("plugin failures are errors, not panics of the host thread")
    }

    /// Run the plugin over `batch` on an idle instance (waiting for one if all are busy),
    /// applying `on_error` when it fails.
    pub fn run(&self, mut batch: Batch) -> StageOutcome {
        let spans_in = batch.len();
        self.stats.add("batches", 1);
        self.stats.add("spans_in", spans_in as u64);
        if let Some(reason) = self.traps.refuse(Instant::now()) {
            self.stats.add("batches_skipped_after_traps", 1);
            return self.failed(batch, CallError::Unavailable(reason));
        }
        let mut borrowed = self.take();
        let instance = borrowed.instance.as_mut().expect("taken from the pool");
        let first = instance.calls() == 0;
        let indexed = batch.is_indexed();
        let started = Instant::now();
        let result = instance.process(&mut batch);
        let only_dropped = instance.only_dropped();
        if indexed && !batch.is_wire_only() {
            self.reads_wire.store(false, Ordering::Relaxed);
        }
        let took = started.elapsed();
        let nanos = took.as_nanos() as u64;
        drop(borrowed);
        self.stats.add("call_nanos", nanos);
        self.latency.observe(took.as_secs_f64());
        if first {
            self.stats.add("first_calls", 1);
            self.stats.add("first_call_nanos", nanos);
        }
        match &result {
            Err(CallError::Trap(_) | CallError::Deadline { .. }) => {
                match self.traps.trapped(Instant::now()) {
                    AfterTrap::Retry => {}
                    AfterTrap::BackOff(wait) => {
                        tracing::warn!(processor = %self.id, ?wait, "the plugin trapped again; leaving it alone for a while (on_error applies)");
                    }
                    AfterTrap::Disabled => {
                        self.stats.add("disabled", 1);
                        tracing::error!(processor = %self.id, "the plugin trapped too many times in a row and is disabled until restart; on_error applies to every batch");
                    }
                }
            }
            _ => self.traps.succeeded(),
        }
        match result {
            Ok(()) => {
                let spans_out = batch.len();
                self.stats.add("spans_out", spans_out as u64);
                let dropped = spans_in.saturating_sub(spans_out);
                self.stats.add("spans_dropped", dropped as u64);
                StageOutcome {
                    batch,
                    dropped: (dropped > 0).then(|| Dropped {
                        processor: self.id.clone(),
                        spans: dropped,
                        reason: "dropped by the plugin".into(),
                    }),
                    failure: None,
                    only_dropped,
                }
            }
            Err(error) => self.failed(batch, error),
        }
    }

    /// An idle instance. Callers through [`WasmStage::run_blocking`] hold a permit, so one is
    /// always there for them; direct callers of [`WasmStage::run`] may wait here.
    fn take(&self) -> Borrowed<'_> {
        let mut idle = lock(&self.idle);
        loop {
            if let Some(instance) = idle.pop() {
                return Borrowed {
                    stage: self,
                    instance: Some(instance),
                };
            }
            idle = self.returned.wait(idle).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn failed(&self, batch: Batch, error: CallError) -> StageOutcome {
        self.stats.add("errors", 1);
        match &error {
            CallError::Deadline { .. } => self.stats.add("deadline_exceeded", 1),
            CallError::Trap(_) => self.stats.add("traps", 1),
            CallError::Failed(_) | CallError::Unavailable(_) => {}
        }
        let spans = batch.len();
        match self.on_error {
            OnError::Drop => {
                tracing::error!(processor = %self.id, spans, "plugin failed, batch dropped (on_error: drop): {error}");
                self.stats.add("spans_dropped_on_error", spans as u64);
                StageOutcome {
                    batch: Batch::default(),
                    dropped: Some(Dropped {
                        processor: self.id.clone(),
                        spans,
                        reason: format!("plugin failed and on_error is drop: {error}"),
                    }),
                    failure: Some(error.to_string()),
                    only_dropped: Some((0..spans as u32).collect()),
                }
            }
            OnError::Pass => {
                tracing::warn!(processor = %self.id, spans, "plugin failed, batch passed on unedited (on_error: pass): {error}");
                self.stats.add("spans_passed_on_error", spans as u64);
                self.stats.add("spans_out", spans as u64);
                StageOutcome {
                    batch,
                    dropped: None,
                    failure: Some(error.to_string()),
                    only_dropped: Some(Vec::new()),
                }
            }
        }
    }
}
