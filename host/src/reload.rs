//! Reloading the config while spanwise runs (SIGHUP, or a change of the config file or of a
//! plugin file it names).
//!
//! The new config is checked and everything it describes is built beside the running
//! pipelines; only if all of it builds is it swapped in, else nothing changes and the error
//! says why. What a reload may change:
//!
//! - **Only tail samplers** (`sampler:`, `shadow:`, `sample_on_first_match` of `tail_sampling`
//!   processors, or their `.wasm` files): the samplers are swapped inside the running
//!   processors, so held traces stay held and are decided by the new sampler.
//! - **Processors, exporters, pipelines** (anything else under `processors`, `exporters` and
//!   `service.pipelines`, or a `wasm/` processor's `.wasm` file): new pipelines are built, each
//!   receiver is pointed at them between two requests, and the old pipelines are drained once
//!   the requests running through them end: their batchers and tail samplers flush to the old
//!   exporters. Exporters whose config did not change are not rebuilt: the new pipelines use
//!   them as they are, with their queues. A request runs through old or new pipelines, never
//!   both, so no span is lost or processed twice.
//! - **Receivers, extensions, `service.telemetry`, `service.shutdown_timeout`, `runtime`**, and
//!   exporters with `sending_queue.storage` (added, removed or changed): a restart; a reload
//!   that changes them is refused.

use crate::config::{Config, ConfigError, ExporterConfig, ProcessorConfig};
use crate::exporter::Exporter;
use crate::pipeline::{Live, Pipeline, build_pipelines_reusing};
use crate::receiver::Consumer;
use crate::runtime::Runtime;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How long a reload waits for the requests running through the old pipelines to end before
/// it drains them anyway.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(30);

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reloaded {
    /// Only tail samplers changed; these (`pipeline/processor`) were swapped.
    Samplers(Vec<String>),
    /// Neither the config nor a plugin file changed: nothing was done.
    Nothing,
    /// The pipelines were rebuilt; these exporters were kept as they were.
    Pipelines {
        /// Exporter ids kept running, with their queues.
        kept_exporters: Vec<String>,
    },
}

/// A file's identity for noticing that it changed: its length, modification time and (on
/// Unix) inode, so that a file replaced by a rename is noticed even within one clock tick.
pub type Fingerprint = Option<(u64, SystemTime, u64)>;

/// The fingerprint of `path` now (`None` if it cannot be read).
pub fn fingerprint(path: &std::path::Path) -> Fingerprint {
    let metadata = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
    #[cfg(not(unix))]
    let inode = 0;
    Some((metadata.len(), metadata.modified().ok()?, inode))
}

/// Every plugin file `config` names: `wasm/` processors' and tail samplers'.
pub fn plugin_files(config: &Config) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for processor in config.processors.values() {
        match processor {
            ProcessorConfig::Wasm(wasm) => files.push(wasm.plugin.clone()),
            ProcessorConfig::TailSampling(tail) => {
                files.push(tail.sampler.plugin.clone());
                files.extend(tail.shadow.as_ref().map(|s| s.plugin.clone()));
            }
            ProcessorConfig::Batch(_) | ProcessorConfig::MemoryLimiter(_) => {}
        }
    }
    files.sort();
    files.dedup();
    files
}

/// The fingerprints of the `wasm/` processors' plugin files.
fn processor_plugins(config: &Config) -> BTreeMap<PathBuf, Fingerprint> {
    config
        .processors
        .values()
        .filter_map(|p| match p {
            ProcessorConfig::Wasm(wasm) => Some((wasm.plugin.clone(), fingerprint(&wasm.plugin))),
            _ => None,
        })
        .collect()
}

/// The fingerprints of every plugin file (processors' and tail samplers').
fn all_plugins(config: &Config) -> BTreeMap<PathBuf, Fingerprint> {
    plugin_files(config)
        .into_iter()
        .map(|path| {
            let now = fingerprint(&path);
            (path, now)
        })
        .collect()
}

/// The running config and what its plugin files were when they were loaded.
pub struct State {
    config: Config,
    /// The `wasm/` processors' files: a change rebuilds the pipelines.
    plugins: BTreeMap<PathBuf, Fingerprint>,
    /// Every plugin file: no change here and in the config means nothing to do.
    files: BTreeMap<PathBuf, Fingerprint>,
}

