//! Turning a checked [`Config`] into running pipelines: load plugins (once per processor id),
//! configure a pool of instances per processor and pipeline, create exporters (shared between
//! pipelines).

use super::tail::buffer::BufferLimits;
use super::tail::stage::Samplers;
use super::tail::{TailSampler, TailSettings};
use super::{Batcher, Chain, MemoryLimiter, Pipeline, Stage, WasmStage};
use crate::config::{
    Config, ConfigError, ProcessorConfig, TailSamplingConfig, WasmProcessorConfig,
};
use crate::exporter::{self, Exporter};
use crate::runtime::{LoadError, Plugin, PluginContext, PluginInstance, PluginLog, Runtime};
use crate::telemetry::Counters;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Why the pipelines could not be built; always names the file and the key.
pub type BuildError = ConfigError;

/// Build every pipeline of `config`. Must run inside a Tokio runtime (batchers start tasks).
pub fn build_pipelines(config: &Config, runtime: &Runtime) -> Result<Vec<Pipeline>, BuildError> {
    build_pipelines_reusing(config, runtime, &BTreeMap::new())
}

/// [`build_pipelines`], taking the exporters in `reuse` (by id) as they are instead of
/// building them: a reload keeps the exporters whose config did not change, with their queues.
pub fn build_pipelines_reusing(
    config: &Config,
    runtime: &Runtime,
    reuse: &BTreeMap<String, Arc<dyn Exporter>>,
) -> Result<Vec<Pipeline>, BuildError> {
    let err = |key: String, reason: String| config.error(key, reason);

    let mut exporters: BTreeMap<&str, Arc<dyn Exporter>> = BTreeMap::new();
    for (id, exporter_config) in &config.exporters {
        let exporter = match reuse.get(id) {
            Some(exporter) => exporter.clone(),
            None => exporter::build(id, exporter_config)
                .map_err(|reason| err(format!("exporters.{id}"), reason))?,
        };
        exporters.insert(id, exporter);
    }

    let mut plugins: HashMap<&str, Plugin> = HashMap::new();
    let mut pipelines = Vec::new();
    for (pipeline_id, pipeline) in &config.service.pipelines {
        let mut stages = Vec::new();
        for id in &pipeline.processors {
            let key = format!("processors.{id}");
            let stage = match &config.processors[id] {
                ProcessorConfig::Batch(batch) => {
                    Stage::Batch(Arc::new(Batcher::new(id, batch.clone())))
                }
                ProcessorConfig::MemoryLimiter(limiter) => {
                    let (soft, hard) = limiter
                        .limits(super::memory::available_memory())
                        .map_err(|(field, reason)| err(format!("{key}.{field}"), reason))?;
                    Stage::Memory(Arc::new(MemoryLimiter::new(
                        id,
                        soft,
                        hard,
                        limiter.check_interval,
                    )))
                }
                ProcessorConfig::Wasm(wasm) => {
                    let plugin = match plugins.get(id.as_str()) {
                        Some(plugin) => plugin.clone(),
                        None => {
                            let plugin = load_plugin(runtime, &key, wasm)
                                .map_err(|(key, reason)| config.error(key, reason))?;
                            plugins.insert(id, plugin.clone());
                            plugin
                        }
                    };
                    let stage = wasm_stage(id, &key, wasm, &plugin)
                        .map_err(|(key, reason)| config.error(key, reason))?;
                    tracing::info!(processor = %id, pipeline = %pipeline_id, sha256 = %plugin.sha256(), pool_size = stage.pool_size(), "plugin loaded");
                    Stage::Wasm(Arc::new(stage))
                }
                ProcessorConfig::TailSampling(tail) => {
                    let counters = Arc::new(Counters::default());
                    let samplers = load_samplers(config, runtime, id, tail, counters.clone())?;
                    tracing::info!(processor = %id, pipeline = %pipeline_id, shadow = samplers.shadow.is_some(), "tail sampler loaded");
                    let settings = TailSettings {
                        limits: BufferLimits {
                            decision_wait: tail.decision_wait,
                            num_traces: tail.num_traces,
                            max_bytes: tail.max_buffer_mib.saturating_mul(1 << 20),
                            sampled_cache_size: tail.decision_cache.sampled_cache_size,
                            non_sampled_cache_size: tail.decision_cache.non_sampled_cache_size,
                        },
                        record_policy: tail.record_policy,
                        on_error: tail.sampler.on_error,
                        tick: tail.decision_wait.min(std::time::Duration::from_secs(1)),
                        shadow_report_interval: tail.shadow_report_interval,
                    };
                    Stage::Tail(Arc::new(TailSampler::new(id, settings, samplers, counters)))
                }
            };
            stages.push(stage);
        }
        let exporters = pipeline
            .exporters
            .iter()
            .map(|id| exporters[id.as_str()].clone())
            .collect();
        pipelines.push(Pipeline::new(Chain {
            id: pipeline_id.clone(),
            stages,
            exporters,
        }));
    }
    Ok(pipelines)
}

