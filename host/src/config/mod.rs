//! The collector-style YAML config: `receivers`, `processors`, `exporters`, `extensions` and
//! `service.pipelines`, plus spanwise's own `runtime` block.
//!
//! Loading goes: read the file → parse YAML, noting where each key sits ([`yaml`]) → expand
//! `${env:VAR}` in values ([`expand`]) → check every component block against its type
//! (`deny_unknown_fields`) → check the pipelines refer to defined components. Every error names
//! the file, the line and column, the dotted key and the reason.

mod components;
pub mod endpoint;
mod error;
pub mod expand;
pub mod units;
pub mod yaml;

pub use components::*;
pub use error::ConfigError;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use yaml::Positions;

/// The name used for configs that do not come from a file.
pub const EMBEDDED: &str = "<embedded>";

/// The top level of the file, before each component is checked against its type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    receivers: BTreeMap<String, Value>,
    #[serde(default)]
    processors: BTreeMap<String, Value>,
    #[serde(default)]
    exporters: BTreeMap<String, Value>,
    #[serde(default)]
    extensions: BTreeMap<String, Value>,
    service: Service,
    #[serde(default)]
    runtime: Value,
}

/// A checked config.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from.
    pub file: PathBuf,
    /// Receivers by id (`otlp`, `otlp/internal`).
    pub receivers: BTreeMap<String, ReceiverConfig>,
    /// Processors by id (`batch`, `wasm/url`).
    pub processors: BTreeMap<String, ProcessorConfig>,
    /// Exporters by id (`file`, `otlp/backend`).
    pub exporters: BTreeMap<String, ExporterConfig>,
    /// Extensions by id (`health_check`); only those in `service.extensions` run.
    pub extensions: BTreeMap<String, ExtensionConfig>,
    /// The pipelines.
    pub service: Service,
    /// Process-wide WebAssembly runtime settings.
    pub runtime: RuntimeConfig,
    /// Where each key sits in the file, for errors.
    positions: Arc<Positions>,
}

/// `service:`: which components make up which pipeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Pipelines by id; only `traces` and `traces/NAME` exist.
    pub pipelines: BTreeMap<String, PipelineConfig>,
    /// Extensions to start, by id (`health_check`).
    #[serde(default)]
    pub extensions: Vec<String>,
    /// spanwise's own telemetry.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// How long a shutdown may take to drain the receivers, processors and exporters' queues;
    /// past it, what is left is reported and spanwise exits with an error. Default `20s`, under
    /// Kubernetes' default grace period of 30 s.
    #[serde(
        default = "default_shutdown_timeout",
        deserialize_with = "units::duration"
    )]
    pub shutdown_timeout: std::time::Duration,
}

fn default_shutdown_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(20)
}

/// `service.telemetry`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// `service.telemetry.metrics`.
    #[serde(default)]
    pub metrics: MetricsConfig,
}

/// `service.telemetry.metrics`: the Prometheus endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Where `/metrics` is served (`127.0.0.1:8888`, the collector's port); none without it.
    #[serde(default)]
    pub address: Option<String>,
}

/// One pipeline: receivers feed processors in order, which feed every exporter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Receiver ids.
    pub receivers: Vec<String>,
    /// Processor ids, in the order they run.
    #[serde(default)]
    pub processors: Vec<String>,
    /// Exporter ids.
    pub exporters: Vec<String>,
}

impl Config {
    /// The runtime's settings: the `runtime:` block, with room in the instance pool for every
    /// instance the pipelines make (each `wasm/...` processor's pool in each pipeline it is in,
    /// each tail sampler and shadow) twice over, so a reload can build the new ones beside the
    /// old.
    pub fn runtime_settings(&self) -> crate::runtime::RuntimeSettings {
        let mut settings = self.runtime.to_settings();
        let needed: u32 = self
            .service
            .pipelines
            .values()
            .flat_map(|pipeline| &pipeline.processors)
            .map(|id| match self.processors.get(id) {
                Some(ProcessorConfig::Wasm(wasm)) => wasm.instances(),
                Some(ProcessorConfig::TailSampling(tail)) => 1 + u32::from(tail.shadow.is_some()),
                Some(ProcessorConfig::Batch(_) | ProcessorConfig::MemoryLimiter(_)) | None => 0,
            })
            .sum();
        settings.max_instances = settings.max_instances.max(needed.saturating_mul(2));
        settings
    }

