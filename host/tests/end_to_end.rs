//! `spanwise run` as a separate process on free loopback ports, fed by the real OpenTelemetry
//! SDKs (Python: OTLP/HTTP protobuf and OTLP/gRPC; Node.js: OTLP/HTTP JSON and OTLP/gRPC),
//! stopped with SIGTERM; the file exporter's output is checked span by span.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use spanwise_tests::string_attribute as string;
use spanwise_tests::{Spanwise, hex, python, read_jsonl, root, spans_by_trace};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const REQUESTS: usize = 5;

/// A real OpenTelemetry SDK, run as its own process.
#[derive(Clone, Copy)]
enum Client {
    Python,
    Node,
}

/// Fail at once, in one line, when `make setup` has not installed the client's SDK.
fn require_installed(client: Client) {
    let installed = match client {
        Client::Python => Command::new(python())
            .args(["-c", "import opentelemetry.exporter.otlp.proto.grpc.trace_exporter, opentelemetry.exporter.otlp.proto.http.trace_exporter"])
            .output()
            .is_ok_and(|o| o.status.success()),
        Client::Node => root()
            .join("tests/e2e/node_modules/@opentelemetry/sdk-node")
            .exists(),
    };
    let what = match client {
        Client::Python => "the Python OpenTelemetry SDK and OTLP exporters (in .venv)",
        Client::Node => "the Node.js OpenTelemetry SDK (in tests/e2e/node_modules)",
    };
    assert!(installed, "{what} is not installed: run `make setup`");
}

