//! `spanwise validate` and `spanwise run` refuse bad configs and bad plugins with an error that
//! names the file, the key and the reason; `--help` works on every command.

use std::path::Path;
use std::process::{Command, Output};

/// The `spanwise` binary of this build (cargo builds it for the package's integration tests).
fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_spanwise")
}

fn config_with(dir: &Path, processor: &str) -> std::path::PathBuf {
    let path = dir.join("spanwise.yaml");
    std::fs::write(
        &path,
        format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:0" }}
processors:
{processor}
exporters:
  debug:
runtime: {{ cache_dir: {cache} }}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [wasm/url]
      exporters: [debug]
"#,
            cache = dir.join("cache").display()
        ),
    )
    .unwrap();
    path
}

fn url_processor(extra: &str) -> String {
    format!(
        "  wasm/url:\n    plugin: {}\n{extra}",
        spanwise_tests::plugin("url").display()
    )
}

fn validate(config: &Path) -> Output {
    Command::new(binary())
        .args(["validate", "--config"])
        .arg(config)
        .env("SPANWISE_LOG", "warn")
        .output()
        .expect("spanwise runs")
}

/// `validate` refuses `config` with `error: FILE:LINE:COLUMN: KEY: ...REASON...`.
fn refused(config: &Path, (line, column): (usize, usize), key: &str, reason: &str) {
    let output = validate(config);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "accepted a bad config: {stderr}");
    let expected = format!("error: {}:{line}:{column}: {key}: ", config.display());
    assert!(
        stderr.contains(&expected),
        "error does not name file, position and key {expected:?}:\n{stderr}"
    );
    assert!(
        stderr.contains(reason),
        "error does not say {reason:?}:\n{stderr}"
    );
}

#[test]
fn a_valid_config_validates() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        &url_processor("    config: { keep_params: [page] }\n"),
    );
    let output = validate(&config);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("valid"));
}

#[test]
fn the_shipped_examples_validate() {
    let dir = tempfile::tempdir().unwrap();
    for example in [
        "examples/pipeline.yaml",
        "examples/tail-sampling.yaml",
        "benches/load/pass-through.yaml",
        "benches/load/platform.yaml",
    ] {
        let output = Command::new(binary())
            .args(["validate", "--config", example])
            .current_dir(spanwise_tests::root())
            .env("SPANWISE_PLUGINS", spanwise_tests::dist_plugins(dir.path()))
            .env("SPANWISE_OUTPUT", dir.path().join("traces.jsonl"))
            .env("SPANWISE_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{example}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn an_unknown_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), &url_processor("    on_eror: drop\n"));
    refused(
        &config,
        (9, 5),
        "processors.wasm/url.on_eror",
        "unknown field `on_eror`",
    );
}

#[test]
fn a_file_that_is_not_a_component_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("text.wasm");
    std::fs::write(&text, "this is not wasm").unwrap();
    let config = config_with(
        dir.path(),
        &format!("  wasm/url:\n    plugin: {}\n", text.display()),
    );
    refused(
        &config,
        (8, 5),
        "processors.wasm/url.plugin",
        "is not a WebAssembly component",
    );

    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let config = config_with(
        dir.path(),
        &format!("  wasm/url:\n    plugin: {}\n", core.display()),
    );
    refused(
        &config,
        (8, 5),
        "processors.wasm/url.plugin",
        "core WebAssembly module",
    );

    let missing = dir.path().join("missing.wasm");
    let config = config_with(
        dir.path(),
        &format!("  wasm/url:\n    plugin: {}\n", missing.display()),
    );
    refused(
        &config,
        (8, 5),
        "processors.wasm/url.plugin",
        "cannot read plugin",
    );
}

#[test]
fn a_wrong_sha256_pin_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = "ab".repeat(32);
    let config = config_with(
        dir.path(),
        &url_processor(&format!("    sha256: {wrong}\n")),
    );
    refused(
        &config,
        (9, 5),
        "processors.wasm/url.sha256",
        "refusing to load it",
    );

    let bytes = std::fs::read(spanwise_tests::plugin("url")).unwrap();
    let right = sha256_hex(&bytes);
    let config = config_with(
        dir.path(),
        &url_processor(&format!("    sha256: sha256:{right}\n")),
    );
    let output = validate(&config);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn plugin_config_errors_name_the_field_inside_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        &url_processor("    config: { max_length: long }\n"),
    );
    refused(
        &config,
        (9, 15),
        "processors.wasm/url.config.max_length",
        "invalid type",
    );
}

#[test]
fn an_unset_variable_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        &url_processor("    keys: { patient: '${env:SPANWISE_TEST_UNSET_KEY}' }\n"),
    );
    refused(
        &config,
        (9, 13),
        "processors.wasm/url.keys.patient",
        "SPANWISE_TEST_UNSET_KEY is not set",
    );
}

