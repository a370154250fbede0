//! The runtime's options, as JSON: `spanwise_runtime_new`'s argument.

use serde::Deserialize;
use spanwise::runtime::RuntimeSettings;
use std::path::PathBuf;

/// `{"cache_dir": ..., "cache_max_size": ..., "max_memory": ..., "max_instances": ...,
/// "signals_based_traps": ...}`, every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuntimeOptions {
    /// Where compiled components are kept; `""` keeps none; unset: `~/.cache/spanwise/components`.
    cache_dir: Option<PathBuf>,
    /// The most bytes the cache keeps.
    cache_max_size: Option<u64>,
    /// The largest linear memory a plugin may have, in bytes.
    max_memory: Option<usize>,
    /// How many plugin instances may exist at once (all processors of the process together).
    max_instances: Option<u32>,
    /// Whether plugins may trap through signals. Default `false`: the embedding program owns
    /// the process's signal handlers (the Go runtime does), so wasmtime installs none.
    #[serde(default)]
    signals_based_traps: bool,
}

impl RuntimeOptions {
    /// Read the options from `json` (empty text: every default).
    pub fn parse(json: &str) -> Result<Self, String> {
        if json.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(json).map_err(|e| format!("runtime options: {e}"))
    }

    /// The runtime settings these options make.
    pub fn settings(self) -> RuntimeSettings {
        let defaults = RuntimeSettings::default();
        RuntimeSettings {
            cache_dir: match self.cache_dir {
                Some(dir) if dir.as_os_str().is_empty() => None,
                Some(dir) => Some(dir),
                None => defaults.cache_dir,
            },
            cache_max_size: self.cache_max_size.unwrap_or(defaults.cache_max_size),
            max_memory: self.max_memory.unwrap_or(defaults.max_memory),
            max_instances: self.max_instances.unwrap_or(defaults.max_instances),
            signals_based_traps: self.signals_based_traps,
            epoch_deadlines: true,
        }
    }
}
