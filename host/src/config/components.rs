//! The config block of every component type. The doc comments are the reference the README
//! repeats.

use super::units;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// A receiver block.
#[derive(Debug, Clone)]
pub enum ReceiverConfig {
    /// `otlp`: OTLP over gRPC and HTTP.
    Otlp(OtlpReceiverConfig),
}

/// `receivers.otlp`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpReceiverConfig {
    /// Which protocols to serve; an empty block serves both with defaults.
    #[serde(default)]
    pub protocols: Protocols,
}

impl OtlpReceiverConfig {
    /// The endpoint of each protocol served: `("grpc", ...)`, `("http", ...)`.
    pub fn endpoints(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        if let Some(grpc) = &self.protocols.grpc {
            out.push(("grpc", grpc.endpoint.as_str()));
        }
        if let Some(http) = &self.protocols.http {
            out.push(("http", http.endpoint.as_str()));
        }
        out
    }
}

/// `receivers.otlp.protocols`. A protocol written with no block (`grpc:`) uses its defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocols {
    /// OTLP/gRPC.
    #[serde(default, deserialize_with = "present_means_default")]
    pub grpc: Option<GrpcReceiverConfig>,
    /// OTLP/HTTP.
    #[serde(default, deserialize_with = "present_means_default")]
    pub http: Option<HttpReceiverConfig>,
}

impl Default for Protocols {
    fn default() -> Self {
        Self {
            grpc: Some(GrpcReceiverConfig::default()),
            http: Some(HttpReceiverConfig::default()),
        }
    }
}

fn present_means_default<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(Option::<T>::deserialize(d)?.unwrap_or_default()))
}

/// `receivers.otlp.protocols.grpc`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcReceiverConfig {
    /// Address to listen on, as `host:port` (`localhost:4317`, `0.0.0.0:4317`, `[::1]:4317`,
    /// `:4317` for every interface). Default `127.0.0.1:4317`.
    pub endpoint: String,
    /// Largest request message after decompression, in MiB. Default 4.
    pub max_recv_msg_size_mib: usize,
    /// Serve TLS instead of plain text.
    pub tls: Option<ServerTlsConfig>,
    /// Refuse requests without a valid token (`UNAUTHENTICATED`).
    pub auth: Option<AuthConfig>,
}

impl Default for GrpcReceiverConfig {
    fn default() -> Self {
        Self {
            endpoint: "127.0.0.1:4317".into(),
            max_recv_msg_size_mib: 4,
            tls: None,
            auth: None,
        }
    }
}

/// `tls` of a receiver protocol, with the collector's keys. Files are PEM.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerTlsConfig {
    /// The server's certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// The private key of the leaf certificate (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// When set, every client must present a certificate issued by one of these CAs (mutual
    /// TLS); connections without one fail the handshake.
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
}

/// `auth` of a receiver protocol: which authenticator extension checks each request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The id of a `bearertokenauth` extension listed in `service.extensions`.
    pub authenticator: String,
}

/// `tls` of the `otlp` and `otlphttp` exporters, with the collector's keys. Files are PEM.
///
/// For `otlp`, an endpoint without a scheme uses TLS unless `insecure` is true (as in the
/// collector); `http://` is plain text and `https://` is TLS. For `otlphttp`, the URL's
/// scheme decides.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientTlsConfig {
    /// Plain text for an `otlp` endpoint without a scheme.
    pub insecure: bool,
    /// CAs the server's certificate must chain to. Default: the system's roots.
    pub ca_file: Option<PathBuf>,
    /// A client certificate chain for mutual TLS (with `key_file`).
    pub cert_file: Option<PathBuf>,
    /// The client certificate's private key (with `cert_file`).
    pub key_file: Option<PathBuf>,
    /// Accept any server certificate. Encrypts but does not authenticate the server: for tests
    /// only.
    pub insecure_skip_verify: bool,
    /// The name the server's certificate must carry, instead of the endpoint's host.
    pub server_name_override: Option<String>,
}

