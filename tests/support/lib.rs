//! Helpers shared by the integration tests: where the built components are, a runtime with a
//! private cache, the service in this process on loopback port 0, and a `spanwise run` child
//! process on free loopback ports.

pub mod pki;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// The plugin `name` (`url`, ...) as a component, built by `spanwise-test-components`.
pub fn plugin(name: &str) -> PathBuf {
    spanwise_test_components::path(name)
}

/// The test-only guest `name` (`misbehave`, `noop`, ...) as a component.
pub fn guest(name: &str) -> PathBuf {
    spanwise_test_components::path(name)
}

/// A folder laid out as `make plugins` lays out `dist/plugins` (`url.wasm`, ...), holding links
/// to the freshly built plugins, made inside `dir`: what `SPANWISE_PLUGINS` points the shipped
/// example configs at.
pub fn dist_plugins(dir: &Path) -> PathBuf {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("a temporary folder is writable");
    for (name, path) in spanwise_test_components::plugins() {
        let link = plugins.join(format!("{name}.wasm"));
        if !link.exists() {
            std::os::unix::fs::symlink(&path, &link).expect("a link to a built plugin");
        }
    }
    plugins
}

/// A runtime with its cache in a fresh temporary folder.
pub fn runtime(cache: &Path) -> spanwise::runtime::Runtime {
    spanwise::runtime::Runtime::new(spanwise::runtime::RuntimeSettings {
        cache_dir: Some(cache.to_owned()),
        ..Default::default()
    })
    .expect("the engine starts")
}

/// A configured instance of a component, with its counters and the runtime (and private
/// cache) it came from.
pub struct Loaded {
    /// The instance.
    pub instance: spanwise::runtime::PluginInstance,
    /// The counters the plugin adds to.
    pub counters: std::sync::Arc<spanwise::telemetry::Counters>,
    _runtime: spanwise::runtime::Runtime,
    _cache: tempfile::TempDir,
}

/// Load component `name` (a plugin or a test guest) in a fresh runtime and configure an
/// instance of it with `config` (JSON) and default limits, as processor `wasm/NAME`.
pub fn load(name: &str, config: &str) -> Loaded {
    let cache = tempfile::tempdir().expect("a temporary folder");
    let runtime = runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_test_components::path(name), None)
        .unwrap_or_else(|e| panic!("{name} loads: {e}"));
    let context = std::sync::Arc::new(spanwise::runtime::PluginContext::new(&format!(
        "wasm/{name}"
    )));
    let counters = context.counters.clone();
    let instance = plugin
        .instantiate(context, spanwise::runtime::Limits::default(), config)
        .unwrap_or_else(|e| panic!("{name} accepts {config}: {e}"));
    Loaded {
        instance,
        counters,
        _runtime: runtime,
        _cache: cache,
    }
}

/// What a plugin made of one batch as a `.wasm` component and as its native build: each
/// side's batch and counters.
pub struct BothBuilds {
    /// The batch after the `.wasm` component's call.
    pub wasm: spanwise_batch::Batch,
    /// The counters the component added to.
    pub wasm_counters: std::collections::BTreeMap<String, u64>,
    /// The batch after the native build's call.
    pub native: spanwise_batch::Batch,
    /// The counters the native build added to.
    pub native_counters: std::collections::BTreeMap<String, u64>,
}

/// Run plugin `name` configured with `config` on a copy of `batch` as a `.wasm` component
/// (see [`load`]) and as the native processor `P` (through the SDK's native host).
pub fn both_builds<P: spanwise_sdk::Processor>(
    name: &str,
    config: &str,
    batch: &spanwise_batch::Batch,
) -> BothBuilds {
    let mut loaded = load(name, config);
    let mut wasm = batch.clone();
    loaded
        .instance
        .process(&mut wasm)
        .unwrap_or_else(|e| panic!("{name} as WebAssembly: {e}"));

    spanwise_sdk::native::take_counters();
    let mut processor = P::configure(config).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut native = batch.clone();
    spanwise_sdk::native::process(&mut processor, &mut native)
        .unwrap_or_else(|e| panic!("{name} natively: {e}"));
    BothBuilds {
        wasm,
        wasm_counters: loaded.counters.snapshot(),
        native,
        native_counters: spanwise_sdk::native::take_counters(),
    }
}

/// A `spanwise run` child process, killed when dropped.
pub struct Spanwise {
    child: Option<Child>,
    /// The OTLP/gRPC address it listens on.
    pub grpc: SocketAddr,
    /// The OTLP/HTTP address it listens on.
    pub http: SocketAddr,
    log: mpsc::Receiver<String>,
}

impl Spanwise {
    /// Start `BINARY run --config CONFIG` (the `spanwise` binary of the test's own build, which
    /// cargo names in `CARGO_BIN_EXE_spanwise`), whose receivers listen on port 0, and wait (at
    /// most 60 s) until both are listening.
    pub fn start(binary: &Path, config: &Path) -> Self {
        Self::start_with(binary, config, &[])
    }

