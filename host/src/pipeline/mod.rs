//! Pipelines: a batch runs through the processors in config order, then goes to every exporter.
//!
//! A processor is a [`WasmStage`] (a plugin, run on a blocking thread), a [`Batcher`] (the
//! built-in `batch` processor) or a [`TailSampler`] (the built-in `tail_sampling` processor,
//! which asks a sampler plugin). Stages before the first batcher or tail sampler run on the
//! request's own path, so the receiver can tell the client what was dropped; those two hand
//! their output to the stages after them from their own task.
//!
//! Ownership runs one way, down the pipeline: a [`Pipeline`] owns its stages and exporters; a
//! batcher's task owns only what comes after the batcher (a `Chain`), never the batcher or the
//! pipeline. So when the last handle of a pipeline is dropped, started or not, each batcher's
//! queue closes, its task flushes what it holds and ends, and the plugin instances and exporters
//! go with it: nothing that a pipeline started outlives it.

mod batcher;
mod build;
mod inbox;
pub mod memory;
pub mod tail;
pub mod traps;
mod wasm;

pub use batcher::Batcher;
pub use build::{
    BuildError, build_pipelines, build_pipelines_reusing, load_plugin, sampler_instance, wasm_stage,
};
pub use memory::MemoryLimiter;
pub use tail::TailSampler;
pub use wasm::WasmStage;

use crate::exporter::{ExportError, Exporter};
use spanwise_batch::Batch;
use std::sync::Arc;

/// One processor of a pipeline.
#[derive(Clone)]
pub enum Stage {
    /// A WebAssembly plugin.
    Wasm(Arc<WasmStage>),
    /// The built-in `batch` processor.
    Batch(Arc<Batcher>),
    /// The built-in `tail_sampling` processor.
    Tail(Arc<TailSampler>),
    /// The built-in `memory_limiter` processor (checked when a request arrives, see
    /// [`Pipeline::refusal`]; a pass-through in the chain).
    Memory(Arc<MemoryLimiter>),
}

/// How a receiver takes a request's protobuf bytes for a pipeline ([`Pipeline::intake`]);
/// ordered by how much of the work is done at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Intake {
    /// Kept as they came, checked by a scan (`Batch::from_encoded`).
    Wire,
    /// Kept, and where each span is noted by the scan (`Batch::from_encoded_indexed`).
    Indexed,
    /// Decoded at once.
    Decoded,
}

/// The counters of one stage: see [`WasmStage::stats`] and [`Batcher::stats`] for the names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageSummary {
    /// The processor id.
    pub id: String,
    /// Whether the stage is a WebAssembly plugin (otherwise the built-in `batch`).
    pub is_plugin: bool,
    /// The host's counters of the stage.
    pub stats: std::collections::BTreeMap<String, u64>,
    /// The plugin's own counters (empty for built-in processors).
    pub plugin_counters: std::collections::BTreeMap<String, u64>,
}

impl StageSummary {
    /// One line: every counter as `name=value`.
    pub fn line(&self) -> String {
        let mut parts: Vec<String> = self.stats.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.extend(
            self.plugin_counters
                .iter()
                .map(|(k, v)| format!("plugin.{k}={v}")),
        );
        format!("{}: {}", self.id, parts.join(" "))
    }
}

/// What happened to a batch on its way through the stages that run on the request path.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Spans that processors dropped, with the processor and the reason.
    pub dropped: Vec<Dropped>,
}

/// Spans one processor dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The processor id.
    pub processor: String,
    /// How many spans.
    pub spans: usize,
    /// Why: `"dropped by the plugin"` or the failure that made `on_error: drop` drop them.
    pub reason: String,
}

impl Report {
    /// All spans dropped.
    pub fn dropped_spans(&self) -> usize {
        self.dropped.iter().map(|d| d.spans).sum()
    }