/// `receivers.otlp.protocols.http`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpReceiverConfig {
    /// Address to listen on, as `host:port` (`localhost:4318`, `0.0.0.0:4318`, `[::1]:4318`,
    /// `:4318` for every interface). Default `127.0.0.1:4318`.
    pub endpoint: String,
    /// Largest request body after decompression. Default `20MiB`.
    #[serde(deserialize_with = "units::size")]
    pub max_request_body_size: usize,
    /// The path that takes traces. Default `/v1/traces`.
    pub traces_url_path: String,
    /// Serve HTTPS instead of plain HTTP.
    pub tls: Option<ServerTlsConfig>,
    /// Refuse requests without a valid token (401).
    pub auth: Option<AuthConfig>,
    /// How long a client may take to send a request's headers before the connection is closed
    /// (slow-loris). Default `10s`.
    #[serde(deserialize_with = "units::duration")]
    pub read_header_timeout: Duration,
    /// How long writing a response may make no progress before the connection is closed (a
    /// client that does not read). Default `30s`.
    #[serde(deserialize_with = "units::duration")]
    pub write_timeout: Duration,
}

impl Default for HttpReceiverConfig {
    fn default() -> Self {
        Self {
            endpoint: "127.0.0.1:4318".into(),
            max_request_body_size: 20 << 20,
            traces_url_path: "/v1/traces".into(),
            tls: None,
            auth: None,
            read_header_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// A processor block.
#[derive(Debug, Clone)]
pub enum ProcessorConfig {
    /// `batch`: groups spans into larger batches.
    Batch(BatchConfig),
    /// `wasm/NAME`: a WebAssembly plugin.
    Wasm(Box<WasmProcessorConfig>),
    /// `tail_sampling[/NAME]`: whole traces held, then decided by a sampler plugin.
    TailSampling(Box<TailSamplingConfig>),
    /// `memory_limiter[/NAME]`: refuses data while the process uses too much memory.
    MemoryLimiter(MemoryLimiterConfig),
}

/// `processors.memory_limiter`, with the collector's keys. Above the soft limit (the limit less
/// the spike allowance) requests are refused with a retryable answer (HTTP 503, gRPC
/// `UNAVAILABLE`), so clients hold their data and send it again later.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryLimiterConfig {
    /// How often the process's memory is measured (required, as in the collector).
    #[serde(deserialize_with = "units::duration")]
    pub check_interval: Duration,
    /// The hard limit in MiB of resident memory.
    #[serde(default)]
    pub limit_mib: u64,
    /// The allowance for growth between two measurements, in MiB. Default 20% of the limit.
    #[serde(default)]
    pub spike_limit_mib: u64,
    /// The hard limit as a percentage of the memory available (the cgroup's limit, else the
    /// machine's), instead of `limit_mib`.
    #[serde(default)]
    pub limit_percentage: u64,
    /// The spike allowance as a percentage of the memory available.
    #[serde(default)]
    pub spike_limit_percentage: u64,
}

impl MemoryLimiterConfig {
    /// The soft and hard limits in bytes, given the memory available (`total`, needed for the
    /// percentages); an error names the key at fault.
    pub fn limits(&self, total: Option<u64>) -> Result<(u64, u64), (&'static str, String)> {
        const MIB: u64 = 1 << 20;
        if self.check_interval.is_zero() {
            return Err(("check_interval", "must be greater than zero".into()));
        }
        let (hard, spike) = if self.limit_mib > 0 {
            if self.limit_percentage > 0 {
                return Err((
                    "limit_percentage",
                    "set limit_mib or limit_percentage, not both".into(),
                ));
            }
            let spike = if self.spike_limit_mib > 0 {
                self.spike_limit_mib
            } else {
                self.limit_mib / 5
            };
            if spike >= self.limit_mib {
                return Err((
                    "spike_limit_mib",
                    format!("must be less than limit_mib ({})", self.limit_mib),
                ));
            }
            (self.limit_mib * MIB, spike * MIB)
        } else if self.limit_percentage > 0 {
            if self.limit_percentage > 100 || self.spike_limit_percentage > 100 {
                return Err(("limit_percentage", "percentages are at most 100".into()));
            }
            let Some(total) = total else {
                return Err((
                    "limit_percentage",
                    "the memory available cannot be read here: set limit_mib".into(),
                ));
            };
            let spike_percentage = if self.spike_limit_percentage > 0 {
                self.spike_limit_percentage
            } else {
                self.limit_percentage / 5
            };
            if spike_percentage >= self.limit_percentage {
                return Err((
                    "spike_limit_percentage",
                    format!(
                        "must be less than limit_percentage ({})",
                        self.limit_percentage
                    ),
                ));
            }
            (
                total / 100 * self.limit_percentage,
                total / 100 * spike_percentage,
            )
        } else {
            return Err((
                "limit_mib",
                "set limit_mib or limit_percentage (greater than zero)".into(),
            ));
        };
        Ok((hard - spike, hard))
    }
}

/// `processors.tail_sampling`: the collector's `tail_sampling` keys, with the policies in a
/// sampler plugin (`sampler:`) instead of in the host.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TailSamplingConfig {
    /// How long after its first span a trace is decided. Default `30s`.
    #[serde(
        default = "default_decision_wait",
        deserialize_with = "units::duration"
    )]
    pub decision_wait: Duration,
    /// The most traces held; past it the oldest is decided early. Default 50000.
    #[serde(default = "default_num_traces")]
    pub num_traces: usize,
    /// Accepted for the collector's configs; the buffer sizes itself.
    #[serde(default)]
    pub expected_new_traces_per_sec: usize,
    /// Remembered decisions, for spans that arrive after their trace was decided.
    #[serde(default)]
    pub decision_cache: DecisionCacheConfig,
    /// The most MiB of spans held (each counted at its encoded size plus its bookkeeping); past
    /// it the oldest traces are decided early. Default 256.
    #[serde(default = "default_max_buffer_mib")]
    pub max_buffer_mib: usize,
    /// Write the policy that kept a trace as `sampling.policy` on its spans. Default false.
    #[serde(default)]
    pub record_policy: bool,
    /// The collector's processor-level key: stop at the first policy that samples a trace. The
    /// policies live in the sampler, so it is handed to the sampler (and the shadow) as their
    /// config's `sample_on_first_match`.
    #[serde(default)]
    pub sample_on_first_match: Option<bool>,
    /// The sampler plugin (a tail sampler component): `plugin`, `sha256`, `config`,
    /// `limits`, `keys`, and `on_error` (`drop`, the default, drops the traces of a failed
    /// decision; `pass` keeps them undecided).
    pub sampler: WasmProcessorConfig,
    /// A second sampler that decides on the same traces without affecting what is sent on; the
    /// processor counts how often it disagrees with `sampler` and logs the rate every
    /// `shadow_report_interval`. Its `on_error` is not used: a failed shadow decision is
    /// counted and ignored.
    #[serde(default)]
    pub shadow: Option<WasmProcessorConfig>,
    /// How often the shadow's disagreement rate is logged. Default `1m`.
    #[serde(
        default = "default_shadow_report_interval",
        deserialize_with = "units::duration"
    )]
    pub shadow_report_interval: Duration,
}

