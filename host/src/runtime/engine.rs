//! The one [`Runtime`] of a process: engine, linker, epoch ticker and component cache.

use super::bindings::SpanProcessorPre;
use super::bindings::flat_sampler::FlatTailSamplerPre;
use super::bindings::head_sampler::HeadSamplerPre;
use super::bindings::sampler::TailSamplerPre;
use super::cache::ComponentCache;
use super::digests::FileStamp;
use super::error::{LoadError, chain};
use super::instance::{Limits, PluginInstance, Pre};
use super::state::{PluginContext, PluginState};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the engine's epoch advances: the granularity of call deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Process-wide runtime settings (the `runtime:` block of the config).
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Where precompiled components are kept; `None` compiles at every load.
    pub cache_dir: Option<PathBuf>,
    /// The most bytes of compiled components the cache keeps; least recently used go first.
    pub cache_max_size: u64,
    /// The largest linear memory any plugin may have; per-plugin caps must fit under it.
    pub max_memory: usize,
    /// How many plugin instances may exist at once (pooling allocator slots).
    pub max_instances: u32,
    /// Whether compiled plugins may trap through signals (a fault on a guard page, `ud2`): the
    /// fastest code, and what a process of its own uses. `false` makes the generated code check
    /// bounds and divisors itself and keeps wasmtime from installing signal handlers, which is
    /// what a host that owns the process's signals needs (the Go runtime of the OpenTelemetry
    /// Collector, through the C ABI).
    pub signals_based_traps: bool,
    /// Whether plugin calls have deadlines (`limits.deadline`): wasmtime's epoch interruption,
    /// a check compiled in at every function entry and loop header. Always `true` in what
    /// ships (no config key turns it off); `false` exists to measure what the checks cost
    /// (`cargo bench -p spanwise-benches --bench deadlines`), and a plugin that loops forever
    /// then never returns.
    pub epoch_deadlines: bool,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self {
            cache_dir: default_cache_dir(),
            cache_max_size: 512 << 20,
            max_memory: 1 << 30,
            max_instances: 64,
            signals_based_traps: true,
            epoch_deadlines: true,
        }
    }
}

/// The default cache folder: `$XDG_CACHE_HOME/spanwise` or `~/.cache/spanwise`.
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|dir| dir.join("spanwise").join("components"))
}

/// Keeps the epoch ticker running while anything that calls plugins is alive: the runtime, its
/// plugins and their instances each hold one, and the ticker stops when the last one goes.
#[derive(Debug)]
pub(super) struct Ticker {
    running: Arc<AtomicBool>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
    }
}

/// One engine and one linker for the whole process.
pub struct Runtime {
    engine: Engine,
    linker: Linker<PluginState>,
    cache: Option<ComponentCache>,
    settings: RuntimeSettings,
    ticker: Arc<Ticker>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("settings", &self.settings)
            .finish()
    }
}

impl Runtime {
    /// Create the engine (synchronous calls, epoch interruption, pooling allocator), link WASI
    /// with nothing granted and the spanwise imports, and start the epoch ticker.
    pub fn new(settings: RuntimeSettings) -> Result<Self, LoadError> {
        let mut config = Config::new();
        config.epoch_interruption(settings.epoch_deadlines);
        config.concurrency_support(false);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        if !settings.signals_based_traps {
            config.signals_based_traps(false);
            // Spectre-hardened bounds checks fault on purpose (they load from address 0), so
            // wasmtime requires them off without signal handlers; every access is still
            // bounds-checked.
            #[allow(unsafe_code)]
            // SAFETY: both are documented Cranelift settings; turning them off is what
            // `signals_based_traps(false)` asks for.
            unsafe {
                config.cranelift_flag_set("enable_heap_access_spectre_mitigation", "false");
                config.cranelift_flag_set("enable_table_access_spectre_mitigation", "false");
            }
        }
        // `SPANWISE_PERFMAP=1` writes /tmp/perf-PID.map, so that `perf report` names the
        // plugins' own functions (compiled code has no symbols otherwise).
        if std::env::var_os("SPANWISE_PERFMAP").is_some_and(|v| !v.is_empty() && v != "0") {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(settings.max_instances)
            .total_core_instances(settings.max_instances * 8)
            .total_memories(settings.max_instances * 2)
            .total_tables(settings.max_instances * 8)
            .max_memory_size(settings.max_memory);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|e| LoadError::Engine(chain(&e)))?;

        let mut linker = Linker::<PluginState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| LoadError::Engine(chain(&e)))?;
        super::bindings::SpanProcessor::add_to_linker::<_, HasSelf<PluginState>>(
            &mut linker,
            |state| state,
        )
        .map_err(|e| LoadError::Engine(chain(&e)))?;