/// The key a [`LoadError`] of the processor at `key` is about, and the reason.
fn load_error_key(key: &str, error: LoadError) -> (String, String) {
    let key = match &error {
        LoadError::PinMismatch { .. } => format!("{key}.sha256"),
        LoadError::Config { field, .. } if field.is_empty() => format!("{key}.config"),
        LoadError::Config { field, .. } => format!("{key}.config.{field}"),
        LoadError::Read { .. } | LoadError::NotAComponent { .. } | LoadError::Compile { .. } => {
            format!("{key}.plugin")
        }
        LoadError::Instantiate { .. } | LoadError::Engine(_) => key.to_owned(),
        LoadError::CacheDir(_) => "runtime.cache_dir".to_owned(),
    };
    let reason = match error {
        LoadError::Config { message, .. } => format!("the plugin rejected its config: {message}"),
        other => other.to_string(),
    };
    (key, reason)
}

/// Load (or take from the compile cache) the plugin of the WebAssembly processor whose block is
/// `wasm`, at `key` (such as `processors.wasm/url`). An error is the key it is about and why.
pub fn load_plugin(
    runtime: &Runtime,
    key: &str,
    wasm: &WasmProcessorConfig,
) -> Result<Plugin, (String, String)> {
    if wasm.limits.memory > runtime.settings().max_memory {
        return Err((
            format!("{key}.limits.memory"),
            format!(
                "{} bytes is more than runtime.max_memory ({} bytes)",
                wasm.limits.memory,
                runtime.settings().max_memory
            ),
        ));
    }
    let plugin = runtime
        .load(&wasm.plugin, wasm.sha256.as_deref())
        .map_err(|e| load_error_key(key, e))?;
    if plugin.is_sampler() {
        return Err((
            format!("{key}.plugin"),
            format!(
                "{} is a tail sampler (the tail-sampler world), not a processor",
                wasm.plugin.display()
            ),
        ));
    }
    Ok(plugin)
}

/// The stage of WebAssembly processor `id` (block `wasm` at `key`): a pool of instances of
/// `plugin`, each configured with the block's `config`, keys and limits. Also what the C ABI
/// (`host/ffi`) builds for a processor inside the OpenTelemetry Collector.
pub fn wasm_stage(
    id: &str,
    key: &str,
    wasm: &WasmProcessorConfig,
    plugin: &Plugin,
) -> Result<WasmStage, (String, String)> {
    let counters = Arc::new(Counters::default());
    let context = Arc::new(PluginContext {
        name: id.to_owned(),
        counters: counters.clone(),
        keys: wasm
            .keys
            .iter()
            .map(|(name, key)| (name.clone(), key.as_bytes().to_vec()))
            .collect(),
        log: PluginLog::new(id),
    });
    let config_json = wasm
        .config_json()
        .map_err(|reason| (format!("{key}.config"), reason))?;
    let instances = (0..wasm.instances())
        .map(|_| {
            plugin
                .instantiate(context.clone(), wasm.limits.to_limits(), &config_json)
                .map_err(|e| load_error_key(key, e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(WasmStage::new(id, instances, wasm.on_error, counters)
        .with_traps(wasm.traps.unwrap_or_default()))
}

/// Load, check and configure the samplers of tail sampling processor `id`: the active one
/// (reporting its counters to `counters`) and the shadow, if any. Used at start and on reload.
pub fn load_samplers(
    config: &Config,
    runtime: &Runtime,
    id: &str,
    tail: &TailSamplingConfig,
    counters: Arc<Counters>,
) -> Result<Samplers, BuildError> {
    let key = format!("processors.{id}");
    let load = |which: &str, sampler: &WasmProcessorConfig, counters: Arc<Counters>| {
        let key = format!("{key}.{which}");
        let config_json = tail
            .sampler_config_json(sampler)
            .map_err(|reason| config.error(format!("{key}.config"), reason))?;
        let instance = sampler_instance(runtime, id, &key, sampler, &config_json, counters)
            .map_err(|(key, reason)| config.error(key, reason))?;
        tracing::debug!(processor = %id, sampler = which, "sampler configured");
        Ok(instance)
    };
    let active = load("sampler", &tail.sampler, counters)?;
    let shadow = match &tail.shadow {
        Some(shadow) => Some(load("shadow", shadow, Arc::new(Counters::default()))?),
        None => None,
    };
    Ok(Samplers { active, shadow })
}

/// A configured instance of the tail sampler whose block is `sampler`, at `key`, for processor
/// `id`, given `config_json` and reporting its own counters to `counters`. Also what the C ABI
/// builds for a sampler. An error is the key it is about and why.
pub fn sampler_instance(
    runtime: &Runtime,
    id: &str,
    key: &str,
    sampler: &WasmProcessorConfig,
    config_json: &str,
    counters: Arc<Counters>,
) -> Result<PluginInstance, (String, String)> {
    let plugin = runtime
        .load(&sampler.plugin, sampler.sha256.as_deref())
        .map_err(|e| load_error_key(key, e))?;
    if !plugin.is_sampler() {
        return Err((
            format!("{key}.plugin"),
            format!(
                "{} is a processor, not a tail sampler (the tail-sampler world)",
                sampler.plugin.display()
            ),
        ));
    }
    let context = Arc::new(PluginContext {
        name: id.to_owned(),
        counters,
        keys: sampler
            .keys
            .iter()
            .map(|(name, key)| (name.clone(), key.as_bytes().to_vec()))
            .collect(),
        log: PluginLog::new(id),
    });
    plugin
        .instantiate(context, sampler.limits.to_limits(), config_json)
        .map_err(|e| load_error_key(key, e))
}