/// `processors.tail_sampling.decision_cache`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionCacheConfig {
    /// Kept trace ids remembered. Default 50000 (the collector's default, 0, remembers none).
    pub sampled_cache_size: usize,
    /// Dropped trace ids remembered. Default 50000.
    pub non_sampled_cache_size: usize,
}

impl Default for DecisionCacheConfig {
    fn default() -> Self {
        Self {
            sampled_cache_size: 50_000,
            non_sampled_cache_size: 50_000,
        }
    }
}

fn default_decision_wait() -> Duration {
    Duration::from_secs(30)
}

fn default_num_traces() -> usize {
    50_000
}

fn default_max_buffer_mib() -> usize {
    256
}

fn default_shadow_report_interval() -> Duration {
    Duration::from_secs(60)
}

impl TailSamplingConfig {
    pub(super) fn check(&self) -> Result<(), (String, String)> {
        if self.decision_wait.is_zero() {
            return Err(("decision_wait".into(), "must be more than 0".into()));
        }
        if self.num_traces == 0 {
            return Err(("num_traces".into(), "must be at least 1".into()));
        }
        if self.max_buffer_mib == 0 {
            return Err(("max_buffer_mib".into(), "must be at least 1".into()));
        }
        if self.shadow_report_interval.is_zero() {
            return Err((
                "shadow_report_interval".into(),
                "must be more than 0".into(),
            ));
        }
        for (which, sampler) in [
            ("sampler", Some(&self.sampler)),
            ("shadow", self.shadow.as_ref()),
        ] {
            if sampler.is_some_and(|s| s.pool_size.is_some()) {
                return Err((
                    format!("{which}.pool_size"),
                    "a tail sampler decides one batch of traces at a time; it has no pool".into(),
                ));
            }
            if sampler.is_some_and(|s| s.traps.is_some()) {
                return Err((
                    format!("{which}.traps"),
                    "a tail sampler's failures are handled by its on_error; traps is for wasm \
                     processors"
                        .into(),
                ));
            }
        }
        self.sampler
            .check()
            .map_err(|(field, reason)| (format!("sampler.{field}"), reason))?;
        self.sampler_config_json(&self.sampler)
            .map_err(|reason| ("sampler.config".into(), reason))?;
        if let Some(shadow) = &self.shadow {
            shadow
                .check()
                .map_err(|(field, reason)| (format!("shadow.{field}"), reason))?;
            self.sampler_config_json(shadow)
                .map_err(|reason| ("shadow.config".into(), reason))?;
        }
        Ok(())
    }