        let cache = match &settings.cache_dir {
            Some(dir) => Some(
                ComponentCache::open(dir.clone(), &engine, settings.cache_max_size)
                    .map_err(LoadError::CacheDir)?,
            ),
            None => None,
        };
        let running = Arc::new(AtomicBool::new(true));
        let (tick_engine, flag) = (engine.clone(), running.clone());
        std::thread::Builder::new()
            .name("spanwise-epoch".into())
            .spawn(move || {
                while flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    tick_engine.increment_epoch();
                }
            })
            .map_err(|e| LoadError::Engine(format!("cannot start the epoch ticker: {e}")))?;

        Ok(Self {
            engine,
            linker,
            cache,
            settings,
            ticker: Arc::new(Ticker { running }),
        })
    }

    /// The settings this runtime was made with.
    pub fn settings(&self) -> &RuntimeSettings {
        &self.settings
    }

    /// Read, check and compile (or take from the cache) the component at `path`, and link it.
    /// With `pin`, refuse a file whose sha256 differs.
    pub fn load(&self, path: &Path, pin: Option<&str>) -> Result<Plugin, LoadError> {
        let read_error = |source| LoadError::Read {
            path: path.to_owned(),
            source,
        };
        // The fast way: a file unchanged since its digest was remembered, with its compiled
        // code in the cache, is not read at all.
        let stamp = std::fs::metadata(path)
            .map(|m| FileStamp::of(&m))
            .map_err(read_error)?;
        let remembered = self.cache.as_ref().and_then(|cache| {
            let sha256 = cache.digests().get(path, stamp)?;
            // A pin that does not hold takes the slow way, which reports it.
            pin_holds(pin, &sha256).then_some(())?;
            let component = cache.get(&self.engine, &sha256)?;
            Some((component, sha256))
        });
        let (component, sha256) = match remembered {
            Some(found) => found,
            None => self.read_and_compile(path, pin, stamp)?,
        };
        let linked = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Compile {
                path: path.to_owned(),
                reason: chain(&e),
            })?;
        // A component is a processor, a head sampler (0.1.7) or a tail sampler (of 0.1.5 or
        // 0.1.4), as its exports say.
        let pre = if let Ok(pre) = SpanProcessorPre::new(linked.clone()) {
            Pre::Processor(pre)
        } else if let Ok(pre) = HeadSamplerPre::new(linked.clone()) {
            Pre::HeadSampler(pre)
        } else if let Ok(pre) = FlatTailSamplerPre::new(linked.clone()) {
            Pre::FlatSampler(pre)
        } else {
            match TailSamplerPre::new(linked.clone()) {
                Ok(pre) => Pre::Sampler(pre),
                Err(_) => {
                    let as_processor = SpanProcessorPre::new(linked)
                        .err()
                        .map_or_else(String::new, |e| chain(&e));
                    return Err(LoadError::Compile {
                        path: path.to_owned(),
                        reason: format!(
                            "it is neither a span-processor, a head-sampler nor a tail-sampler \
                             component: {as_processor}"
                        ),
                    });
                }
            }
        };
        Ok(Plugin {
            engine: self.engine.clone(),
            ticker: self.ticker.clone(),
            pre,
            sha256,
            path: path.to_owned(),
        })
    }
}

impl Runtime {
    /// Read the component at `path`, check its pin and header, and compile it (or take its code
    /// from the cache); remember its digest as of `stamp`, taken before reading.
    fn read_and_compile(
        &self,
        path: &Path,
        pin: Option<&str>,
        stamp: FileStamp,
    ) -> Result<(Component, String), LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        if let Some(expected) = pin.map(normal_pin)
            && expected != sha256
        {
            return Err(LoadError::PinMismatch {
                path: path.to_owned(),
                expected,
                actual: sha256,
            });
        }
        check_header(path, &bytes)?;
        let component = match &self.cache {
            Some(cache) => {
                cache.digests().put(path, stamp, &sha256);
                cache.get_or_compile(&self.engine, &sha256, &bytes)
            }
            None => Component::new(&self.engine, &bytes),
        }
        .map_err(|e| LoadError::Compile {
            path: path.to_owned(),
            reason: chain(&e),
        })?;
        Ok((component, sha256))
    }
}

/// Whether `sha256` is what `pin` asks for (any digest when there is no pin).
fn pin_holds(pin: Option<&str>, sha256: &str) -> bool {
    pin.is_none_or(|expected| normal_pin(expected) == sha256)
}

/// A pin as compared: trimmed, without its `sha256:` prefix, lower case.
fn normal_pin(pin: &str) -> String {
    pin.trim()
        .trim_start_matches("sha256:")
        .to_ascii_lowercase()
}

/// A compiled, linked component, ready to instantiate many times.
#[derive(Clone)]
pub struct Plugin {
    engine: Engine,
    ticker: Arc<Ticker>,
    pre: Pre,
    sha256: String,
    path: PathBuf,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("path", &self.path)
            .field("sha256", &self.sha256)
            .finish()
    }
}

impl Plugin {
    /// The sha256 of the component file, in hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The component file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the component is a tail sampler (the `flat-tail-sampler` or `tail-sampler`
    /// world) rather than a processor.
    pub fn is_sampler(&self) -> bool {
        matches!(self.pre, Pre::FlatSampler(_) | Pre::Sampler(_))
    }

    /// Make an instance with its own store and limits and give it its config (JSON).
    pub fn instantiate(
        &self,
        context: Arc<PluginContext>,
        limits: Limits,
        config_json: &str,
    ) -> Result<PluginInstance, LoadError> {
        PluginInstance::new(
            self.engine.clone(),
            self.ticker.clone(),
            self.pre.clone(),
            context,
            limits,
            config_json.to_owned(),
        )
    }
}

/// Tell a core module or a non-WebAssembly file from a component before the compiler does, so
/// that the error says what to do.
fn check_header(path: &Path, bytes: &[u8]) -> Result<(), LoadError> {
    let not = |reason: &str| LoadError::NotAComponent {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(not("it does not start with the WebAssembly magic bytes"));
    }
    match bytes[4..8] {
        [0x0d, 0x00, 0x01, 0x00] => Ok(()),
        [0x01, 0x00, 0x00, 0x00] => Err(not(
            "it is a core WebAssembly module; build the plugin for the wasm32-wasip2 target, which produces a component",
        )),
        _ => Err(not("it has an unknown WebAssembly version or layer")),
    }
}
