//! [`TailSampler`]: the `tail_sampling` processor. Spans wait in a [`TraceBuffer`] until their
//! trace is due; then the sampler plugin decides on the due traces at once, and the kept spans
//! go on to the stages after this one from its own task, as a batcher's do.
//!
//! The samplers can be swapped while the task runs ([`TailSampler::swap`], on reload): the
//! buffer is untouched, and the new sampler decides every trace decided after the swap. A
//! shadow sampler, if configured, decides on a copy of the same due traces; its answers only
//! count how often it disagrees with the active one.

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
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// The sampler instances of a tail sampler: the one that decides, and an optional shadow.
pub struct Samplers {
    /// Decides what is kept.
    pub active: PluginInstance,
    /// Decides on the same traces; only its disagreements are counted.
    pub shadow: Option<PluginInstance>,
}

/// A swap sent to the running task, with the channel that says it is done.
type Swap = (Samplers, oneshot::Sender<()>);

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
    /// How often the shadow's disagreement rate is logged.
    pub shadow_report_interval: Duration,
}

/// The `tail_sampling` processor of one pipeline.
pub struct TailSampler {
    id: String,
    settings: TailSettings,
    /// The samplers until the task starts (then the task owns them).
    samplers: Mutex<Option<Samplers>>,
    swaps: mpsc::UnboundedSender<Swap>,
    swaps_in: Mutex<Option<mpsc::UnboundedReceiver<Swap>>>,
    inbox: Inbox,
    /// `spans_in`, `spans_held`, `traces_decided`, `traces_kept`, `traces_dropped`,
    /// `traces_decided_early`, `spans_dropped`, `late_spans_kept`, `late_spans_dropped`,
    /// `decision_failures`, `unreadable_tracestates`, `spans_lost`, `swaps`; with a shadow,
    /// `shadow_traces` (traces both decided), `shadow_disagreements` (of those, the ones the
    /// two decided differently, keep against drop) and `shadow_failures`.
    pub stats: Arc<Counters>,
    /// The sampler plugin's own counters.
    pub plugin_counters: Arc<Counters>,
}