    /// The JSON config handed to `sampler` (the active one or the shadow): its `config:` with
    /// the processor's `sample_on_first_match`, if set, added.
    pub fn sampler_config_json(&self, sampler: &WasmProcessorConfig) -> Result<String, String> {
        let Some(first) = self.sample_on_first_match else {
            return sampler.config_json();
        };
        let mut config = match &sampler.config {
            serde_json::Value::Null => serde_json::Value::Object(Default::default()),
            other => other.clone(),
        };
        let Some(map) = config.as_object_mut() else {
            return Err("must be a mapping to take the processor's sample_on_first_match".into());
        };
        match map.get("sample_on_first_match") {
            Some(given) if given != &serde_json::Value::Bool(first) => {
                return Err(format!(
                    "sets sample_on_first_match to {given}, and the processor sets it to {first}: \
                     set it in one place"
                ));
            }
            _ => {
                map.insert("sample_on_first_match".into(), first.into());
            }
        }
        Ok(config.to_string())
    }
}

/// `processors.batch`, as the collector's batch processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchConfig {
    /// Send a batch this long after its first span arrived, full or not. Default `200ms`.
    #[serde(deserialize_with = "units::duration")]
    pub timeout: Duration,
    /// Send as soon as this many spans are waiting. Default 8192.
    pub send_batch_size: usize,
    /// Never send more than this many spans at once; 0 means no cap. Default 0.
    pub send_batch_max_size: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(200),
            send_batch_size: 8192,
            send_batch_max_size: 0,
        }
    }
}

impl BatchConfig {
    pub(super) fn check(&self) -> Result<(), (String, String)> {
        if self.send_batch_size == 0 {
            return Err(("send_batch_size".into(), "must be at least 1".into()));
        }
        if self.send_batch_max_size != 0 && self.send_batch_max_size < self.send_batch_size {
            return Err((
                "send_batch_max_size".into(),
                format!(
                    "{} is smaller than send_batch_size {}",
                    self.send_batch_max_size, self.send_batch_size
                ),
            ));
        }
        if self.timeout.is_zero() {
            return Err(("timeout".into(), "must be more than 0".into()));
        }
        Ok(())
    }
}

/// What happens to a batch when its plugin fails (returns an error, traps, or runs past its
/// deadline). The batch is never passed on half-edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Fail closed: drop the whole batch and count it. The default, and the only safe choice
    /// for masking.
    #[default]
    Drop,
    /// Fail open: pass the batch on unedited.
    Pass,
}