fn send(client: Client, protocol: &str, endpoint: &str, prefix: &str) {
    let mut command = match client {
        Client::Python => {
            let mut c = Command::new(python());
            c.arg(root().join("tests/e2e/send_spans.py"));
            c
        }
        Client::Node => {
            let mut c = Command::new("node");
            c.arg(root().join("tests/e2e/send_spans.js"));
            c
        }
    };
    let output = command
        .args([protocol, endpoint, prefix, &REQUESTS.to_string()])
        .output()
        .expect("the client runs (make setup installs the OTLP clients)");
    assert!(
        output.status.success(),
        "the {prefix} client failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Run the Python client `tests/e2e/SCRIPT` with `args` and return what it printed; fails the
/// test, with the client's stderr, if it fails.
fn python_client(script: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(python())
        .arg(root().join("tests/e2e").join(script))
        .args(args)
        .output()
        .expect("the client runs");
    assert!(
        out.status.success(),
        "{script} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Write `dir/spanwise.yaml`: OTLP in on free loopback ports, `processors` (YAML lines under
/// `processors:`) and then a batch processor that holds everything until shutdown (so the test
/// checks the flush on SIGTERM), out to `dir/traces.jsonl`.
fn pipeline(dir: &Path, processors: &str, names: &str) -> PathBuf {
    let config = dir.join("spanwise.yaml");
    let text = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:0" }}
      http: {{ endpoint: "127.0.0.1:0" }}
processors:
{processors}
  batch: {{ timeout: 1h }}
exporters:
  file: {{ path: {output} }}
runtime: {{ cache_dir: {cache} }}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [{names}, batch]
      exporters: [file]
"#,
        output = dir.join("traces.jsonl").display(),
        cache = dir.join("cache").display(),
    );
    std::fs::write(&config, text).unwrap();
    config
}

#[test]
fn python_sdk_spans_over_http_and_grpc_come_out_cleaned_span_by_span() {
    run_clients(Client::Python, "python");
}

#[test]
fn node_sdk_spans_over_http_json_and_grpc_come_out_cleaned_span_by_span() {
    run_clients(Client::Node, "node");
}

fn run_clients(client: Client, name: &str) {
    require_installed(client);
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("traces.jsonl");
    let config = pipeline(
        dir.path(),
        &format!(
            "  wasm/url:
    plugin: {}
    config: {{ keep_params: [page], collapse_ids: true, span_names: true }}",
            spanwise_tests::plugin("url").display()
        ),
        "wasm/url",
    );

    let spanwise = Spanwise::start(Path::new(env!("CARGO_BIN_EXE_spanwise")), &config);
    let (http, grpc) = (format!("{name}-http"), format!("{name}-grpc"));
    send(
        client,
        "http",
        &format!("http://{}/v1/traces", spanwise.http),
        &http,
    );
    send(client, "grpc", &format!("http://{}", spanwise.grpc), &grpc);
    assert!(
        read_jsonl(&output).is_empty(),
        "the batch processor still holds every span"
    );
    let log = spanwise.stop();
    assert!(
        log.iter().any(|l| l.contains("stopped")),
        "clean shutdown: {log:?}"
    );
    let summary = "wasm/url: batches=";
    let spans_in = format!("spans_in={}", 4 * REQUESTS);
    assert!(
        log.iter()
            .any(|l| l.contains(summary) && l.contains(&spans_in)),
        "the shutdown summary counts every span: {log:?}"
    );

    let requests = read_jsonl(&output);
    let mut spans: BTreeMap<String, (String, Span)> = BTreeMap::new();
    for request in &requests {
        for resource in &request.resource_spans {
            let service = resource
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
                .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                    Value::StringValue(s) => Some(s.clone()),
                    _ => None,
                })
                .expect("every resource keeps its service.name");
            for span in resource.scope_spans.iter().flat_map(|s| &s.spans) {
                let key = format!("{service} {} {}", hex(&span.span_id), span.name);
                assert!(
                    spans
                        .insert(key.clone(), (service.clone(), span.clone()))
                        .is_none(),
                    "duplicate {key}"
                );
            }
        }
    }
    assert_eq!(
        spans.len(),
        2 * 2 * REQUESTS,
        "every span arrived exactly once"
    );

    for prefix in [http.as_str(), grpc.as_str()] {
        let service = format!("{prefix}-service");
        let mine: Vec<&Span> = spans
            .values()
            .filter(|(s, _)| *s == service)
            .map(|(_, span)| span)
            .collect();
        assert_eq!(mine.len(), 2 * REQUESTS, "{service}");
        for i in 0..REQUESTS {
            let server = mine
                .iter()
                .find(|s| string(s, "enduser.id").as_deref() == Some(&format!("u-{i}")))
                .unwrap_or_else(|| panic!("{service}: server span {i} is missing"));
            assert_eq!(
                server.name, "GET /v1/patients/{id}/sleep-logs",
                "ids collapsed in the name"
            );
            assert_eq!(
                string(server, "url.full").as_deref(),
                Some(
                    format!("https://api.dtx.example/v1/patients/{{id}}/sleep-logs?page={i}")
                        .as_str()
                ),
                "token stripped, page kept"
            );
            assert_eq!(
                string(server, "url.query").as_deref(),
                Some(format!("page={i}").as_str())
            );
            assert_eq!(
                server.status.as_ref().map_or(0, |s| s.code),
                if i % 2 == 1 { 2 } else { 0 }
            );
            let client = mine
                .iter()
                .find(|s| s.name == format!("{prefix} client {i}"))
                .unwrap_or_else(|| panic!("{service}: client span {i} is missing"));
            assert_eq!(client.parent_span_id, server.span_id, "parent link kept");
            assert_eq!(client.trace_id, server.trace_id);
            assert_eq!(
                string(client, "http.url").as_deref(),
                Some("http://scoring.internal/v2/score")
            );
        }
    }
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(!text.contains("secret"), "no token left in the output");
}

/// The shipped example masks every identifier the platform's services put in spans: the Python
/// SDK sends user and patient ids, e-mail addresses, phone numbers, passwords, bodies and
/// tokens, over HTTP and gRPC, and none comes out in clear anywhere in the file.
#[test]
fn the_shipped_example_lets_no_identifier_out_in_clear() {
    require_installed(Client::Python);
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("traces.jsonl");
    let key = "an-e2e-test-key-of-32-bytes-long";
    let plugins = spanwise_tests::dist_plugins(dir.path());
    let cache = dir.path().join("cache");
    let env: Vec<(&str, &std::ffi::OsStr)> = vec![
        ("SPANWISE_PLUGINS", plugins.as_os_str()),
        ("SPANWISE_OUTPUT", output.as_os_str()),
        ("SPANWISE_GRPC_ENDPOINT", "127.0.0.1:0".as_ref()),
        ("SPANWISE_HTTP_ENDPOINT", "127.0.0.1:0".as_ref()),
        ("SPANWISE_HMAC_KEY", key.as_ref()),
        ("XDG_CACHE_HOME", cache.as_os_str()),
    ];
    let spanwise = Spanwise::start_with(
        Path::new(env!("CARGO_BIN_EXE_spanwise")),
        &root().join("examples/pipeline.yaml"),
        &env,
    );
    let mut sent: Vec<String> = Vec::new();
    for (protocol, endpoint) in [
        ("http", format!("http://{}/v1/traces", spanwise.http)),
        ("grpc", format!("http://{}", spanwise.grpc)),
    ] {
        let out = python_client(
            "send_identifiers.py",
            &[protocol, &endpoint, &REQUESTS.to_string()],
        );
        sent.extend(String::from_utf8_lossy(&out).lines().map(String::from));
    }
    let log = spanwise.stop();
    assert!(log.iter().any(|l| l.contains("stopped")), "{log:?}");

    let text = std::fs::read_to_string(&output).unwrap();
    let spans: Vec<Span> = read_jsonl(&output)
        .into_iter()
        .flat_map(|r| r.resource_spans)
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .collect();
    assert_eq!(spans.len(), 2 * 2 * REQUESTS, "every span came through");
    assert!(sent.len() > 10, "the client said what it sent: {sent:?}");
    for identifier in &sent {
        assert!(
            !text.contains(identifier.as_str()),
            "{identifier:?} left in clear:\n{text}"
        );
    }
    for span in &spans {
        for gone in [
            "patient.id",
            "password",
            "http.request.body",
            "http.response.body",
        ] {
            assert!(string(span, gone).is_none(), "{gone} on {:?}", span.name);
        }
        let user = string(span, "user.id").expect("user.id stays, hashed");
        assert_eq!(user.len(), 64, "an HMAC-SHA256 in hex: {user}");
        let url = string(span, "url.full");
        assert!(
            url.as_deref()
                .is_none_or(|u| !u.contains('?') || u.ends_with("?lang=en")),
            "{url:?}"
        );
    }
    // The hash is the host's HMAC-SHA256 under the configured key, so joins still work.
    let column = spanwise_batch::StrColumn::from_options([Some("u-7000")]);
    let expected: String = spanwise_batch::hash::hmac_sha256_column(key.as_bytes(), &column)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        spans
            .iter()
            .any(|s| string(s, "user.id").as_deref() == Some(expected.as_str())),
        "u-7000 hashed under the key"
    );
}

