//! Reloading tail samplers: the new `sampler:` and `shadow:` of every running `tail_sampling`
//! processor are loaded and configured first, all of them, and only if every one succeeds are
//! they swapped in. A bad reload changes nothing and says why; the held traces stay held either
//! way.

use super::TailSampler;
use super::stage::Samplers;
use crate::config::{Config, ConfigError, ProcessorConfig};
use crate::pipeline::build::load_samplers;
use crate::pipeline::{Pipeline, Stage};
use crate::runtime::Runtime;
use std::sync::Arc;

/// Swap in the samplers `config` gives the tail sampling processors of `pipelines`, loading
/// them with `runtime`. Returns the ids (`pipeline/processor`) swapped. Must run inside a Tokio
/// runtime; loading runs on a blocking thread.
pub async fn reload_samplers(
    pipelines: &[Pipeline],
    config: &Config,
    runtime: Arc<Runtime>,
) -> Result<Vec<String>, ConfigError> {
    let running: Vec<(String, Arc<TailSampler>)> = pipelines
        .iter()
        .flat_map(|pipeline| {
            pipeline
                .stages()
                .iter()
                .filter_map(move |stage| match stage {
                    Stage::Tail(tail) => Some((pipeline.id().to_owned(), tail.clone())),
                    _ => None,
                })
        })
        .collect();
    let config = config.clone();
    let wanted: Vec<(String, Arc<TailSampler>)> = running.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let mut loaded = Vec::new();
        for (pipeline, tail) in wanted {
            let id = tail.id().to_owned();
            let Some(ProcessorConfig::TailSampling(new)) = config.processors.get(&id) else {
                return Err(config.error(
                    format!("processors.{id}"),
                    "is running as a tail_sampling processor; a reload cannot remove it or \
                     change its kind (restart for that)"
                        .to_owned(),
                ));
            };
            let samplers =
                load_samplers(&config, &runtime, &id, new, tail.plugin_counters.clone())?;
            loaded.push((pipeline, tail, samplers));
        }
        Ok::<Vec<(String, Arc<TailSampler>, Samplers)>, ConfigError>(loaded)
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
    let mut swapped = Vec::new();
    for (pipeline, tail, samplers) in loaded {
        tail.swap(samplers).await;
        swapped.push(format!("{pipeline}/{}", tail.id()));
    }
    Ok(swapped)
}