/// `processors.wasm/NAME`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WasmProcessorConfig {
    /// The component file (`.wasm`), relative to the working directory.
    pub plugin: PathBuf,
    /// The component's expected sha256 (hex, optionally prefixed `sha256:`); a mismatch refuses
    /// to start.
    #[serde(default, deserialize_with = "units::optional_text")]
    pub sha256: Option<String>,
    /// `drop` (default) or `pass`.
    #[serde(default)]
    pub on_error: OnError,
    /// Per-call limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Keys for the `keyed-hash` import, by name. Write them as `${env:VAR}`; each must be at
    /// least 16 bytes. They never enter the plugin's memory.
    #[serde(default, deserialize_with = "units::text_map")]
    pub keys: BTreeMap<String, String>,
    /// The plugin's own config, handed to it as JSON.
    #[serde(default)]
    pub config: serde_json::Value,
    /// How many instances serve this processor, so that batches of concurrent requests run
    /// side by side (each instance with its own memory, deadline and trap recovery). Default:
    /// the number of CPU cores. Not for a tail sampler's `sampler:` (one decision at a time).
    #[serde(default)]
    pub pool_size: Option<u32>,
    /// What to do about a plugin that keeps trapping (default: [`TrapsConfig::default`]). Not
    /// for a tail sampler's `sampler:`.
    #[serde(default)]
    pub traps: Option<TrapsConfig>,
}

/// The most instances one processor may have.
pub const MAX_POOL_SIZE: u32 = 256;

impl WasmProcessorConfig {
    /// How many instances serve this processor: `pool_size`, or the number of CPU cores.
    pub fn instances(&self) -> u32 {
        self.pool_size.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get() as u32)
                .min(MAX_POOL_SIZE)
        })
    }

    pub(super) fn check(&self) -> Result<(), (String, String)> {
        if let Some(size) = self.pool_size
            && !(1..=MAX_POOL_SIZE).contains(&size)
        {
            return Err((
                "pool_size".into(),
                format!("{size} is not between 1 and {MAX_POOL_SIZE}"),
            ));
        }
        if let Some(pin) = &self.sha256 {
            let hex = pin.trim().trim_start_matches("sha256:");
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(("sha256".into(), format!("{pin:?} is not 64 hex digits")));
            }
        }
        for (name, key) in &self.keys {
            if key.len() < 16 {
                return Err((
                    format!("keys.{name}"),
                    format!("is {} bytes; a key must be at least 16 bytes", key.len()),
                ));
            }
        }
        self.config_json().map_err(|e| ("config".into(), e))?;
        self.limits.check()
    }

    /// The plugin's config as JSON (`{}` when absent).
    pub fn config_json(&self) -> Result<String, String> {
        if self.config.is_null() {
            return Ok("{}".into());
        }
        serde_json::to_string(&self.config).map_err(|e| format!("cannot be turned into JSON: {e}"))
    }
}

/// `processors.wasm/NAME.limits`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// How long one call may run. Default `100ms`.
    #[serde(deserialize_with = "units::duration")]
    pub deadline: Duration,
    /// The most linear memory an instance may use. Default `64MiB`.
    #[serde(deserialize_with = "units::size")]
    pub memory: usize,
    /// The most bytes of edits one call may record. Default `16MiB`.
    #[serde(deserialize_with = "units::size")]
    pub output: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let limits = crate::runtime::Limits::default();
        Self {
            deadline: limits.deadline,
            memory: limits.memory,
            output: limits.output,
        }
    }
}

impl LimitsConfig {
    fn check(&self) -> Result<(), (String, String)> {
        if self.deadline.is_zero() {
            return Err(("limits.deadline".into(), "must be more than 0".into()));
        }
        if self.memory < (1 << 20) {
            return Err(("limits.memory".into(), "must be at least 1MiB".into()));
        }
        Ok(())
    }

    /// The runtime's form of these limits.
    pub fn to_limits(self) -> crate::runtime::Limits {
        crate::runtime::Limits {
            deadline: self.deadline,
            memory: self.memory,
            output: self.output,
        }
    }
}

