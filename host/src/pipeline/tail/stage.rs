//! [`TailSampler`]: the `tail_sampling` processor. Spans wait in a [`TraceBuffer`] until their
//! trace is due; then the sampler plugin decides on the due traces at once, and the kept spans
//! go on to the stages after this one from its own task, as a batcher's do.

use super::buffer::{BufferLimits, Due, TraceBuffer};
use super::decisions::{self, Outcome};
use crate::config::OnError;
use crate::pipeline::inbox::Inbox;
use crate::pipeline::{Chain, run};
use crate::runtime::PluginInstance;
use crate::telemetry::Counters;
use spanwise_batch::Batch;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How the processor behaves, from its config.
#[derive(Debug, Clone)]
pub struct TailSettings {
    /// The buffer's limits.
    pub limits: BufferLimits,
    /// Write the deciding policy as `sampling.policy` on kept spans.
    pub record_policy: bool,
    /// What a failed decision does: `drop` the due traces or `pass` them on undecided.
    pub on_error: OnError,
    /// How often due traces are looked for.
    pub tick: Duration,
}

/// The `tail_sampling` processor of one pipeline.
pub struct TailSampler {
    id: String,
    settings: TailSettings,
    instance: Mutex<Option<Box<PluginInstance>>>,
    inbox: Inbox,
    /// `spans_in`, `spans_held`, `traces_decided`, `traces_kept`, `traces_dropped`,
    /// `traces_decided_early`, `spans_dropped`, `late_spans_kept`, `late_spans_dropped`,
    /// `decision_failures`, `unreadable_tracestates`, `spans_lost`.
    pub stats: Arc<Counters>,
    /// The sampler plugin's own counters.
    pub plugin_counters: Arc<Counters>,
}

impl TailSampler {
    /// A tail sampler that starts when its pipeline starts, deciding with `instance`.
    pub fn new(
        id: &str,
        settings: TailSettings,
        instance: PluginInstance,
        plugin_counters: Arc<Counters>,
    ) -> Self {
        Self {
            id: id.to_owned(),
            settings,
            instance: Mutex::new(Some(Box::new(instance))),
            inbox: Inbox::new(),
            stats: Arc::default(),
            plugin_counters,
        }
    }

    /// The processor id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Start the task that holds spans and sends decided traces on to `after`. It ends once
    /// every handle is gone or on [`TailSampler::shutdown`], after deciding every held trace.
    pub(crate) fn start(&self, after: Arc<Chain>) {
        let receiver = self.inbox.take_receiver();
        let instance = self
            .instance
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let (Some(receiver), Some(instance)) = (receiver, instance) else {
            return;
        };
        let task = tokio::spawn(serve(
            receiver,
            Worker {
                id: self.id.clone(),
                settings: self.settings.clone(),
                instance: Some(instance),
                after,
                stats: self.stats.clone(),
            },
        ));
        self.inbox.set_task(task);
    }

    pub(crate) async fn send(&self, batch: Batch) -> Result<(), Batch> {
        self.inbox.send(batch).await
    }

    /// Stop taking spans, decide every held trace, send the kept ones on, and wait until they
    /// are sent.
    pub async fn shutdown(&self) {
        self.inbox.close().await;
    }
}

/// What the task owns.
struct Worker {
    id: String,
    settings: TailSettings,
    /// Out only while a decision runs on a blocking thread.
    instance: Option<Box<PluginInstance>>,
    after: Arc<Chain>,
    stats: Arc<Counters>,
}

async fn serve(mut receiver: mpsc::Receiver<Batch>, mut worker: Worker) {
    let start = Instant::now();
    let mut buffer = TraceBuffer::new(worker.settings.limits.clone());
    let mut ticker = tokio::time::interval(worker.settings.tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            received = receiver.recv() => match received {
                Some(batch) => {
                    worker.stats.add("spans_in", batch.len() as u64);
                    let added = buffer.add(batch, start.elapsed());
                    worker.stats.add("spans_held", added.held as u64);
                    worker.stats.add("late_spans_dropped", added.late_dropped as u64);
                    if !added.late_kept.is_empty() {
                        worker.late(added.late_kept, &added.late_decisions).await;
                    }
                    // A limit may make traces due before the next tick.
                    let due = buffer.due(start.elapsed());
                    worker.decide(&mut buffer, due).await;
                }
                None => {
                    let due = buffer.drain();
                    worker.decide(&mut buffer, due).await;
                    return;
                }
            },
            _ = ticker.tick() => {
                let due = buffer.due(start.elapsed());
                worker.decide(&mut buffer, due).await;
            }
        }
    }
}