/// The head sampler at `${env:TRACE_SAMPLING_RATE}` = 30, fed 1,000 traces of 5 spans by the
/// Python SDK: every trace comes out whole or not at all, about 30% of them, each span marked
/// with the threshold it was sampled at and the randomness of its trace.
#[test]
fn python_sdk_traces_are_head_sampled_whole_at_the_environments_rate() {
    require_installed(Client::Python);
    const TRACES: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("traces.jsonl");
    let config = pipeline(
        dir.path(),
        &format!(
            r#"  wasm/head:
    plugin: {}
    config:
      sampling_percentage: ${{env:TRACE_SAMPLING_RATE}}"#,
            spanwise_tests::plugin("head_sampler").display()
        ),
        "wasm/head",
    );
    let spanwise = Spanwise::start_with(
        Path::new(env!("CARGO_BIN_EXE_spanwise")),
        &config,
        &[("TRACE_SAMPLING_RATE", std::ffi::OsStr::new("30"))],
    );
    let endpoint = format!("http://{}/v1/traces", spanwise.http);
    let out = python_client("send_traces.py", &["http", &endpoint, &TRACES.to_string()]);
    let sent: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let sent_traces = sent["traces"].as_array().unwrap().len();
    assert_eq!(sent_traces, TRACES);
    spanwise.stop();

    let traces = spans_by_trace(&output);
    for (trace, spans) in &traces {
        assert_eq!(spans.len(), 5, "trace {trace} came out incomplete");
        // hash_seed mode (the collector's default) at 30%: threshold (16384 - 4915) << 42.
        let rv = spans[0].trace_state.split(';').next().unwrap().to_owned();
        assert!(rv.starts_with("ot=rv:"), "{}", spans[0].trace_state);
        for span in spans {
            assert_eq!(span.trace_state, format!("{rv};th:b334"), "trace {trace}");
        }
    }
    // Binomial(1000, 0.3): standard deviation 14.5; five of them either side.
    assert!(
        (228..=372).contains(&traces.len()),
        "{} of {TRACES} traces kept at 30%",
        traces.len()
    );
}