/// An exporter block.
#[derive(Debug, Clone)]
pub enum ExporterConfig {
    /// `otlp`: OTLP/gRPC.
    Otlp(OtlpExporterConfig),
    /// `otlphttp`: OTLP/HTTP with protobuf or JSON.
    OtlpHttp(OtlpHttpExporterConfig),
    /// `file`: OTLP-JSON lines.
    File(FileExporterConfig),
    /// `debug`: a summary on stderr.
    Debug(DebugExporterConfig),
}

/// Compression for exporters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// gzip (the default).
    #[default]
    Gzip,
    /// None.
    None,
}

/// `exporters.otlp`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpExporterConfig {
    /// `host:port`, `https://host:port` or `http://host:port` (plain text) of an OTLP/gRPC
    /// server. Without a scheme, TLS unless `tls.insecure` is true.
    pub endpoint: String,
    /// TLS settings.
    #[serde(default)]
    pub tls: ClientTlsConfig,
    /// `gzip` (default) or `none`.
    #[serde(default)]
    pub compression: Compression,
    /// How long one export may take. Default `5s`.
    #[serde(
        default = "default_export_timeout",
        deserialize_with = "units::duration"
    )]
    pub timeout: Duration,
    /// Extra request headers (gRPC metadata).
    #[serde(default, deserialize_with = "units::text_map")]
    pub headers: BTreeMap<String, String>,
    /// Send again what failed for a reason that may pass (the collector's keys and defaults).
    #[serde(default)]
    pub retry_on_failure: RetryConfig,
    /// Hold batches in a bounded queue and send them from worker tasks, so that a slow or down
    /// destination does not hold up the pipeline (the collector's keys and defaults).
    #[serde(default)]
    pub sending_queue: QueueConfig,
}

/// Encoding for the OTLP/HTTP exporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// `application/x-protobuf` (the default).
    #[default]
    Proto,
    /// `application/json`.
    Json,
}

/// `exporters.otlphttp`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpHttpExporterConfig {
    /// Base URL such as `https://collector:4318`; traces go to `/v1/traces` under it.
    pub endpoint: String,
    /// TLS settings for an `https://` URL.
    #[serde(default)]
    pub tls: ClientTlsConfig,
    /// Full URL for traces, overriding `endpoint` + `/v1/traces`.
    #[serde(default)]
    pub traces_endpoint: Option<String>,
    /// `gzip` (default) or `none`.
    #[serde(default)]
    pub compression: Compression,
    /// `proto` (default) or `json`.
    #[serde(default)]
    pub encoding: Encoding,
    /// How long one export may take. Default `5s`.
    #[serde(
        default = "default_export_timeout",
        deserialize_with = "units::duration"
    )]
    pub timeout: Duration,
    /// Extra request headers.
    #[serde(default, deserialize_with = "units::text_map")]
    pub headers: BTreeMap<String, String>,
    /// As for `otlp`.
    #[serde(default)]
    pub retry_on_failure: RetryConfig,
    /// As for `otlp`.
    #[serde(default)]
    pub sending_queue: QueueConfig,
}

/// `retry_on_failure` of the `otlp` and `otlphttp` exporters, with the collector's keys and
/// defaults: after a failure that may pass (gRPC `UNAVAILABLE`, HTTP 503, no connection...),
/// wait `initial_interval`, then `multiplier` times longer each time up to `max_interval`, each
/// wait moved at random by up to `randomization_factor` of itself, and give up once
/// `max_elapsed_time` has passed since the first attempt (`0`: never). A wait the destination
/// asks for (`Retry-After`, gRPC `RetryInfo`) is honoured when longer.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Retry at all. Default `true`.
    pub enabled: bool,
    /// The first wait. Default `5s`.
    #[serde(deserialize_with = "units::duration")]
    pub initial_interval: Duration,
    /// How far each wait may be moved at random, as a fraction of it (0 to 1). Default `0.5`.
    pub randomization_factor: f64,
    /// How much longer each wait is than the one before (at least 1). Default `1.5`.
    pub multiplier: f64,
    /// The longest wait. Default `30s`.
    #[serde(deserialize_with = "units::duration")]
    pub max_interval: Duration,
    /// How long to keep trying a batch, from its first attempt; `0` is without end. Default `300s`.
    #[serde(deserialize_with = "units::duration")]
    pub max_elapsed_time: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            initial_interval: Duration::from_secs(5),
            randomization_factor: 0.5,
            multiplier: 1.5,
            max_interval: Duration::from_secs(30),
            max_elapsed_time: Duration::from_secs(300),
        }
    }
}