    /// [`Spanwise::start`] with environment variables set for the child (the shipped example
    /// configs read their endpoints, plugins, keys and output file from the environment).
    pub fn start_with(binary: &Path, config: &Path, env: &[(&str, &std::ffi::OsStr)]) -> Self {
        let mut command = Command::new(binary);
        command
            .args(["run", "--config"])
            .arg(config)
            .env("SPANWISE_LOG", "info");
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spanwise starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (send, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[spanwise] {line}");
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut spanwise = Self {
            child: Some(child),
            grpc: SocketAddr::from(([0, 0, 0, 0], 0)),
            http: SocketAddr::from(([0, 0, 0, 0], 0)),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let (mut grpc, mut http) = (None, None);
        while grpc.is_none() || http.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = spanwise
                .log
                .recv_timeout(left)
                .expect("spanwise did not start listening within 60 s");
            let address = line
                .split_whitespace()
                .find_map(|word| word.strip_prefix("address="))
                .and_then(|a| a.parse::<SocketAddr>().ok());
            if line.contains("OTLP/gRPC receiver listening") {
                grpc = address;
            } else if line.contains("OTLP/HTTP receiver listening") {
                http = address;
            }
        }
        spanwise.grpc = grpc.expect("checked above");
        spanwise.http = http.expect("checked above");
        spanwise
    }

    /// Send signal `name` (`HUP`, ...) to the process.
    pub fn signal(&self, name: &str) {
        let child = self.child.as_ref().expect("running");
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Wait (at most `within`) for a log line containing `needle`, and return it; lines before it
    /// are passed over.
    pub fn wait_for_log(&self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line with {needle:?} within {within:?}"),
            }
        }
    }

    /// Send SIGTERM and wait (at most 30 s) for a clean exit; returns the log lines after it.
    pub fn stop(mut self) -> Vec<String> {
        let mut child = self.child.take().expect("running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("wait works") {
                assert!(status.success(), "spanwise exited with {status}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "spanwise did not stop within 30 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(50));
        self.log.try_iter().collect()
    }
}

impl Drop for Spanwise {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A pipeline config with one `tail_sampling` processor (`decision_wait: 1h`, `record_policy`,
/// then the `extra` lines) whose sampler is `plugin` with `sampler_config` (lines under its
/// `config:`, or empty), exporting to `dir/traces.jsonl`.
pub fn tail_config(
    dir: &Path,
    plugin: &Path,
    sampler_config: &str,
    extra: &str,
) -> spanwise::config::Config {
    let config = if sampler_config.is_empty() {
        String::new()
    } else {
        format!("      config:\n{sampler_config}")
    };
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:0" }}
processors:
  tail_sampling:
    decision_wait: 1h
    record_policy: true
{extra}
    sampler:
      plugin: {plugin}
{config}
exporters:
  file: {{ path: {out} }}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [tail_sampling]
      exporters: [file]
"#,
        plugin = plugin.display(),
        out = dir.join("traces.jsonl").display(),
    );
    spanwise::config::Config::parse(&yaml, Path::new("tail.yaml"), &|_| None)
        .expect("a valid config")
}

/// The spans of an export request.
pub fn span_count(
    request: &opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest,
) -> usize {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

/// Read an OTLP-JSON lines file written by the file exporter.
pub fn read_jsonl(
    path: &Path,
) -> Vec<opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|line| serde_json::from_str(line).expect("each line is an OTLP-JSON request"))
        .collect()
}

/// An address on 127.0.0.1 with nothing listening: a port that was free a moment ago, for a
/// destination that is down (or not up yet).
pub fn free_address() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
}

/// The names of the spans of an OTLP-JSON lines file, in the file's order (empty when the file
/// does not exist yet).
pub fn span_names(path: &Path) -> Vec<String> {
    read_jsonl(path)
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| s.name.clone())
        .collect()
}

/// [`span_names`], sorted.
pub fn sorted_span_names(path: &Path) -> Vec<String> {
    let mut names = span_names(path);
    names.sort();
    names
}

/// The spans of an OTLP-JSON lines file, by trace id (lowercase hex).
pub fn spans_by_trace(
    path: &Path,
) -> std::collections::BTreeMap<String, Vec<opentelemetry_proto::tonic::trace::v1::Span>> {
    let mut traces: std::collections::BTreeMap<String, Vec<_>> = Default::default();
    for span in read_jsonl(path)
        .into_iter()
        .flat_map(|r| r.resource_spans)
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
    {
        traces.entry(hex(&span.trace_id)).or_default().push(span);
    }
    traces
}

/// The randomness OpenTelemetry's consistent sampling reads from a trace id given in hex: its
/// low 56 bits.
pub fn trace_randomness(trace_id_hex: &str) -> u64 {
    u64::from_str_radix(&trace_id_hex[18..], 16).expect("a trace id of 32 hex digits")
}

/// `bytes` in lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The string value of `span`'s attribute `key`, if it has one.
pub fn string_attribute(
    span: &opentelemetry_proto::tonic::trace::v1::Span,
    key: &str,
) -> Option<String> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.clone()),
            _ => None,
        })
}

/// The Python with the OpenTelemetry SDK: `SPANWISE_PYTHON`, else `make setup`'s `.venv`, else
/// `python3`.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("SPANWISE_PYTHON") {
        return python.into();
    }
    let venv = root().join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// Start the service of config `yaml` in this process (it must listen on port 0).
pub async fn start_service(yaml: &str, name: &str) -> spanwise::service::Running {
    let config = spanwise::config::Config::parse(yaml, Path::new(name), &|_| None)
        .expect("the test config is valid");
    spanwise::service::start(&config)
        .await
        .expect("the service starts")
}

/// The address a running service listens on for `protocol` (`grpc` or `http`).
pub fn address(running: &spanwise::service::Running, protocol: &str) -> SocketAddr {
    running
        .listeners()
        .iter()
        .find(|l| l.protocol == protocol)
        .unwrap_or_else(|| panic!("no {protocol} listener"))
        .address
}