#[test]
fn run_refuses_a_bad_config_too() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), &url_processor("    limits: { deadline: 5 }\n"));
    let output = Command::new(binary())
        .args(["run", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("processors.wasm/url.limits.deadline"),
        "{stderr}"
    );
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["validate", "--help"],
        vec!["demo", "--help"],
        vec!["gen", "--help"],
    ] {
        let output = Command::new(binary()).args(&args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[test]
fn the_demo_reports_each_processor_with_its_warm_up_apart() {
    let dir = tempfile::tempdir().unwrap();
    let output_file = dir.path().join("demo.jsonl");
    let output = Command::new(binary())
        .args(["demo", "--config", "examples/pipeline.yaml", "--output"])
        .arg(&output_file)
        .current_dir(spanwise_tests::root())
        .env("SPANWISE_PLUGINS", spanwise_tests::dist_plugins(dir.path()))
        .env("SPANWISE_LOG", "warn")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    for processor in ["wasm/redact", "wasm/url"] {
        let line = report
            .lines()
            .find(|l| l.trim_start().starts_with(processor))
            .unwrap_or_else(|| panic!("no line for {processor}: {report}"));
        // Several batches through one instance: later calls and the first, apart.
        assert!(
            line.contains("µs per call after the first (")
                && line.contains("µs for the first, warming the instance up)"),
            "{line}"
        );
    }
    assert!(
        report.contains("spans sent 11, spans written 11"),
        "{report}"
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    // The digest as `sha256sum` prints it, to pin the plugin the way a platform engineer would.
    let output = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(bytes)?;
            child.wait_with_output()
        })
        .expect("sha256sum runs");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// A config whose OTLP receiver listens on `grpc` and `http`, with the debug exporter only.
fn config_listening(dir: &Path, grpc: &str, http: &str) -> std::path::PathBuf {
    let path = dir.join("endpoints.yaml");
    std::fs::write(
        &path,
        format!(
            "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: {grpc}\n      http:\n        endpoint: {http}\nexporters:\n  debug:\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn validate_checks_endpoints_as_run_does() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_listening(dir.path(), "\"127.0.0.1:0\"", "\"localhost\"");
    refused(
        &config,
        (7, 9),
        "receivers.otlp.protocols.http.endpoint",
        "has no port",
    );
    let config = config_listening(dir.path(), "\"::1:4317\"", "\"127.0.0.1:0\"");
    refused(
        &config,
        (5, 9),
        "receivers.otlp.protocols.grpc.endpoint",
        "put an IPv6 address in brackets",
    );
    let config = config_listening(dir.path(), "\"[::1]:0\"", "\"localhost:0\"");
    let output = validate(&config);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("otlp             grpc on [::1]:0, http on 127.0.0.1:0"),
        "{stdout}"
    );
}

#[test]
fn run_listens_on_endpoints_written_as_collector_configs_write_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_listening(dir.path(), "\"[::1]:0\"", "localhost:0");
    let spanwise = spanwise_tests::Spanwise::start(Path::new(binary()), &config);
    assert_eq!(
        spanwise.grpc.ip(),
        "::1".parse::<std::net::IpAddr>().unwrap()
    );
    assert!(spanwise.http.ip().is_loopback(), "{}", spanwise.http);
    assert!(
        std::net::TcpStream::connect(spanwise.http).is_ok(),
        "the HTTP receiver accepts connections on {}",
        spanwise.http
    );
    spanwise.stop();
}

#[test]
fn a_port_in_use_is_reported_once_with_the_key() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let config = config_listening(
        dir.path(),
        "\"127.0.0.1:0\"",
        &format!("\"localhost:{port}\""),
    );
    let output = Command::new(binary())
        .args(["run", "--config"])
        .arg(&config)
        .env("SPANWISE_LOG", "warn")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("receivers.otlp.protocols.http.endpoint: cannot listen on"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("in use").count(),
        1,
        "the reason is said once:\n{stderr}"
    );
}

#[test]
fn a_plugin_that_traps_in_configure_is_refused_naming_the_processor() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        &format!(
            "  wasm/url:\n    plugin: {}\n    config: {{ panic_in_configure: true }}\n",
            spanwise_tests::guest("misbehave").display()
        ),
    );
    refused(&config, (7, 3), "processors.wasm/url", "configure trapped");
}

#[test]
fn a_cache_folder_others_can_write_to_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), &url_processor(""));
    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    refused(&config, (12, 12), "runtime.cache_dir", "chmod 700");
}

#[test]
fn yaml_that_does_not_parse_is_placed() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("broken.yaml");
    std::fs::write(
        &config,
        "receivers:\n  otlp:\n    protocols: [grpc\nservice: {}\n",
    )
    .unwrap();
    let output = validate(&config);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!("error: {}:4:", config.display())),
        "{stderr}"
    );
    assert!(stderr.contains("not valid YAML"), "{stderr}");
}

#[test]
fn retry_and_queue_settings_out_of_range_are_named() {
    let dir = tempfile::tempdir().unwrap();
    for (settings, reason) in [
        (
            "retry_on_failure: { multiplier: 0.5 }",
            "retry_on_failure.multiplier: must be at least 1, not 0.5",
        ),
        (
            "retry_on_failure: { randomization_factor: 2 }",
            "retry_on_failure.randomization_factor: must be between 0 and 1",
        ),
        (
            "retry_on_failure: { initial_interval: 1m, max_interval: 10s }",
            "retry_on_failure.max_interval: 10s is shorter than initial_interval 60s",
        ),
        (
            "sending_queue: { num_consumers: 0 }",
            "sending_queue.num_consumers: must be at least 1",
        ),
        (
            "sending_queue: { queue_sise: 10 }",
            "unknown field `queue_sise`",
        ),
    ] {
        let path = dir.path().join("exporter.yaml");
        std::fs::write(
            &path,
            format!(
                "receivers:\n  otlp:\n    protocols:\n      http: {{ endpoint: \"127.0.0.1:0\" }}\n\
                 exporters:\n  otlp:\n    endpoint: 127.0.0.1:4317\n    {settings}\n\
                 service:\n  pipelines:\n    traces: {{ receivers: [otlp], exporters: [otlp] }}\n"
            ),
        )
        .unwrap();
        let output = validate(&path);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{settings} accepted");
        assert!(
            stderr.contains("exporters.otlp") && stderr.contains(reason),
            "{settings}: {stderr}"
        );
    }
}