    /// One line naming each processor that dropped spans, for OTLP partial success.
    pub fn message(&self) -> String {
        self.dropped
            .iter()
            .map(|d| format!("{} spans dropped by {}: {}", d.spans, d.processor, d.reason))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Why a batch could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// Exporting on the request path failed; the client should retry.
    #[error("{0}")]
    Export(#[from] ExportError),
    /// The pipeline is shutting down.
    #[error("pipeline {0} is shutting down")]
    ShuttingDown(String),
    /// A `memory_limiter` refuses data for now; the client should retry.
    #[error("{0}")]
    Refused(String),
}

/// Stages in order and the exporters after them: a whole pipeline, or the part of it after a
/// batcher, which that batcher's task owns.
pub(crate) struct Chain {
    pub(crate) id: String,
    pub(crate) stages: Vec<Stage>,
    pub(crate) exporters: Vec<Arc<dyn Exporter>>,
}

impl Chain {
    /// The part of this chain after stage `index`.
    fn after(&self, index: usize) -> Chain {
        Chain {
            id: self.id.clone(),
            stages: self.stages[index + 1..].to_vec(),
            exporters: self.exporters.clone(),
        }
    }
}

/// A running pipeline.
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Chain>,
}

/// The pipelines running now, which a reload replaces whole, and the reloads' counters
/// (`reloads`, `reloads_failed`). Cheap to clone; every clone sees the same pipelines.
#[derive(Clone, Default)]
pub struct Live {
    current: Arc<std::sync::RwLock<Arc<Vec<Pipeline>>>>,
    /// How the reloads went.
    pub reloads: Arc<crate::telemetry::Counters>,
    /// Each running receiver's counters, by receiver id.
    pub receivers: Vec<(String, Arc<crate::telemetry::Counters>)>,
}

impl Live {
    /// Pipelines running from now on.
    pub fn new(pipelines: Vec<Pipeline>) -> Self {
        Self {
            current: Arc::new(std::sync::RwLock::new(Arc::new(pipelines))),
            reloads: Default::default(),
            receivers: Vec::new(),
        }
    }

    /// The pipelines running now.
    pub fn get(&self) -> Arc<Vec<Pipeline>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Put `pipelines` in place of the running ones; returns those.
    pub fn replace(&self, pipelines: Vec<Pipeline>) -> Arc<Vec<Pipeline>> {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *current, Arc::new(pipelines))
    }
}

impl Pipeline {
    /// Start the batchers of `chain` (each on the part of the chain after it). Must run inside
    /// a Tokio runtime.
    pub(crate) fn new(chain: Chain) -> Self {
        for (index, stage) in chain.stages.iter().enumerate() {
            match stage {
                Stage::Batch(batcher) => batcher.start(Arc::new(chain.after(index))),
                Stage::Tail(tail) => tail.start(Arc::new(chain.after(index))),
                Stage::Wasm(_) | Stage::Memory(_) => {}
            }
        }
        Self {
            inner: Arc::new(chain),
        }
    }