impl State {
    /// The state of `config`, just built.
    pub fn new(config: Config) -> Self {
        Self {
            plugins: processor_plugins(&config),
            files: all_plugins(&config),
            config,
        }
    }

    /// The running config.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

fn same<T: std::fmt::Debug>(a: &T, b: &T) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// Refuse a reload that changes what only a restart changes.
fn check_fixed(old: &Config, new: &Config) -> Result<(), ConfigError> {
    let fixed: [(&str, bool); 6] = [
        ("receivers", same(&old.receivers, &new.receivers)),
        ("extensions", same(&old.extensions, &new.extensions)),
        (
            "service.extensions",
            same(&old.service.extensions, &new.service.extensions),
        ),
        (
            "service.telemetry",
            same(&old.service.telemetry, &new.service.telemetry),
        ),
        (
            "service.shutdown_timeout",
            old.service.shutdown_timeout == new.service.shutdown_timeout,
        ),
        ("runtime", same(&old.runtime, &new.runtime)),
    ];
    for (key, unchanged) in fixed {
        if !unchanged {
            return Err(new.error(key, "changed, which takes a restart; nothing was reloaded"));
        }
    }
    Ok(())
}

/// The exporters whose sending queue keeps its batches in a directory, by id.
fn stored_exporters(config: &Config) -> BTreeMap<&String, String> {
    config
        .exporters
        .iter()
        .filter(|(_, exporter)| {
            let queue = match exporter {
                ExporterConfig::Otlp(c) => &c.sending_queue,
                ExporterConfig::OtlpHttp(c) => &c.sending_queue,
                _ => return false,
            };
            queue.enabled && queue.storage.is_some()
        })
        .map(|(id, exporter)| (id, format!("{exporter:?}")))
        .collect()
}

/// Refuse a reload that adds, removes or changes an exporter with `sending_queue.storage`: the
/// old exporter may still be sending the batches in its directory while the new one would
/// replay them, so each would be sent twice.
fn check_storage(old: &Config, new: &Config) -> Result<(), ConfigError> {
    let (before, after) = (stored_exporters(old), stored_exporters(new));
    if before == after {
        return Ok(());
    }
    let id = after
        .iter()
        .find(|(id, config)| before.get(*id) != Some(config))
        .map(|(id, _)| (*id).clone())
        .or_else(|| {
            before
                .keys()
                .find(|id| !after.contains_key(*id))
                .map(|id| (*id).clone())
        })
        .unwrap_or_default();
    Err(new.error(
        format!("exporters.{id}"),
        "an exporter with sending_queue.storage was added, removed or changed, which takes a restart (its batches on disk would be sent twice); nothing was reloaded",
    ))
}

/// Whether `new` differs from `old` at most in its tail samplers.
fn samplers_only(old: &Config, new: &Config) -> bool {
    if !same(&old.exporters, &new.exporters)
        || !same(&old.service.pipelines, &new.service.pipelines)
    {
        return false;
    }
    if !old.processors.keys().eq(new.processors.keys()) {
        return false;
    }
    old.processors.iter().all(|(id, before)| {
        let after = &new.processors[id];
        match (before, after) {
            (ProcessorConfig::TailSampling(before), ProcessorConfig::TailSampling(after)) => {
                let mut after = (**after).clone();
                after.sampler = before.sampler.clone();
                after.shadow = before.shadow.clone();
                after.sample_on_first_match = before.sample_on_first_match;
                same(&**before, &after)
            }
            _ => same(before, after),
        }
    })
}

/// Reload to `new`: see the module's documentation. `consumers` are the running receivers'.
pub async fn reload(
    state: &mut State,
    new: &Config,
    live: &Live,
    consumers: &[(String, Consumer)],
    runtime: Arc<Runtime>,
) -> Result<Reloaded, ConfigError> {
    check_fixed(&state.config, new)?;
    check_storage(&state.config, new)?;
    for (n, (id, pipeline)) in new.service.pipelines.iter().enumerate() {
        for receiver in &pipeline.receivers {
            if !consumers.iter().any(|(running, _)| running == receiver) {
                return Err(new.error(
                    format!("service.pipelines.{id}.receivers"),
                    format!("receiver {receiver} is not running (it was in no pipeline at start), which takes a restart (pipeline {n})"),
                ));
            }
        }
    }
    for (receiver, _) in consumers {
        if !new
            .service
            .pipelines
            .values()
            .any(|p| p.receivers.contains(receiver))
        {
            return Err(new.error(
                "service.pipelines",
                format!("receiver {receiver} is running and would feed no pipeline: its data would be lost; stopping a receiver takes a restart"),
            ));
        }
    }
    let plugins = processor_plugins(new);
    let files = all_plugins(new);
    if files == state.files && same(&state.config, new) {
        return Ok(Reloaded::Nothing);
    }
    if plugins == state.plugins && samplers_only(&state.config, new) {
        let swapped =
            crate::pipeline::tail::reload_samplers(&live.get(), new, runtime.clone()).await?;
        state.config = new.clone();
        state.files = files;
        return Ok(Reloaded::Samplers(swapped));
    }

    let running = live.get();
    let mut reuse: BTreeMap<String, Arc<dyn Exporter>> = BTreeMap::new();
    for (id, config) in &new.exporters {
        let unchanged = state
            .config
            .exporters
            .get(id)
            .is_some_and(|old| same(old, config));
        if !unchanged {
            continue;
        }
        if let Some(exporter) = running
            .iter()
            .flat_map(|p| p.exporters())
            .find(|e| e.id() == id)
        {
            reuse.insert(id.clone(), exporter.clone());
        }
    }
    let built = {
        let (new, reuse, runtime) = (new.clone(), reuse.clone(), runtime.clone());
        tokio::task::spawn_blocking(move || build_pipelines_reusing(&new, &runtime, &reuse))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?
    };
    for (receiver, consumer) in consumers {
        let fed: Vec<Pipeline> = new
            .service
            .pipelines
            .iter()
            .filter(|(_, p)| p.receivers.contains(receiver))
            .filter_map(|(id, _)| built.iter().find(|p| p.id() == id).cloned())
            .collect();
        consumer.replace(fed);
    }
    let old = live.replace(built);
    drop(running);
    // Requests that took the old pipelines before the swap finish through them.
    let deadline = tokio::time::Instant::now() + IN_FLIGHT_WAIT;
    while old.iter().any(|p| p.handles() > 1) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let kept: Vec<Arc<dyn Exporter>> = reuse.values().cloned().collect();
    for pipeline in old.iter() {
        pipeline.shutdown_except(&kept).await;
    }
    state.config = new.clone();
    state.plugins = plugins;
    state.files = files;
    Ok(Reloaded::Pipelines {
        kept_exporters: reuse.into_keys().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(exporters: &str) -> Config {
        let text = format!(
            "receivers: {{ otlp: {{ protocols: {{ http: {{ endpoint: '127.0.0.1:0' }} }} }} }}\n\
             exporters:\n{exporters}\n\
             service: {{ pipelines: {{ traces: {{ receivers: [otlp], exporters: [debug] }} }} }}\n"
        );
        Config::parse(&text, std::path::Path::new("reload.yaml"), &|_| None).unwrap()
    }

    #[test]
    fn exporters_with_storage_cannot_change_in_a_reload_and_others_can() {
        let stored =
            "  debug:\n  otlp: { endpoint: 'http://a:4317', sending_queue: { storage: /var/q } }";
        let base = config(stored);
        assert!(check_storage(&base, &config(stored)).is_ok());
        let changed = config(&stored.replace("http://a", "http://b"));
        let error = check_storage(&base, &changed).unwrap_err();
        assert_eq!(error.key, "exporters.otlp");
        assert!(error.reason.contains("takes a restart"), "{error}");
        assert!(
            check_storage(&base, &config("  debug:")).is_err(),
            "removed"
        );
        assert!(check_storage(&config("  debug:"), &base).is_err(), "added");
        let memory = "  debug:\n  otlp: { endpoint: 'http://a:4317' }";
        assert!(
            check_storage(
                &config(memory),
                &config(&memory.replace("http://a", "http://b"))
            )
            .is_ok(),
            "an in-memory queue may change"
        );
    }
}
