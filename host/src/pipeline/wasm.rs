//! [`WasmStage`]: a plugin processor with its `on_error` policy and its counters.

use super::Dropped;
use crate::config::OnError;
use crate::runtime::{CallError, PluginInstance};
use crate::telemetry::Counters;
use spanwise_batch::Batch;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The result of running one batch through a plugin.
pub struct StageOutcome {
    /// What goes on to the next stage (empty when everything was dropped).
    pub batch: Batch,
    /// Spans dropped here, if any.
    pub dropped: Option<Dropped>,
}

/// A WebAssembly processor in a pipeline. Calls are serialized: one instance, one call at a time.
/// Batches waiting for the instance wait asynchronously (on `turn`), not on a blocking thread.
pub struct WasmStage {
    id: String,
    instance: Mutex<PluginInstance>,
    turn: tokio::sync::Semaphore,
    on_error: OnError,
    /// Host-side counters: `batches`, `spans_in`, `spans_out`, `spans_dropped`, `errors`,
    /// `traps`, `deadline_exceeded`, `spans_dropped_on_error`, `spans_passed_on_error`,
    /// `call_nanos`.
    pub stats: Arc<Counters>,
    /// The plugin's own counters, from the `count` import.
    pub plugin_counters: Arc<Counters>,
}

impl WasmStage {
    /// A stage around a configured instance.
    pub fn new(
        id: &str,
        instance: PluginInstance,
        on_error: OnError,
        plugin_counters: Arc<Counters>,
    ) -> Self {
        Self {
            id: id.to_owned(),
            instance: Mutex::new(instance),
            turn: tokio::sync::Semaphore::new(1),
            on_error,
            stats: Arc::default(),
            plugin_counters,
        }
    }

    /// The processor id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// [`WasmStage::run`] on a blocking thread, once it is this batch's turn.
    pub async fn run_blocking(self: &Arc<Self>, batch: Batch) -> StageOutcome {
        let _turn = self
            .turn
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let stage = self.clone();
        tokio::task::spawn_blocking(move || stage.run(batch))
            .await
            .expect("plugin failures are errors, not panics of the host thread")
    }

    /// Run the plugin over `batch`, applying `on_error` when it fails.
    pub fn run(&self, mut batch: Batch) -> StageOutcome {
        let spans_in = batch.len();
        self.stats.add("batches", 1);
        self.stats.add("spans_in", spans_in as u64);
        let started = Instant::now();
        let result = {
            let mut instance = self.instance.lock().unwrap_or_else(|e| e.into_inner());
            instance.process(&mut batch)
        };
        self.stats
            .add("call_nanos", started.elapsed().as_nanos() as u64);
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
                }
            }
            Err(error) => self.failed(batch, error),
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
                }
            }
            OnError::Pass => {
                tracing::warn!(processor = %self.id, spans, "plugin failed, batch passed on unedited (on_error: pass): {error}");
                self.stats.add("spans_passed_on_error", spans as u64);
                self.stats.add("spans_out", spans as u64);
                StageOutcome {
                    batch,
                    dropped: None,
                }
            }
        }
    }
}