/// The filter plugin with the platform's conditions, verbatim, fed by the Python SDK over HTTP and
/// gRPC: health checks and sub-millisecond spans do not come out, `cache.hit` events are gone
/// from the spans that stay, and every other span comes out as it was sent.
#[test]
fn python_sdk_health_checks_and_sub_millisecond_spans_are_filtered_out() {
    require_installed(Client::Python);
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("traces.jsonl");
    let config = pipeline(
        dir.path(),
        &format!(
            r#"  wasm/filter:
    plugin: {}
    config:
      error_mode: ignore
      traces:
        span:
          - 'attributes["http.route"] == "/health"'
          - 'attributes["grpc.method"] == "Health/Check"'
          - 'end_time_unix_nano - start_time_unix_nano < 1000000'
        spanevent:
          - 'name == "cache.hit"'"#,
            spanwise_tests::plugin("filter").display()
        ),
        "wasm/filter",
    );

    let spanwise = Spanwise::start(Path::new(env!("CARGO_BIN_EXE_spanwise")), &config);
    let mut kept: Vec<serde_json::Value> = Vec::new();
    let mut dropped: Vec<String> = Vec::new();
    for (protocol, endpoint) in [
        ("http", format!("http://{}/v1/traces", spanwise.http)),
        ("grpc", format!("http://{}", spanwise.grpc)),
    ] {
        let out = python_client(
            "send_health_checks.py",
            &[protocol, &endpoint, &REQUESTS.to_string()],
        );
        let sent: serde_json::Value = serde_json::from_slice(&out).unwrap();
        kept.extend(sent["kept"].as_array().unwrap().iter().cloned());
        dropped.extend(
            sent["dropped"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_owned()),
        );
    }
    let log = spanwise.stop();
    let summary = format!("spans_dropped={}", dropped.len());
    assert!(
        log.iter()
            .any(|l| l.contains("wasm/filter: batches=") && l.contains(&summary)),
        "the shutdown summary counts the dropped spans ({summary}): {log:?}"
    );

    let spans: BTreeMap<String, Span> = read_jsonl(&output)
        .into_iter()
        .flat_map(|r| r.resource_spans)
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .map(|s| (hex(&s.span_id), s))
        .collect();
    assert_eq!(dropped.len(), 2 * 3 * REQUESTS);
    assert_eq!(spans.len(), kept.len(), "exactly the kept spans came out");
    for name in &dropped {
        assert!(
            spans.values().all(|s| &s.name != name),
            "{name} should have been dropped"
        );
    }
    for expected in &kept {
        let id = expected["span_id"].as_str().unwrap();
        let span = spans
            .get(id)
            .unwrap_or_else(|| panic!("{} is missing", expected["name"]));
        assert_eq!(span.name, expected["name"].as_str().unwrap());
        assert_eq!(
            span.start_time_unix_nano,
            expected["start"].as_u64().unwrap()
        );
        assert_eq!(span.end_time_unix_nano, expected["end"].as_u64().unwrap());
        let attributes: serde_json::Map<String, serde_json::Value> = span
            .attributes
            .iter()
            .map(|kv| {
                let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(Value::StringValue(s)) => serde_json::json!(s),
                    Some(Value::IntValue(i)) => serde_json::json!(i),
                    other => panic!("unexpected value {other:?}"),
                };
                (kv.key.clone(), value)
            })
            .collect();
        assert_eq!(
            serde_json::Value::Object(attributes),
            expected["attributes"],
            "{}: attributes unchanged",
            span.name
        );
        let events: Vec<&str> = span.events.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            serde_json::json!(events),
            expected["events"],
            "{}: only cache.hit events dropped",
            span.name
        );
    }
}