    /// Load and check the config file at `path`, expanding variables from the environment.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(path, "", format!("cannot read the file: {e}")))?;
        Self::parse(&text, path, &|name| std::env::var(name).ok())
    }

    /// Check config `text` that came from `file`, expanding variables with `env`.
    pub fn parse(
        text: &str,
        file: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let document = yaml::parse(text)
            .map_err(|e| ConfigError::new(file, "", e.reason).at(e.position))?
            .ok_or_else(|| ConfigError::new(file, "", "the file is empty"))?;
        let positions = Arc::new(document.positions);
        let err =
            |key: &str, reason: String| ConfigError::new(file, key, reason).at(positions.find(key));
        let mut value = document.value;
        expand::expand(&mut value, "", env).map_err(|(key, reason)| err(&key, reason))?;
        let raw: RawConfig = typed(value, "", file, &positions)?;

        let mut extensions = BTreeMap::new();
        for (id, block) in raw.extensions {
            let key = format!("extensions.{id}");
            let config = match component_type(&id) {
                "health_check" => {
                    let health: HealthCheckConfig =
                        typed(null_to_empty(block), &key, file, &positions)?;
                    endpoint::Endpoint::parse(&health.endpoint)
                        .map_err(|reason| err(&format!("{key}.endpoint"), reason))?;
                    if !health.path.starts_with('/') {
                        return Err(err(
                            &format!("{key}.path"),
                            format!("{:?} must start with /", health.path),
                        ));
                    }
                    ExtensionConfig::HealthCheck(health)
                }
                "bearertokenauth" => {
                    let auth: BearerTokenAuthConfig = typed(block, &key, file, &positions)?;
                    if auth.all_tokens().next().is_none() {
                        return Err(err(
                            &key,
                            "set token (or tokens): requests would otherwise all be refused".into(),
                        ));
                    }
                    if let Some(n) = auth.all_tokens().position(str::is_empty) {
                        let field = match (&auth.token, n) {
                            (Some(_), 0) => "token".to_owned(),
                            (Some(_), n) => format!("tokens[{}]", n - 1),
                            (None, n) => format!("tokens[{n}]"),
                        };
                        return Err(err(
                            &format!("{key}.{field}"),
                            "the token is empty (is its variable set?)".into(),
                        ));
                    }
                    http::HeaderName::from_bytes(auth.header.as_bytes()).map_err(|_| {
                        err(
                            &format!("{key}.header"),
                            format!("{:?} is not a header name", auth.header),
                        )
                    })?;
                    ExtensionConfig::BearerTokenAuth(auth)
                }
                other => {
                    return Err(err(
                        &key,
                        format!(
                            "unknown extension type {other:?} (known: health_check, bearertokenauth)"
                        ),
                    ));
                }
            };
            extensions.insert(id, config);
        }
        for (n, id) in raw.service.extensions.iter().enumerate() {
            if !extensions.contains_key(id) {
                return Err(err(
                    &format!("service.extensions[{n}]"),
                    format!("extension {id:?} is not defined under extensions"),
                ));
            }
        }
        if let Some(address) = &raw.service.telemetry.metrics.address {
            endpoint::Endpoint::parse(address)
                .map_err(|reason| err("service.telemetry.metrics.address", reason))?;
        }

        let mut receivers = BTreeMap::new();
        for (id, block) in raw.receivers {
            let key = format!("receivers.{id}");
            let config = match component_type(&id) {
                "otlp" => {
                    let otlp: OtlpReceiverConfig =
                        typed(null_to_empty(block), &key, file, &positions)?;
                    for (protocol, endpoint) in otlp.endpoints() {
                        endpoint::Endpoint::parse(endpoint).map_err(|reason| {
                            err(&format!("{key}.protocols.{protocol}.endpoint"), reason)
                        })?;
                    }
                    let auths = [
                        (
                            "grpc",
                            otlp.protocols.grpc.as_ref().and_then(|g| g.auth.as_ref()),
                        ),
                        (
                            "http",
                            otlp.protocols.http.as_ref().and_then(|h| h.auth.as_ref()),
                        ),
                    ];
                    for (protocol, auth) in auths {
                        let Some(auth) = auth else { continue };
                        let field = format!("{key}.protocols.{protocol}.auth.authenticator");
                        let id = &auth.authenticator;
                        match extensions.get(id) {
                            Some(ExtensionConfig::BearerTokenAuth(_)) => {}
                            Some(_) => {
                                return Err(err(
                                    &field,
                                    format!(
                                        "extension {id:?} is not an authenticator (use a bearertokenauth extension)"
                                    ),
                                ));
                            }
                            None => {
                                return Err(err(
                                    &field,
                                    format!("extension {id:?} is not defined under extensions"),
                                ));
                            }
                        }
                        if !raw.service.extensions.contains(id) {
                            return Err(err(
                                &field,
                                format!(
                                    "extension {id:?} is not started: add it to service.extensions"
                                ),
                            ));
                        }
                    }
                    ReceiverConfig::Otlp(otlp)
                }
                other => {
                    return Err(err(
                        &key,
                        format!("unknown receiver type {other:?} (known: otlp)"),
                    ));
                }
            };
            receivers.insert(id, config);
        }

        let mut processors = BTreeMap::new();
        for (id, block) in raw.processors {
            let key = format!("processors.{id}");
            let config = match component_type(&id) {
                "batch" => {
                    ProcessorConfig::Batch(typed(null_to_empty(block), &key, file, &positions)?)
                }
                "wasm" => {
                    let config: WasmProcessorConfig = typed(block, &key, file, &positions)?;
                    config
                        .check()
                        .map_err(|(field, reason)| err(&format!("{key}.{field}"), reason))?;
                    ProcessorConfig::Wasm(Box::new(config))
                }
                "tail_sampling" => {
                    let config: TailSamplingConfig = typed(block, &key, file, &positions)?;
                    config
                        .check()
                        .map_err(|(field, reason)| err(&format!("{key}.{field}"), reason))?;
                    ProcessorConfig::TailSampling(Box::new(config))
                }
                "memory_limiter" => {
                    let config: MemoryLimiterConfig = typed(block, &key, file, &positions)?;
                    config
                        .limits(crate::pipeline::memory::available_memory())
                        .map_err(|(field, reason)| err(&format!("{key}.{field}"), reason))?;
                    ProcessorConfig::MemoryLimiter(config)
                }
                other => {
                    return Err(err(
                        &key,
                        format!(
                            "unknown processor type {other:?} (known: batch, wasm, tail_sampling, memory_limiter)"
                        ),
                    ));
                }
            };
            if let ProcessorConfig::Batch(batch) = &config {
                batch
                    .check()
                    .map_err(|(field, reason)| err(&format!("{key}.{field}"), reason))?;
            }
            processors.insert(id, config);
        }

        let mut exporters = BTreeMap::new();
        for (id, block) in raw.exporters {
            let key = format!("exporters.{id}");
            let block = null_to_empty(block);
            let config = match component_type(&id) {
                "otlp" => ExporterConfig::Otlp(typed(block, &key, file, &positions)?),
                "otlphttp" => ExporterConfig::OtlpHttp(typed(block, &key, file, &positions)?),
                "file" => ExporterConfig::File(typed(block, &key, file, &positions)?),
                "debug" => ExporterConfig::Debug(typed(block, &key, file, &positions)?),
                other => {
                    return Err(err(
                        &key,
                        format!(
                            "unknown exporter type {other:?} (known: otlp, otlphttp, file, debug)"
                        ),
                    ));
                }
            };
            exporters.insert(id, config);
        }

        let mut storages: BTreeMap<PathBuf, &String> = BTreeMap::new();
        for (id, exporter) in &exporters {
            let queue = match exporter {
                ExporterConfig::Otlp(c) => &c.sending_queue,
                ExporterConfig::OtlpHttp(c) => &c.sending_queue,
                _ => continue,
            };
            if let Some(dir) = &queue.storage
                && let Some(other) = storages.insert(dir.clone(), id)
            {
                return Err(err(
                    &format!("exporters.{id}.sending_queue.storage"),
                    format!(
                        "{} is already the storage of exporters.{other}: give each exporter a directory of its own",
                        dir.display()
                    ),
                ));
            }
        }

        let runtime: RuntimeConfig =
            typed(null_to_empty(raw.runtime), "runtime", file, &positions)?;

        let config = Config {
            file: file.to_owned(),
            receivers,
            processors,
            exporters,
            extensions,
            service: raw.service,
            runtime,
            positions: positions.clone(),
        };
        config.check_pipelines()?;
        Ok(config)
    }

    /// An error about `key` of this config, placed at the key's line and column.
    pub fn error(&self, key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        let key = key.into();
        let position = self.positions.find(&key);
        ConfigError::new(&self.file, key, reason).at(position)
    }

    fn check_pipelines(&self) -> Result<(), ConfigError> {
        let err = |key: String, reason: String| self.error(key, reason);
        if self.service.pipelines.is_empty() {
            return Err(err(
                "service.pipelines".into(),
                "define at least one pipeline, such as `traces`".into(),
            ));
        }
        for (id, pipeline) in &self.service.pipelines {
            let key = format!("service.pipelines.{id}");
            if component_type(id) != "traces" {
                return Err(err(
                    key,
                    format!(
                        "only traces pipelines exist; call it `traces` or `traces/NAME`, not {id:?}"
                    ),
                ));
            }
            if pipeline.receivers.is_empty() {
                return Err(err(
                    format!("{key}.receivers"),
                    "a pipeline needs at least one receiver".into(),
                ));
            }
            if pipeline.exporters.is_empty() {
                return Err(err(
                    format!("{key}.exporters"),
                    "a pipeline needs at least one exporter".into(),
                ));
            }
            for (list, ids, known) in [
                (
                    "receivers",
                    &pipeline.receivers,
                    self.receivers.keys().collect::<Vec<_>>(),
                ),
                (
                    "processors",
                    &pipeline.processors,
                    self.processors.keys().collect(),
                ),
                (
                    "exporters",
                    &pipeline.exporters,
                    self.exporters.keys().collect(),
                ),
            ] {
                for (i, used) in ids.iter().enumerate() {
                    if !known.contains(&used) {
                        return Err(err(
                            format!("{key}.{list}[{i}]"),
                            format!(
                                "{used:?} is not defined under `{list}:` (defined: {})",
                                join(&known)
                            ),
                        ));
                    }
                    if ids[..i].contains(used) {
                        return Err(err(
                            format!("{key}.{list}[{i}]"),
                            format!("{used:?} is listed twice"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn join(ids: &[&String]) -> String {
    if ids.is_empty() {
        "none".into()
    } else {
        ids.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The type part of a component id: `wasm` of `wasm/url`.
pub fn component_type(id: &str) -> &str {
    id.split_once('/').map_or(id, |(ty, _)| ty)
}

fn null_to_empty(value: Value) -> Value {
    if value.is_null() {
        Value::Object(Default::default())
    } else {
        value
    }
}

/// Deserialize `value` into `T`, naming the full dotted key, and where it is, on error.
impl WasmProcessorConfig {
    /// Read the block of one WebAssembly processor on its own, as the C ABI receives it from the
    /// OpenTelemetry Collector (already expanded, as JSON): the same checks as in a config file.
    /// An error is the key it is about, under `key` (such as `processors.spanwise/redact`, or
    /// `""` for keys relative to the block), and the reason.
    pub fn from_value(value: Value, key: &str) -> Result<Self, (String, String)> {
        let config: Self = typed(value, key, Path::new(""), &Positions::default())
            .map_err(|e| (e.key, e.reason))?;
        config.check().map_err(|(field, reason)| {
            let key = if key.is_empty() {
                field
            } else {
                format!("{key}.{field}")
            };
            (key, reason)
        })?;
        Ok(config)
    }
}

fn typed<T: DeserializeOwned>(
    value: Value,
    prefix: &str,
    file: &Path,
    positions: &Positions,
) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let key = match (prefix.is_empty(), inner == ".") {
            (true, _) => {
                if inner == "." {
                    String::new()
                } else {
                    inner
                }
            }
            (false, true) => prefix.to_owned(),
            (false, false) => format!("{prefix}.{inner}"),
        };
        let position = positions.find(&key);
        ConfigError::new(file, key, e.inner().to_string()).at(position)
    })
}

#[cfg(test)]
mod tests;