    /// The pipeline id (`traces`, `traces/NAME`).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[Stage] {
        &self.inner.stages
    }

    /// How a receiver should take a request for this pipeline. `tail_sampling` holds spans
    /// encoded and decodes its due traces itself, so the stages from it on do not count: they
    /// get those traces, not what the receiver took.
    /// - No plugin before it: [`Intake::Wire`], the bytes kept as they came.
    /// - The first stage that reads the spans is a plugin that has so far read and edited
    ///   every batch in indexed wire form ([`WasmStage::reads_wire`]): [`Intake::Indexed`].
    /// - Otherwise (a plugin that needed them decoded, or a `batch` before the first plugin,
    ///   whose appends drop the index): [`Intake::Decoded`], since they will be decoded
    ///   whatever the receiver does, and a scan first would only add to the decoding.
    pub fn intake(&self) -> Intake {
        let mut reading = self
            .inner
            .stages
            .iter()
            .take_while(|stage| !matches!(stage, Stage::Tail(_)))
            .filter(|stage| !matches!(stage, Stage::Memory(_)));
        match reading.next() {
            None => Intake::Wire,
            Some(Stage::Wasm(stage)) if stage.reads_wire() => Intake::Indexed,
            Some(Stage::Wasm(_)) => Intake::Decoded,
            Some(_) if reading.any(|stage| matches!(stage, Stage::Wasm(_))) => Intake::Decoded,
            Some(_) => Intake::Wire,
        }
    }

    /// The exporters, in config order.
    pub fn exporters(&self) -> &[Arc<dyn Exporter>] {
        &self.inner.exporters
    }

    /// What each exporter that keeps counters (one with a sending queue or retries) has done
    /// so far: `batches_sent`, `spans_sent`, `retries`, `spans_lost`, ...
    pub fn exporter_summaries(&self) -> Vec<StageSummary> {
        self.inner
            .exporters
            .iter()
            .filter_map(|exporter| {
                Some(StageSummary {
                    id: exporter.id().to_owned(),
                    is_plugin: false,
                    stats: exporter.stats()?.snapshot(),
                    plugin_counters: Default::default(),
                })
            })
            .collect()
    }

    /// What each stage has done so far, in order.
    pub fn summaries(&self) -> Vec<StageSummary> {
        self.inner
            .stages
            .iter()
            .map(|stage| match stage {
                Stage::Wasm(wasm) => StageSummary {
                    id: wasm.id().to_owned(),
                    is_plugin: true,
                    stats: wasm.stats.snapshot(),
                    plugin_counters: wasm.plugin_counters.snapshot(),
                },
                Stage::Batch(batcher) => StageSummary {
                    id: batcher.id().to_owned(),
                    is_plugin: false,
                    stats: batcher.stats.snapshot(),
                    plugin_counters: Default::default(),
                },
                Stage::Tail(tail) => StageSummary {
                    id: tail.id().to_owned(),
                    is_plugin: false,
                    stats: tail.stats.snapshot(),
                    plugin_counters: tail.plugin_counters.snapshot(),
                },
                Stage::Memory(limiter) => StageSummary {
                    id: limiter.id().to_owned(),
                    is_plugin: false,
                    stats: limiter.stats.snapshot(),
                    plugin_counters: Default::default(),
                },
            })
            .collect()
    }

    /// Why a request of `spans` spans is refused now, if a `memory_limiter` of this pipeline
    /// refuses it.
    pub fn refusal(&self, spans: usize) -> Option<String> {
        self.inner.stages.iter().find_map(|stage| match stage {
            Stage::Memory(limiter) => limiter.refusal(spans),
            _ => None,
        })
    }

    /// Run `batch` through the pipeline, unless a `memory_limiter` refuses it.
    pub async fn consume(&self, batch: Batch) -> Result<Report, ConsumeError> {
        if let Some(reason) = self.refusal(batch.len()) {
            return Err(ConsumeError::Refused(reason));
        }
        self.consume_unchecked(batch).await
    }

    /// Run `batch` through the pipeline; the caller has asked [`Pipeline::refusal`].
    pub(crate) async fn consume_unchecked(&self, batch: Batch) -> Result<Report, ConsumeError> {
        run(&self.inner, batch).await
    }

    /// How many handles of this pipeline exist: 1 once only its owner holds it (no request
    /// is running through it).
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    /// [`Pipeline::shutdown`], but leaving the exporters in `keep` running (a reload hands
    /// them to the new pipelines).
    pub async fn shutdown_except(&self, keep: &[Arc<dyn Exporter>]) {
        for stage in &self.inner.stages {
            match stage {
                Stage::Batch(batcher) => batcher.shutdown().await,
                Stage::Tail(tail) => tail.shutdown().await,
                Stage::Wasm(_) | Stage::Memory(_) => {}
            }
        }
        for exporter in &self.inner.exporters {
            if !keep.iter().any(|k| Arc::ptr_eq(k, exporter)) {
                exporter.shutdown().await;
            }
        }
    }

    /// Flush every batcher and tail sampler in order, then shut the exporters down. Spans they
    /// hold are sent on (a tail sampler decides every trace it holds) before this returns.
    pub async fn shutdown(&self) {
        for stage in &self.inner.stages {
            match stage {
                Stage::Batch(batcher) => batcher.shutdown().await,
                Stage::Tail(tail) => tail.shutdown().await,
                Stage::Wasm(_) | Stage::Memory(_) => {}
            }
        }
        for exporter in &self.inner.exporters {
            exporter.shutdown().await;
        }
    }
}

/// Run `batch` through the stages of `chain`, then export it.
pub(crate) async fn run(chain: &Chain, mut batch: Batch) -> Result<Report, ConsumeError> {
    let mut report = Report::default();
    for stage in &chain.stages {
        if batch.is_empty() {
            return Ok(report);
        }
        match stage {
            Stage::Wasm(wasm) => {
                let outcome = wasm.run_blocking(batch).await;
                if let Some(dropped) = outcome.dropped {
                    report.dropped.push(dropped);
                }
                batch = outcome.batch;
            }
            Stage::Batch(batcher) => {
                batcher
                    .send(batch)
                    .await
                    .map_err(|_| ConsumeError::ShuttingDown(chain.id.clone()))?;
                return Ok(report);
            }
            Stage::Tail(tail) => {
                tail.send(batch)
                    .await
                    .map_err(|_| ConsumeError::ShuttingDown(chain.id.clone()))?;
                return Ok(report);
            }
            Stage::Memory(_) => {}
        }
    }
    if batch.is_empty() {
        return Ok(report);
    }
    export(chain, batch).await?;
    Ok(report)
}

async fn export(chain: &Chain, batch: Batch) -> Result<(), ExportError> {
    // Shared by every exporter as it is: one in wire form is sent as the bytes it came as.
    let request = std::sync::Arc::new(batch);
    let results = futures_util::future::join_all(
        chain
            .exporters
            .iter()
            .map(|e| e.export_shared(request.clone())),
    )
    .await;
    let failures: Vec<String> = results
        .into_iter()
        .filter_map(Result::err)
        .map(|e| e.to_string())
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(ExportError::Failed(failures.join("; ")))
    }
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("id", &self.id()).finish()
    }
}

#[cfg(test)]
mod tests;
