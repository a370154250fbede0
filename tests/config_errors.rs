//! `spanwise validate` and `spanwise run` refuse bad configs and bad plugins with an error that
//! names the file, the key and the reason; `--help` works on every command.

use spanwise_tests::binary;
use std::path::Path;
use std::process::{Command, Output};

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

fn refused(config: &Path, key: &str, reason: &str) {
    let output = validate(config);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "accepted a bad config: {stderr}");
    let expected = format!("{}: {key}: ", config.display());
    assert!(
        stderr.contains(&expected),
        "error does not name file and key {expected:?}:\n{stderr}"
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
fn the_shipped_example_validates() {
    let output = Command::new(binary())
        .args(["validate", "--config", "examples/pipeline.yaml"])
        .current_dir(spanwise_tests::root())
        .env("SPANWISE_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn an_unknown_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), &url_processor("    on_eror: drop\n"));
    refused(
        &config,
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
        "processors.wasm/url.plugin",
        "core WebAssembly module",
    );

    let missing = dir.path().join("missing.wasm");
    let config = config_with(
        dir.path(),
        &format!("  wasm/url:\n    plugin: {}\n", missing.display()),
    );
    refused(&config, "processors.wasm/url.plugin", "cannot read plugin");
}

#[test]
fn a_wrong_sha256_pin_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = "0".repeat(64);
    let config = config_with(
        dir.path(),
        &url_processor(&format!("    sha256: {wrong}\n")),
    );
    refused(&config, "processors.wasm/url.sha256", "refusing to load it");

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
    ] {
        let output = Command::new(binary()).args(&args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Usage"),
            "{args:?}"
        );
    }
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