impl TailSampler {
    /// A tail sampler that starts when its pipeline starts, deciding with `samplers`.
    pub fn new(
        id: &str,
        settings: TailSettings,
        samplers: Samplers,
        plugin_counters: Arc<Counters>,
    ) -> Self {
        let (swaps, swaps_in) = mpsc::unbounded_channel();
        Self {
            id: id.to_owned(),
            settings,
            samplers: Mutex::new(Some(samplers)),
            swaps,
            swaps_in: Mutex::new(Some(swaps_in)),
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
        let samplers = self
            .samplers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let swaps = self
            .swaps_in
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let (Some(receiver), Some(samplers), Some(swaps)) = (receiver, samplers, swaps) else {
            return;
        };
        let task = tokio::spawn(serve(
            receiver,
            swaps,
            Worker {
                id: self.id.clone(),
                settings: self.settings.clone(),
                instance: Some(Box::new(samplers.active)),
                shadow: samplers.shadow.map(Box::new),
                tally: Tally::default(),
                after,
                stats: self.stats.clone(),
            },
        ));
        self.inbox.set_task(task);
    }

    /// Decide with `samplers` from now on: traces decided after this returns are decided by
    /// them, whether they arrived before or after; the held traces stay held. Returns once the
    /// task has switched (at once if the pipeline has not started, or has stopped: then there
    /// is nothing left to decide).
    pub async fn swap(&self, samplers: Samplers) {
        {
            let mut waiting = self.samplers.lock().unwrap_or_else(|e| e.into_inner());
            if waiting.is_some() {
                *waiting = Some(samplers);
                self.stats.add("swaps", 1);
                return;
            }
        }
        let (done, switched) = oneshot::channel();
        if self.swaps.send((samplers, done)).is_ok() && switched.await.is_ok() {
            self.stats.add("swaps", 1);
        }
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
    shadow: Option<Box<PluginInstance>>,
    /// The shadow's record since the last report.
    tally: Tally,
    after: Arc<Chain>,
    stats: Arc<Counters>,
}

/// Traces the shadow and the active sampler both decided, and how many they disagreed on.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    traces: u64,
    disagreements: u64,
}

async fn serve(
    mut receiver: mpsc::Receiver<Batch>,
    mut swaps: mpsc::UnboundedReceiver<Swap>,
    mut worker: Worker,
) {
    let start = Instant::now();
    let mut buffer = TraceBuffer::new(worker.settings.limits.clone());
    let mut ticker = tokio::time::interval(worker.settings.tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reports = tokio::time::interval_at(
        start + worker.settings.shadow_report_interval,
        worker.settings.shadow_report_interval,
    );
    loop {
        tokio::select! {
            // A swap is taken before the spans and ticks that are ready with it.
            biased;
            Some((samplers, done)) = swaps.recv() => {
                worker.instance = Some(Box::new(samplers.active));
                worker.shadow = samplers.shadow.map(Box::new);
                worker.report();
                tracing::info!(processor = %worker.id, held = buffer.traces(), "sampler swapped in; held traces stay held");
                let _ = done.send(());
            }
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
                    worker.report();
                    return;
                }
            },
            _ = ticker.tick() => {
                let due = buffer.due(start.elapsed());
                worker.decide(&mut buffer, due).await;
            }
            _ = reports.tick() => worker.report(),
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
                let mut shadow = self.shadow.take();
                let joined = tokio::task::spawn_blocking(move || {
                    // The shadow decides on the batch as the active sampler found it.
                    let shadow_answer = shadow.as_mut().map(|shadow| {
                        let mut copy = batch.clone();
                        shadow.decide(&mut copy, &traces)
                    });
                    let mut batch = batch;
                    let answer = instance.decide(&mut batch, &traces);
                    (instance, shadow, batch, traces, answer, shadow_answer)
                })
                .await;
                match joined {
                    Ok((instance, shadow, batch, traces, answer, shadow_answer)) => {
                        self.instance = Some(instance);
                        self.shadow = shadow;
                        due.batch = batch;
                        due.traces = traces;
                        if let Some(shadow_answer) = shadow_answer {
                            self.compare(&answer, shadow_answer);
                        }
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
                for (id, decision) in due.trace_ids.iter().zip(decisions.iter()) {
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

    /// Count where the shadow's answer differs from the active sampler's.
    fn compare(
        &mut self,
        active: &Result<spanwise_abi::TraceDecisions, crate::runtime::CallError>,
        shadow: Result<spanwise_abi::TraceDecisions, crate::runtime::CallError>,
    ) {
        let shadow = match shadow {
            Ok(decisions) => decisions,
            Err(error) => {
                self.stats.add("shadow_failures", 1);
                tracing::debug!(processor = %self.id, "the shadow sampler failed: {error}");
                return;
            }
        };
        let Ok(active) = active else {
            return;
        };
        let disagreements = active
            .iter()
            .zip(shadow.iter())
            .filter(|(a, s)| a.keep != s.keep)
            .count() as u64;
        let traces = active.len() as u64;
        self.tally.traces += traces;
        self.tally.disagreements += disagreements;
        self.stats.add("shadow_traces", traces);
        self.stats.add("shadow_disagreements", disagreements);
    }

    /// Log the shadow's disagreement rate since the last report, if it decided anything.
    fn report(&mut self) {
        let tally = std::mem::take(&mut self.tally);
        if tally.traces == 0 {
            return;
        }
        tracing::info!(
            processor = %self.id,
            traces = tally.traces,
            disagreements = tally.disagreements,
            "the shadow sampler disagreed on {} of {} traces ({:.2}%) since the last report",
            tally.disagreements,
            tally.traces,
            100.0 * tally.disagreements as f64 / tally.traces as f64
        );
    }

    /// Late spans of kept traces: marked as their trace was, and sent on.
    async fn late(&mut self, mut late: Due, decisions: &spanwise_abi::TraceDecisions) {
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