impl RetryConfig {
    /// The first key that is out of range, with why.
    pub fn check(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.randomization_factor) {
            return Err(format!(
                "retry_on_failure.randomization_factor: must be between 0 and 1, not {}",
                self.randomization_factor
            ));
        }
        if !(self.multiplier >= 1.0 && self.multiplier.is_finite()) {
            return Err(format!(
                "retry_on_failure.multiplier: must be at least 1, not {}",
                self.multiplier
            ));
        }
        if self.enabled && self.initial_interval.is_zero() {
            return Err("retry_on_failure.initial_interval: must be more than 0".to_owned());
        }
        if self.max_interval < self.initial_interval {
            return Err(format!(
                "retry_on_failure.max_interval: {:?} is shorter than initial_interval {:?}",
                self.max_interval, self.initial_interval
            ));
        }
        Ok(())
    }
}

/// `sending_queue` of the `otlp` and `otlphttp` exporters, with the collector's keys and
/// defaults: up to `queue_size` batches wait in memory, `num_consumers` tasks send them. A full
/// queue refuses the batch, and the receiver tells the client to retry (HTTP 503, gRPC
/// `UNAVAILABLE`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Queue at all; without it, a batch is sent (and retried) while its request waits.
    /// Default `true`.
    pub enabled: bool,
    /// How many batches are sent at once. Default `10`.
    pub num_consumers: usize,
    /// How many batches may wait. Default `1000`.
    pub queue_size: usize,
    /// A directory to keep every waiting batch in, so that a crash or `kill -9` loses none: they
    /// are sent again at the next start. Default: the queue is in memory only.
    pub storage: Option<PathBuf>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            num_consumers: 10,
            queue_size: 1000,
            storage: None,
        }
    }
}

impl QueueConfig {
    /// The first key that is out of range, with why.
    pub fn check(&self) -> Result<(), String> {
        if self.num_consumers == 0 {
            return Err("sending_queue.num_consumers: must be at least 1".to_owned());
        }
        if self.queue_size == 0 {
            return Err("sending_queue.queue_size: must be at least 1".to_owned());
        }
        Ok(())
    }
}

fn default_export_timeout() -> Duration {
    Duration::from_secs(5)
}

/// `exporters.file`: one OTLP-JSON `ExportTraceServiceRequest` per line, as the collector's file
/// exporter writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileExporterConfig {
    /// The file to append to; created if missing.
    pub path: PathBuf,
}

/// Verbosity of the debug exporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Verbosity {
    /// One line per batch.
    #[default]
    Basic,
    /// One line per span.
    Normal,
    /// Every span with its attributes.
    Detailed,
}

/// `exporters.debug`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebugExporterConfig {
    /// `basic` (default), `normal` or `detailed`.
    #[serde(default)]
    pub verbosity: Verbosity,
}

/// `runtime:` (spanwise's own block): settings of the one WebAssembly engine.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// Where compiled components are cached. Default `~/.cache/spanwise/components`; an empty
    /// string turns the cache off. Created private (`0700`); a folder that belongs to another
    /// user or that its group or everyone may write to is refused.
    pub cache_dir: Option<PathBuf>,
    /// The most compiled code the cache keeps; the least recently used files go first. Default
    /// `512MiB`.
    #[serde(deserialize_with = "units::size")]
    pub cache_max_size: usize,
    /// The most memory any plugin's `limits.memory` may ask for. Default `1GiB`.
    #[serde(deserialize_with = "units::size")]
    pub max_memory: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        let settings = crate::runtime::RuntimeSettings::default();
        Self {
            cache_dir: settings.cache_dir,
            cache_max_size: settings.cache_max_size as usize,
            max_memory: settings.max_memory,
        }
    }
}

