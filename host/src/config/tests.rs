//! Config loading: the shipped example parses, and every kind of mistake names file and key.

use super::*;

fn parse(yaml: &str) -> Result<Config, ConfigError> {
    Config::parse(yaml, Path::new("test.yaml"), &|name| match name {
        "KEY" => Some("0123456789abcdef0123".into()),
        _ => None,
    })
}

const MINIMAL: &str = "
receivers:
  otlp:
    protocols:
      grpc:
      http:
        endpoint: 127.0.0.1:0
processors:
  batch:
  wasm/url:
    plugin: url.wasm
    on_error: pass
    limits: { deadline: 50ms, memory: 32MiB }
    keys: { patient: '${env:KEY}' }
    config:
      keep_params: [page]
exporters:
  file:
    path: out.jsonl
  debug:
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [wasm/url, batch]
      exporters: [file, debug]
";

#[test]
fn shipped_example_config_parses() {
    let text = include_str!("../../../examples/pipeline.yaml");
    let config = Config::parse(text, Path::new("examples/pipeline.yaml"), &|_| None).unwrap();
    assert!(config.service.pipelines.contains_key("traces"));
}

#[test]
fn minimal_config_parses_with_defaults_and_expansion() {
    let config = parse(MINIMAL).unwrap();
    let ReceiverConfig::Otlp(otlp) = &config.receivers["otlp"];
    assert_eq!(
        otlp.protocols.grpc.as_ref().unwrap().endpoint,
        "127.0.0.1:4317"
    );
    assert_eq!(
        otlp.protocols.http.as_ref().unwrap().endpoint,
        "127.0.0.1:0"
    );
    let ProcessorConfig::Wasm(wasm) = &config.processors["wasm/url"] else {
        panic!()
    };
    assert_eq!(wasm.on_error, OnError::Pass);
    assert_eq!(wasm.limits.deadline, Duration::from_millis(50));
    assert_eq!(wasm.keys["patient"], "0123456789abcdef0123");
    assert_eq!(wasm.config_json().unwrap(), r#"{"keep_params":["page"]}"#);
    let ProcessorConfig::Batch(batch) = &config.processors["batch"] else {
        panic!()
    };
    assert_eq!(batch.send_batch_size, 8192);
}

use std::time::Duration;

fn error_of(yaml: &str) -> ConfigError {
    parse(yaml).unwrap_err()
}

#[test]
fn unknown_keys_are_named_with_their_path() {
    let e = error_of(&MINIMAL.replace("on_error: pass", "on_eror: pass"));
    assert_eq!(e.key, "processors.wasm/url.on_eror");
    assert!(e.reason.contains("unknown field `on_eror`"), "{e}");
    assert_eq!(e.file, Path::new("test.yaml"));

    let e = error_of(&MINIMAL.replace(
        "endpoint: 127.0.0.1:0",
        "endpoint: 127.0.0.1:0\n        max_body: 5",
    ));
    assert_eq!(e.key, "receivers.otlp.protocols.http.max_body");
    assert!(e.reason.contains("max_body"), "{e}");
}

#[test]
fn bad_values_are_named_with_their_path() {
    let e = error_of(&MINIMAL.replace("on_error: pass", "on_error: maybe"));
    assert_eq!(e.key, "processors.wasm/url.on_error");
    let e = error_of(&MINIMAL.replace("deadline: 50ms", "deadline: 50"));
    assert_eq!(e.key, "processors.wasm/url.limits.deadline");
    assert!(e.reason.contains("no unit"), "{e}");
    let e = error_of(&MINIMAL.replace("${env:KEY}", "${env:NO_SUCH_KEY}"));
    assert_eq!(e.key, "processors.wasm/url.keys.patient");
    let e = error_of(&MINIMAL.replace("${env:KEY}", "short"));
    assert_eq!(e.key, "processors.wasm/url.keys.patient");
    let e = error_of(&MINIMAL.replace("plugin: url.wasm", "plugin: url.wasm\n    sha256: abc"));
    assert_eq!(e.key, "processors.wasm/url.sha256");
}

#[test]
fn pipelines_must_refer_to_defined_components() {
    let e = error_of(&MINIMAL.replace("processors: [wasm/url, batch]", "processors: [wasm/nope]"));
    assert_eq!(e.key, "service.pipelines.traces.processors[0]");
    assert!(e.reason.contains("wasm/nope"), "{e}");
    let e = error_of(&MINIMAL.replace("    traces:\n", "    metrics:\n"));
    assert_eq!(e.key, "service.pipelines.metrics");
    let e = error_of(&MINIMAL.replace("  file:\n", "  kafka:\n"));
    assert_eq!(e.key, "exporters.kafka");
}

#[test]
fn unknown_top_level_keys_and_bad_yaml_are_errors() {
    let e = error_of(&format!("{MINIMAL}\nconnectors: {{}}\n"));
    assert!(e.reason.contains("unknown field `connectors`"), "{e}");
    let e = error_of("receivers: [");
    assert!(e.reason.contains("not valid YAML"), "{e}");
}

#[test]
fn pool_size_defaults_to_the_cores_is_bounded_and_sizes_the_runtime() {
    let config = parse(MINIMAL).unwrap();
    let ProcessorConfig::Wasm(wasm) = &config.processors["wasm/url"] else {
        panic!()
    };
    let cores = std::thread::available_parallelism().unwrap().get() as u32;
    assert_eq!(wasm.pool_size, None);
    assert_eq!(wasm.instances(), cores.min(MAX_POOL_SIZE));

    let config =
        parse(&MINIMAL.replace("on_error: pass", "on_error: pass\n    pool_size: 200")).unwrap();
    let ProcessorConfig::Wasm(wasm) = &config.processors["wasm/url"] else {
        panic!()
    };
    assert_eq!(wasm.instances(), 200);
    assert_eq!(
        config.runtime_settings().max_instances,
        400,
        "room for every instance twice over"
    );

    for bad in ["0", "257"] {
        let e = error_of(&MINIMAL.replace(
            "on_error: pass",
            &format!("on_error: pass\n    pool_size: {bad}"),
        ));
        assert_eq!(e.key, "processors.wasm/url.pool_size");
        assert!(e.reason.contains("between 1 and 256"), "{e}");
    }
}

#[test]
fn a_tail_sampler_has_no_pool() {
    let tail = MINIMAL.replace(
        "  batch:\n",
        "  batch:\n  tail_sampling:\n    sampler:\n      plugin: tail_sampler.wasm\n      pool_size: 2\n",
    );
    let e = error_of(&tail);
    assert_eq!(e.key, "processors.tail_sampling.sampler.pool_size");
    assert!(e.reason.contains("one batch of traces at a time"), "{e}");
    let config = parse(&tail.replace("      pool_size: 2\n", "")).unwrap();
    let ProcessorConfig::TailSampling(tail) = &config.processors["tail_sampling"] else {
        panic!()
    };
    assert_eq!(tail.sampler.plugin, Path::new("tail_sampler.wasm"));
}

#[test]
fn memory_limiter_limits_follow_the_collector() {
    let limiter = |block: &str| -> Result<(u64, u64), ConfigError> {
        let yaml = MINIMAL.replace(
            "  batch:\n",
            &format!("  batch:\n  memory_limiter: {block}\n"),
        );
        let config = parse(&yaml)?;
        let ProcessorConfig::MemoryLimiter(limiter) = &config.processors["memory_limiter"] else {
            panic!("not a memory_limiter")
        };
        Ok(limiter.limits(Some(8 << 30)).unwrap())
    };
    const MIB: u64 = 1 << 20;
    // The spike allowance defaults to a fifth of the limit.
    assert_eq!(
        limiter("{ check_interval: 1s, limit_mib: 1000 }").unwrap(),
        (800 * MIB, 1000 * MIB)
    );
    assert_eq!(
        limiter("{ check_interval: 1s, limit_mib: 1000, spike_limit_mib: 100 }").unwrap(),
        (900 * MIB, 1000 * MIB)
    );
    for (block, key, reason) in [
        (
            "{ check_interval: 1s }",
            "limit_mib",
            "set limit_mib or limit_percentage",
        ),
        (
            "{ check_interval: 0s, limit_mib: 100 }",
            "check_interval",
            "greater than zero",
        ),
        ("{ limit_mib: 100 }", "memory_limiter", "check_interval"),
        (
            "{ check_interval: 1s, limit_mib: 100, spike_limit_mib: 100 }",
            "spike_limit_mib",
            "must be less than limit_mib",
        ),
        (
            "{ check_interval: 1s, limit_percentage: 120 }",
            "limit_percentage",
            "at most 100",
        ),
        (
            "{ check_interval: 1s, limit_mb: 100 }",
            "limit_mb",
            "unknown field",
        ),
    ] {
        let error = limiter(block).expect_err(block).to_string();
        assert!(
            error.contains(key) && error.contains(reason),
            "{block}: {error}"
        );
    }
}

#[test]
fn two_exporters_cannot_share_a_queue_directory() {
    let yaml = MINIMAL.replace(
        "  debug:\n",
        "  debug:\n  otlp/a: { endpoint: 'http://a:4317', sending_queue: { storage: /var/q } }\n  otlp/b: { endpoint: 'http://b:4317', sending_queue: { storage: /var/q } }\n",
    );
    let e = error_of(&yaml);
    assert_eq!(e.key, "exporters.otlp/b.sending_queue.storage");
    assert!(
        e.reason.contains("already the storage of exporters.otlp/a"),
        "{e}"
    );
}
