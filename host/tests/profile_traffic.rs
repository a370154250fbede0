//! The dev profile (`examples/dev.yaml`, exactly as shipped) run by `spanwise run`, fed by the
//! platform's real applications: an Express service traced with `@opentelemetry/sdk-node` and
//! the auto-instrumentations over OTLP/HTTP, as its NestJS services are set up; and the Python
//! SDK over OTLP/gRPC. In the exported analysis file: no identifier in clear, no health check,
//! no query string, no sub-millisecond span but errors; each kind of trace kept exactly when its
//! randomness passes its rate, in plausible shares; every kept span's `th` the probability that
//! span was kept with.

use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use spanwise_tests::{Spanwise, python, root, spans_by_trace, string_attribute};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Requests of each kind: ordinary, failing, slow, health checks.
const ORDINARY: usize = 400;
const ERRORS: usize = 60;
const SLOW: usize = 12;
const HEALTH: usize = 60;

/// What a client sent: each trace id with its kind, and every identifier in it.
struct Sent {
    traces: BTreeMap<String, String>,
    identifiers: Vec<String>,
}

impl Sent {
    fn parse(json: &[u8]) -> Self {
        let value: serde_json::Value = serde_json::from_slice(json).expect("the client's report");
        Sent {
            traces: value["traces"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(id, kind)| (id.clone(), kind.as_str().unwrap().to_owned()))
                .collect(),
            identifiers: value["identifiers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect(),
        }
    }
}

/// `examples/dev.yaml` as shipped, on free loopback ports, writing the analysis file to `dir`.
fn start_dev_profile(dir: &Path) -> Spanwise {
    let plugins = spanwise_tests::dist_plugins(dir);
    let output = dir.join("analysis.jsonl");
    let cache = dir.join("cache");
    let env: Vec<(&str, &OsStr)> = vec![
        ("SPANWISE_PLUGINS", plugins.as_os_str()),
        ("SPANWISE_OUTPUT", output.as_os_str()),
        ("SPANWISE_GRPC_ENDPOINT", "127.0.0.1:0".as_ref()),
        ("SPANWISE_HTTP_ENDPOINT", "127.0.0.1:0".as_ref()),
        ("XDG_CACHE_HOME", cache.as_os_str()),
    ];
    Spanwise::start_with(
        Path::new(env!("CARGO_BIN_EXE_spanwise")),
        &root().join("examples/dev.yaml"),
        &env,
    )
}

/// Run `command` to its end (at most `limit`), failing the test with its stderr if it fails;
/// returns its stdout.
fn run(mut command: Command, what: &str, limit: Duration) -> Vec<u8> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what} does not start: {e}"));
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn a_node_express_service_traced_as_the_platforms_services_are_through_the_dev_profile() {
    let app = root().join("tests/e2e/sleep-api");
    assert!(
        root()
            .join("tests/e2e/node_modules/@opentelemetry/auto-instrumentations-node")
            .exists(),
        "the Node.js SDK and auto-instrumentations are not installed: run `make setup`"
    );
    let dir = tempfile::tempdir().unwrap();
    let spanwise = start_dev_profile(dir.path());

    let mut service = Command::new("node")
        .arg(app.join("app.js"))
        .env(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            format!("http://{}/v1/traces", spanwise.http),
        )
        .env("OTEL_SERVICE_NAME", "sleep-api")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    let mut lines = BufReader::new(service.stdout.take().unwrap()).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("the service printed `listening PORT` before it ended")
            .unwrap();
        if let Some(port) = line.strip_prefix("listening ") {
            break port.to_owned();
        }
    };
    let mut drive = Command::new("node");
    drive.arg(app.join("drive.js")).args([
        port.as_str(),
        &ORDINARY.to_string(),
        &ERRORS.to_string(),
        &SLOW.to_string(),
        &HEALTH.to_string(),
    ]);
    let sent = Sent::parse(&run(drive, "the traffic driver", Duration::from_secs(120)));
    // SIGTERM: the service flushes its spans (the SDK's shutdown) and exits.
    let status = Command::new("kill")
        .args(["-TERM", &service.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while service.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the service did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    spanwise.stop();
    check_dev_profile_output(&dir.path().join("analysis.jsonl"), &sent);
}

#[test]
fn the_python_sdk_over_grpc_through_the_dev_profile() {
    let dir = tempfile::tempdir().unwrap();
    let spanwise = start_dev_profile(dir.path());
    let mut client = Command::new(python());
    client
        .arg(root().join("tests/e2e/send_platform_traffic.py"))
        .args([
            "grpc",
            &format!("http://{}", spanwise.grpc),
            &ORDINARY.to_string(),
            &ERRORS.to_string(),
            &SLOW.to_string(),
            &HEALTH.to_string(),
        ]);
    let sent = Sent::parse(&run(
        client,
        "the Python client (make setup installs it)",
        Duration::from_secs(120),
    ));
    spanwise.stop();
    check_dev_profile_output(&dir.path().join("analysis.jsonl"), &sent);
}

/// The dev rates: the head sampler's for spans that are neither errors nor slow, and the tail
/// sampler's per kind, with the category that keeps that kind.
const HEAD: f64 = 0.1;

fn tail_rate(kind: &str) -> (f64, &'static str) {
    match kind {
        "ordinary" => (0.1, "default"),
        "error" => (0.5, "errors"),
        "slow" => (0.3, "slow"),
        other => panic!("no rate for {other}"),
    }
}

/// The `th` of a probability at the 4 hex digits written, and its 56-bit threshold.
fn threshold(p: f64) -> (&'static str, u64) {
    match p {
        0.1 => ("e666", 0xe666 << 40),
        0.3 => ("b333", 0xb333 << 40),
        0.5 => ("8", 0x8 << 52),
        1.0 => ("0", 0),
        other => panic!("no threshold for {other}"),
    }
}

fn is_error(span: &Span) -> bool {
    span.status
        .as_ref()
        .is_some_and(|s| s.code == StatusCode::Error as i32)
}

fn duration(span: &Span) -> u64 {
    span.end_time_unix_nano
        .saturating_sub(span.start_time_unix_nano)
}

fn check_dev_profile_output(output: &Path, sent: &Sent) {
    let text = std::fs::read_to_string(output).expect("the analysis file was written");
    let traces = spans_by_trace(output);
    assert!(!traces.is_empty(), "nothing was exported");
    for identifier in &sent.identifiers {
        assert!(
            !text.contains(identifier.as_str()),
            "{identifier} left in clear"
        );
    }
    for (id, spans) in &traces {
        let kind = sent
            .traces
            .get(id)
            .map_or("(a trace the client did not report)", String::as_str);
        assert_ne!(
            kind, "health",
            "health-check trace {id} exported: {spans:#?}"
        );
        let (tail, category) = tail_rate(kind);
        for span in spans {
            for key in ["url.full", "http.url", "http.target"] {
                let value = string_attribute(span, key).unwrap_or_default();
                assert!(!value.contains('?'), "{key} kept a query: {value}");
            }
            assert!(string_attribute(span, "url.query").is_none());
            assert!(string_attribute(span, "patient.id").is_none());
            if let Some(user) = string_attribute(span, "user.id") {
                assert_eq!(user.len(), 64, "user.id is an HMAC-SHA256: {user}");
            }
            assert!(
                is_error(span) || duration(span) >= 1_000_000,
                "{}: a sub-millisecond span came through",
                span.name
            );
            // The probability this span was kept with: the head sampler's (every error and
            // slow span passes it), then the tail's for its trace; thresholds only rise.
            let head = if is_error(span) || duration(span) > 2_000_000_000 {
                1.0
            } else {
                HEAD
            };
            let (th, _) = threshold(tail.min(head));
            assert_eq!(
                span.trace_state,
                format!("ot=th:{th}"),
                "{kind} trace {id}: {}",
                span.name
            );
            assert_eq!(
                string_attribute(span, "sampling.policy").as_deref(),
                Some(category)
            );
        }
    }
    let states: std::collections::BTreeSet<&str> = traces
        .values()
        .flatten()
        .map(|s| s.trace_state.as_str())
        .collect();
    assert!(
        states.contains("ot=th:e666") && states.contains("ot=th:8"),
        "the rest at 10% and errors at 50% both came through: {states:?}"
    );
    for kind in ["ordinary", "error", "slow"] {
        let (rate, _) = tail_rate(kind);
        let (_, threshold) = threshold(rate);
        let of: Vec<&String> = sent
            .traces
            .iter()
            .filter(|(_, k)| *k == kind)
            .map(|(id, _)| id)
            .collect();
        // Consistent sampling: kept exactly when the trace id's randomness (its low 56 bits)
        // reaches the threshold of its rate, by the head and the tail sampler alike.
        for id in &of {
            let randomness = u64::from_str_radix(&id[18..], 16).unwrap();
            assert_eq!(
                traces.contains_key(id.as_str()),
                randomness >= threshold,
                "{kind} trace {id} (randomness {randomness:014x})"
            );
            if kind == "error" && randomness >= threshold {
                assert!(
                    traces[id.as_str()].iter().any(is_error),
                    "error trace {id} kept without its error"
                );
            }
        }
        let kept = of
            .iter()
            .filter(|id| traces.contains_key(id.as_str()))
            .count();
        let n = of.len() as f64;
        let sd = (n * rate * (1.0 - rate)).sqrt();
        eprintln!("{kind}: {kept} of {n} kept at {rate}");
        if kind != "slow" {
            assert!(
                (kept as f64 - n * rate).abs() <= 5.0 * sd,
                "{kind}: {kept} of {n} kept at {rate}"
            );
        }
    }
}