impl RuntimeConfig {
    /// The runtime's form of these settings.
    pub fn to_settings(&self) -> crate::runtime::RuntimeSettings {
        crate::runtime::RuntimeSettings {
            cache_dir: self
                .cache_dir
                .clone()
                .filter(|dir| !dir.as_os_str().is_empty()),
            cache_max_size: self.cache_max_size as u64,
            max_memory: self.max_memory,
            ..Default::default()
        }
    }
}

/// An extension.
#[derive(Debug, Clone)]
pub enum ExtensionConfig {
    /// `health_check`: an HTTP endpoint that says whether spanwise is serving.
    HealthCheck(HealthCheckConfig),
    /// `bearertokenauth`: the token check receivers name in `auth.authenticator`.
    BearerTokenAuth(BearerTokenAuthConfig),
}

/// `extensions.bearertokenauth`, with the collector's keys: a request must carry
/// `<header>: <scheme> <token>` with one of the tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BearerTokenAuthConfig {
    /// The accepted token, typically `${env:VAR}`.
    #[serde(default)]
    pub token: Option<String>,
    /// Several accepted tokens (for rotation), with or instead of `token`.
    #[serde(default)]
    pub tokens: Vec<String>,
    /// The word before the token. Default `Bearer`; empty means the header is the token.
    #[serde(default = "default_auth_scheme")]
    pub scheme: String,
    /// The header carrying it. Default `authorization`.
    #[serde(default = "default_auth_header")]
    pub header: String,
}

impl BearerTokenAuthConfig {
    /// Every accepted token.
    pub fn all_tokens(&self) -> impl Iterator<Item = &str> {
        self.token.iter().chain(&self.tokens).map(String::as_str)
    }
}

fn default_auth_scheme() -> String {
    "Bearer".to_owned()
}

fn default_auth_header() -> String {
    "authorization".to_owned()
}

/// `extensions.health_check`, with the collector's keys and defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckConfig {
    /// Where to listen. Default `localhost:13133`, the collector's.
    #[serde(default = "default_health_endpoint")]
    pub endpoint: String,
    /// The path answered. Default `/`.
    #[serde(default = "default_health_path")]
    pub path: String,
    /// Answer 503 while exporters keep failing (the collector's keys).
    #[serde(default)]
    pub check_collector_pipeline: PipelineCheckConfig,
}

/// `extensions.health_check.check_collector_pipeline`: unhealthy once the exporters' failed
/// attempts within `interval` exceed `exporter_failure_threshold`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineCheckConfig {
    /// Off by default, as in the collector.
    pub enabled: bool,
    /// The window failures are counted in. Default `5m`.
    #[serde(deserialize_with = "units::duration")]
    pub interval: Duration,
    /// Failed attempts within the window that are still healthy. Default `5`.
    pub exporter_failure_threshold: u64,
}

impl Default for PipelineCheckConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            interval: Duration::from_secs(300),
            exporter_failure_threshold: 5,
        }
    }
}

fn default_health_endpoint() -> String {
    "localhost:13133".to_owned()
}

fn default_health_path() -> String {
    "/".to_owned()
}

/// `processors.wasm/NAME.traps`: a plugin that keeps trapping is left alone for a while, then
/// disabled (see the pipeline's `traps` module).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrapsConfig {
    /// Disable the plugin after this many traps in a row (`0`: never). Default `5`.
    pub disable_after: u32,
    /// The wait after the second trap in a row, doubling after each further one. Default
    /// `100ms`.
    #[serde(deserialize_with = "units::duration")]
    pub backoff: Duration,
    /// The longest wait. Default `10s`.
    #[serde(deserialize_with = "units::duration")]
    pub max_backoff: Duration,
}

impl Default for TrapsConfig {
    fn default() -> Self {
        Self {
            disable_after: 5,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
        }
    }
}