impl Worker {
    async fn decide(&mut self, buffer: &mut TraceBuffer, mut due: Due) {
        if due.is_empty() {
            return;
        }
        self.stats.add("traces_decided", due.traces.len() as u64);
        self.stats.add("traces_decided_early", due.early as u64);
        let answer = match self.instance.take() {
            Some(mut instance) => {
                let traces = std::mem::take(&mut due.traces);
                let batch = std::mem::take(&mut due.batch);
                let spans = batch.len() as u64;
                let joined = tokio::task::spawn_blocking(move || {
                    let mut batch = batch;
                    let answer = instance.decide(&mut batch, &traces);
                    (instance, batch, traces, answer)
                })
                .await;
                match joined {
                    Ok((instance, batch, traces, answer)) => {
                        self.instance = Some(instance);
                        due.batch = batch;
                        due.traces = traces;
                        answer
                    }
                    // The sampler's thread panicked (wasmtime reports traps as errors, so this
                    // is a host bug): the spans went with it. Later traces get `on_error`.
                    Err(e) => {
                        self.stats.add("spans_lost", spans);
                        tracing::error!(processor = %self.id, spans, "the sampler's thread failed, its traces are lost: {e}");
                        return;
                    }
                }
            }
            None => Err(crate::runtime::CallError::Unavailable(
                "the sampler instance was lost".into(),
            )),
        };
        let record_policy = self.settings.record_policy;
        let outcome = match answer.map_err(|e| e.to_string()).and_then(|decisions| {
            decisions::apply(&mut due, &decisions, record_policy).map(|o| (o, decisions))
        }) {
            Ok((outcome, decisions)) => {
                for (id, decision) in due.trace_ids.iter().zip(&decisions) {
                    buffer.remember(*id, decision);
                }
                outcome
            }
            Err(error) => {
                self.stats.add("decision_failures", 1);
                let outcome = match self.settings.on_error {
                    OnError::Pass => decisions::keep_all(&due),
                    OnError::Drop => decisions::drop_all(&mut due),
                };
                tracing::warn!(
                    processor = %self.id,
                    traces = due.trace_ids.len(),
                    "the sampler failed ({error}); on_error: {:?} applies to the due traces",
                    self.settings.on_error
                );
                outcome
            }
        };
        self.count(outcome);
        if !due.batch.is_empty() {
            send_on(&self.after, &self.stats, &self.id, due.batch).await;
        }
    }

    /// Late spans of kept traces: marked as their trace was, and sent on.
    async fn late(&mut self, mut late: Due, decisions: &[spanwise_abi::TraceDecision]) {
        self.stats.add("late_spans_kept", late.batch.len() as u64);
        if let Err(error) = decisions::apply(&mut late, decisions, self.settings.record_policy) {
            tracing::warn!(processor = %self.id, "late spans sent on unmarked: {error}");
        }
        send_on(&self.after, &self.stats, &self.id, late.batch).await;
    }

    fn count(&self, outcome: Outcome) {
        self.stats.add("traces_kept", outcome.traces_kept);
        self.stats.add("traces_dropped", outcome.traces_dropped);
        self.stats.add("spans_dropped", outcome.spans_dropped);
        self.stats
            .add("unreadable_tracestates", outcome.unreadable_tracestates);
    }
}

/// Run `batch` through the stages after the tail sampler.
async fn send_on(after: &Chain, stats: &Counters, id: &str, batch: Batch) {
    let spans = batch.len() as u64;
    if let Err(e) = Box::pin(run(after, batch)).await {
        stats.add("spans_lost", spans);
        tracing::error!(processor = %id, spans, "spans after the tail sampler were lost: {e}");
    }
}