/// The tail sampler with the platform's rated categories, fed 2,000 traces by the Python SDK
/// (5% with an error, 10% slow): every trace comes out whole or not at all, each category keeps
/// its share within statistical bounds, exactly the traces whose randomness passes their
/// category's threshold are kept, and each kept span carries its category's `th` and name.
#[test]
fn python_sdk_traces_are_tail_sampled_whole_by_category() {
    require_installed(Client::Python);
    const TRACES: usize = 2000;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("traces.jsonl");
    let config = pipeline(
        dir.path(),
        &format!(
            r#"  tail_sampling:
    decision_wait: 2s
    record_policy: true
    sampler:
      plugin: {}
      config:
        rates:
          - {{ name: errors, when: {{ status_code: ERROR }}, percentage: 50 }}
          - {{ name: slow,   when: {{ latency: {{ threshold_ms: 2000 }} }}, percentage: 30 }}
          - {{ name: default, percentage: 10 }}"#,
            spanwise_tests::plugin("tail_sampler").display()
        ),
        "tail_sampling",
    );
    let spanwise = Spanwise::start(Path::new(env!("CARGO_BIN_EXE_spanwise")), &config);
    let endpoint = format!("http://{}/v1/traces", spanwise.http);
    let out = python_client(
        "send_tail_traces.py",
        &["http", &endpoint, &TRACES.to_string()],
    );
    let sent: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let sent: BTreeMap<String, String> = sent["traces"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, kind)| (id.clone(), kind.as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(sent.len(), TRACES);
    spanwise.stop();

    let traces = spans_by_trace(&output);
    // Each category's threshold (4 hex digits, as the host writes it) as 56 bits.
    let categories = [
        ("errors", 0.5, "8", 0x80_0000_0000_0000u64),
        ("slow", 0.3, "b333", 0xb3_3300_0000_0000),
        ("default", 0.1, "e666", 0xe6_6600_0000_0000),
    ];
    for (name, rate, th, threshold) in categories {
        let of: Vec<&String> = sent
            .iter()
            .filter(|(_, k)| *k == name)
            .map(|(id, _)| id)
            .collect();
        let kept: Vec<&&String> = of
            .iter()
            .filter(|id| traces.contains_key(id.as_str()))
            .collect();
        // Consistent sampling: kept exactly when the trace id's randomness reaches the threshold.
        for id in &of {
            let randomness = spanwise_tests::trace_randomness(id);
            assert_eq!(
                traces.contains_key(id.as_str()),
                randomness >= threshold,
                "{name} trace {id}"
            );
        }
        let n = of.len() as f64;
        let sd = (n * rate * (1.0 - rate)).sqrt();
        let share = kept.len() as f64;
        assert!(
            (share - n * rate).abs() <= 5.0 * sd,
            "{name}: {} of {n} kept at {rate}",
            kept.len()
        );
        for id in kept {
            let spans = &traces[id.as_str()];
            assert_eq!(spans.len(), 3, "{name} trace {id} came out incomplete");
            for span in spans {
                assert_eq!(span.trace_state, format!("ot=th:{th}"), "{name} trace {id}");
                assert_eq!(string(span, "sampling.policy").as_deref(), Some(name));
            }
        }
    }
    assert!(traces.keys().all(|id| sent.contains_key(id)));
}

/// SIGHUP swaps in the tail sampler of the config file as it is now; a config the sampler
/// refuses is reported and changes nothing.
#[test]
fn sighup_reloads_the_tail_sampler_and_refuses_a_bad_config() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rates: &str| {
        pipeline(
            dir.path(),
            &format!(
                "  tail_sampling:\n    sampler:\n      plugin: {}\n      config:\n        rates: {rates}",
                spanwise_tests::plugin("tail_sampler").display()
            ),
            "tail_sampling",
        )
    };
    let config = write("[{ name: all, percentage: 100 }]");
    let spanwise = Spanwise::start(Path::new(env!("CARGO_BIN_EXE_spanwise")), &config);
    write("[{ name: all, percentage: 250 }]");
    spanwise.signal("HUP");
    let refused = spanwise.wait_for_log("reload refused", Duration::from_secs(30));
    assert!(refused.contains("rates[0].percentage"), "{refused}");
    write("[{ name: some, percentage: 10 }]");
    spanwise.signal("HUP");
    let reloaded = spanwise.wait_for_log("reloaded", Duration::from_secs(30));
    assert!(reloaded.contains("traces/tail_sampling"), "{reloaded}");
    let after = spanwise.stop();
    assert!(
        after.iter().any(|l| l.contains("swaps=1")),
        "one swap counted: {after:?}"
    );
}
