//! The environment profiles `examples/dev.yaml`, `stage.yaml` and `prod.yaml`: each validates
//! with `spanwise validate` and its summary shows the environment's rates and exporters; stage and
//! prod refuse to start without an HMAC key; and the three stay one pipeline, differing only in
//! the lines marked `# per environment`.

use spanwise_tests::root;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

const HMAC_KEY: &str = "a-profile-test-key-of-32-bytes!!";

/// One plugin folder and compile cache for every run of this file, so each plugin is compiled
/// once: `(plugins, cache)`.
fn shared() -> &'static (PathBuf, PathBuf) {
    static SHARED: OnceLock<(tempfile::TempDir, (PathBuf, PathBuf))> = OnceLock::new();
    let (_, paths) = SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let paths = (
            spanwise_tests::dist_plugins(dir.path()),
            dir.path().join("cache"),
        );
        (dir, paths)
    });
    paths
}

fn validate(profile: &str, key: Option<&str>) -> Output {
    let (plugins, cache) = shared();
    let mut command = Command::new(env!("CARGO_BIN_EXE_spanwise"));
    command
        .args(["validate", "--config"])
        .arg(root().join("examples").join(profile))
        .env("SPANWISE_PLUGINS", plugins)
        .env("SPANWISE_LOG", "warn")
        .env("XDG_CACHE_HOME", cache)
        .env("SPANWISE_OUTPUT", cache.with_file_name("traces.jsonl"))
        .env_remove("SPANWISE_HMAC_KEY");
    for variable in [
        "SPANWISE_HEAD_PERCENTAGE",
        "SPANWISE_ERRORS_PERCENTAGE",
        "SPANWISE_SLOW_PERCENTAGE",
        "SPANWISE_DEFAULT_PERCENTAGE",
        "SPANWISE_JAEGER_ENDPOINT",
    ] {
        command.env_remove(variable);
    }
    if let Some(key) = key {
        command.env("SPANWISE_HMAC_KEY", key);
    }
    command.output().expect("spanwise runs")
}

#[test]
fn each_profile_validates_with_its_environments_rates_and_exporters() {
    // (profile, head %, tail errors / slow / default %, exporters)
    let profiles = [
        ("dev.yaml", 10, [50, 30, 10], ["file", "debug"]),
        ("stage.yaml", 30, [100, 50, 30], ["file", "otlp/jaeger"]),
        ("prod.yaml", 100, [100, 100, 100], ["file", "otlp/jaeger"]),
    ];
    for (profile, head, [errors, slow, default], exporters) in profiles {
        let output = validate(profile, Some(HMAC_KEY));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{profile}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains(": valid"), "{profile}: {stdout}");
        assert!(
            stdout.contains(":8888\n") && stdout.contains("health check on "),
            "{profile}: metrics and health endpoints: {stdout}"
        );
        let processors: Vec<&str> = stdout
            .lines()
            .filter_map(|l| l.trim_start().split_once(". ").map(|(_, rest)| rest))
            .filter_map(|rest| rest.split_whitespace().next())
            .collect();
        assert_eq!(
            processors,
            [
                "memory_limiter",
                "wasm/filter",
                "wasm/head",
                "wasm/redact",
                "wasm/url",
                "tail_sampling",
                "batch"
            ],
            "{profile}: {stdout}"
        );
        assert!(
            stdout.contains(&format!(" sampling_percentage: {head}\n")),
            "{profile}: head sampling at {head}%: {stdout}"
        );
        let rates = format!(
            " rates: [{{name: errors, percentage: {errors}, when: {{status_code: ERROR}}}}, \
             {{name: slow, percentage: {slow}, when: {{latency: {{threshold_ms: 2000}}}}}}, \
             {{name: default, percentage: {default}}}]\n"
        );
        assert!(stdout.contains(&rates), "{profile}: {rates}: {stdout}");
        assert!(
            stdout.contains("redact.wasm") && stdout.contains("on_error drop (fail closed)"),
            "{profile}: masking fails closed: {stdout}"
        );
        assert!(
            !stdout.contains(HMAC_KEY),
            "{profile}: the key is not shown"
        );
        let shown: Vec<&str> = stdout
            .split("  exporters\n")
            .nth(1)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(shown, exporters, "{profile}: {stdout}");
    }
}

#[test]
fn stage_and_prod_refuse_to_start_without_an_hmac_key_and_dev_has_one() {
    for profile in ["stage.yaml", "prod.yaml"] {
        let output = validate(profile, None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{profile} started without a key");
        assert!(
            stderr.contains("processors.wasm/redact.keys.identifiers")
                && stderr.contains("SPANWISE_HMAC_KEY is not set"),
            "{profile}: {stderr}"
        );
    }
    let output = validate("dev.yaml", None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The lines of a profile that are config, not comment, without those marked per environment.
fn shared_lines(profile: &str) -> Vec<String> {
    std::fs::read_to_string(root().join("examples").join(profile))
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .filter(|l| !l.contains("# per environment"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_profiles_differ_only_in_the_lines_marked_per_environment() {
    let dev = shared_lines("dev.yaml");
    assert!(dev.len() > 100, "{} shared lines", dev.len());
    for profile in ["stage.yaml", "prod.yaml"] {
        let other = shared_lines(profile);
        for (n, (a, b)) in dev.iter().zip(&other).enumerate() {
            assert_eq!(a, b, "{profile}: shared line {n} differs from dev.yaml");
        }
        assert_eq!(dev.len(), other.len(), "{profile}: lines added or removed");
    }
}

/// The spanwise side of the migration guide's example (docs/migrating-from-the-collector.md).
#[test]
fn the_migration_guides_spanwise_config_validates() {
    let dir = tempfile::tempdir().unwrap();
    let (plugins, cache) = shared();
    let output = Command::new(env!("CARGO_BIN_EXE_spanwise"))
        .args(["validate", "--config"])
        .arg(root().join("examples/migration/spanwise.yaml"))
        .env("SPANWISE_PLUGINS", plugins)
        .env("SPANWISE_OUTPUT", dir.path().join("traces.jsonl"))
        .env("SPANWISE_HMAC_KEY", HMAC_KEY)
        .env("SPANWISE_LOG", "warn")
        .env("XDG_CACHE_HOME", cache)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for processor in [
        "wasm/noise",
        "wasm/head",
        "wasm/pii",
        "tail_sampling",
        "batch",
    ] {
        assert!(stdout.contains(processor), "{processor}: {stdout}");
    }
}
