//! The dev profile (`examples/dev.yaml`, exactly as shipped) run by `spanwise run`, fed by the
//! platform's real applications: a NestJS service traced with `@opentelemetry/sdk-node`, the
//! auto-instrumentations and the OTLP/HTTP exporter, set up as the platform's services are; and
//! the Python SDK over OTLP/gRPC. In the exported analysis file: no identifier in clear, no health check,
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

/// `examples/PROFILE` as shipped, on free loopback ports, writing the analysis file to
/// `dir/analysis.jsonl`, with `extra` environment variables.
fn start_profile(dir: &Path, profile: &str, extra: &[(&str, &OsStr)]) -> Spanwise {
    let plugins = spanwise_tests::dist_plugins(dir);
    let output = dir.join("analysis.jsonl");
    let cache = dir.join("cache");
    let mut env: Vec<(&str, &OsStr)> = vec![
        ("SPANWISE_PLUGINS", plugins.as_os_str()),
        ("SPANWISE_OUTPUT", output.as_os_str()),
        ("SPANWISE_GRPC_ENDPOINT", "127.0.0.1:0".as_ref()),
        ("SPANWISE_HTTP_ENDPOINT", "127.0.0.1:0".as_ref()),
        ("SPANWISE_METRICS_ENDPOINT", "127.0.0.1:0".as_ref()),
        ("SPANWISE_HEALTH_ENDPOINT", "127.0.0.1:0".as_ref()),
        ("XDG_CACHE_HOME", cache.as_os_str()),
    ];
    env.extend_from_slice(extra);
    Spanwise::start_with(
        Path::new(env!("CARGO_BIN_EXE_spanwise")),
        &root().join("examples").join(profile),
        &env,
    )
}

/// The Python client's traffic over OTLP/gRPC to `spanwise`.
fn python_traffic(spanwise: &Spanwise) -> Vec<u8> {
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
    run(
        client,
        "the Python client (make setup installs it)",
        Duration::from_secs(120),
    )
}

/// Run `command` to its end (at most `limit`), failing the test with its stderr if it fails;
/// returns its stdout.
fn run(mut command: Command, what: &str, limit: Duration) -> Vec<u8> {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what} does not start: {e}"));
    let pid = child.id();
    // Read its output while it runs (a report larger than a pipe would otherwise block it).
    let (done, output) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let output = match output.recv_timeout(limit) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{what} ran longer than {limit:?}");
        }
    };
    assert!(
        output.status.success(),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn a_nestjs_service_traced_as_the_platforms_services_are_through_the_dev_profile() {
    let app = root().join("tests/e2e/sleep-api");
    assert!(
        root()
            .join("tests/e2e/node_modules/@opentelemetry/auto-instrumentations-node")
            .exists(),
        "the Node.js SDK and auto-instrumentations are not installed: run `make setup`"
    );
    let dir = tempfile::tempdir().unwrap();
    let spanwise = start_profile(dir.path(), "dev.yaml", &[]);

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
    let spanwise = start_profile(dir.path(), "dev.yaml", &[]);
    let sent = Sent::parse(&python_traffic(&spanwise));
    spanwise.stop();
    let analysis = dir.path().join("analysis.jsonl");
    check_dev_profile_output(&analysis, &sent);
    // The SLI queries count each kept request by its weight (1 / the probability in its
    // tracestate), so the requests they count estimate the requests made: within five
    // standard deviations of the sampling (counted without weights they would be ~90 of 472).
    let sli = sli_json(&analysis, &[]);
    let estimate = sli["availability"][0]["requests"].as_f64().unwrap();
    let made = (ORDINARY + ERRORS + SLOW) as f64;
    let variance: f64 = [(ORDINARY, 0.1), (ERRORS, 0.5), (SLOW, 0.3)]
        .iter()
        .map(|&(n, p)| n as f64 * (1.0 - p) / p)
        .sum();
    assert!(
        (estimate - made).abs() <= 5.0 * variance.sqrt(),
        "{estimate} requests estimated from the sampled file, {made} made"
    );
}

/// `examples/sli/sli.py --json ARGS` on `analysis`.
fn sli_json(analysis: &Path, args: &[&OsStr]) -> serde_json::Value {
    let mut sli = Command::new(python());
    sli.arg(root().join("examples/sli/sli.py"))
        .arg("--json")
        .args(args)
        .arg(analysis);
    serde_json::from_slice(&run(
        sli,
        "sli.py (make setup installs DuckDB)",
        Duration::from_secs(60),
    ))
    .expect("sli.py prints JSON")
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
        // A trace the client did not make (the NestJS app's own start-up span) is ordinary
        // traffic to the samplers.
        let kind = sent.traces.get(id).map_or("ordinary", String::as_str);
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
            let randomness = spanwise_tests::trace_randomness(id);
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

/// The nearest-rank percentile `q` of `values` (the smallest value that at least `q` of them do
/// not exceed), as `examples/sli/latency.sql` computes it with every weight 1.
fn percentile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = (q * values.len() as f64 - 1e-9).ceil().max(1.0) as usize;
    values[rank - 1]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// `examples/prod.yaml` keeps every trace but health checks (100% at the head and the tail),
/// sends the same spans to Jaeger over OTLP/gRPC (a second `spanwise` receives them here, an
/// OTLP/gRPC server as Jaeger's collector is) and to the analysis file; the SLI queries of
/// `examples/sli` run by DuckDB on that file give exactly the figures of the traffic sent.
#[test]
fn the_prod_profile_feeds_jaeger_and_the_sli_queries_give_the_traffic_sent() {
    let dir = tempfile::tempdir().unwrap();
    let jaeger_config = dir.path().join("jaeger.yaml");
    std::fs::write(
        &jaeger_config,
        format!(
            "receivers: {{ otlp: {{ protocols: {{ grpc: {{ endpoint: \"127.0.0.1:0\" }}, \
             http: {{ endpoint: \"127.0.0.1:0\" }} }} }} }}\n\
             exporters: {{ file: {{ path: {} }} }}\n\
             service: {{ pipelines: {{ traces: {{ receivers: [otlp], exporters: [file] }} }} }}\n",
            dir.path().join("jaeger.jsonl").display()
        ),
    )
    .unwrap();
    let jaeger = Spanwise::start(Path::new(env!("CARGO_BIN_EXE_spanwise")), &jaeger_config);
    let endpoint = format!("http://{}", jaeger.grpc);
    let prod = start_profile(
        dir.path(),
        "prod.yaml",
        &[
            (
                "SPANWISE_HMAC_KEY",
                "a-prod-test-key-of-32-bytes-long".as_ref(),
            ),
            ("SPANWISE_JAEGER_ENDPOINT", endpoint.as_ref()),
        ],
    );
    let report = python_traffic(&prod);
    let sent = Sent::parse(&report);
    prod.stop();
    jaeger.stop();

    let analysis = dir.path().join("analysis.jsonl");
    let kept = spans_by_trace(&analysis);
    let in_jaeger = spans_by_trace(&dir.path().join("jaeger.jsonl"));
    let ids = |traces: &BTreeMap<String, Vec<Span>>| -> Vec<(String, String)> {
        let mut ids: Vec<(String, String)> = traces
            .iter()
            .flat_map(|(t, spans)| spans.iter().map(move |s| (t.clone(), s.name.clone())))
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&kept), ids(&in_jaeger), "Jaeger got what the file got");
    for (id, kind) in &sent.traces {
        assert_eq!(
            kept.contains_key(id),
            kind != "health",
            "{kind} trace {id} in prod"
        );
    }
    for span in kept.values().flatten() {
        assert_eq!(span.trace_state, "ot=th:0", "{}: kept at 100%", span.name);
    }
    let text = std::fs::read_to_string(&analysis).unwrap();
    for identifier in &sent.identifiers {
        assert!(!text.contains(identifier.as_str()), "{identifier} in clear");
    }

    // The SLIs as DuckDB computes them from the file, against the requests the client made.
    let parquet = dir.path().join("spans.parquet");
    let sli = sli_json(&analysis, &["--parquet".as_ref(), parquet.as_os_str()]);
    // The load job's file: one row per exported span.
    let mut count = Command::new(python());
    count.args([
        "-c",
        "import duckdb, sys; print(duckdb.execute(f\"SELECT count(*) FROM '{sys.argv[1]}'\").fetchone()[0])",
    ]);
    count.arg(&parquet);
    let rows: usize = String::from_utf8(run(count, "duckdb", Duration::from_secs(60)))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(rows, kept.values().map(Vec::len).sum::<usize>());
    let requests: Vec<(String, f64, bool)> = serde_json::from_slice::<serde_json::Value>(&report)
        .unwrap()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["route"].as_str().unwrap().to_owned(),
                r["ms"].as_f64().unwrap(),
                r["error"].as_bool().unwrap(),
            )
        })
        .collect();
    let n = requests.len() as f64;
    assert_eq!(n as usize, ORDINARY + ERRORS + SLOW);
    let failed = requests.iter().filter(|r| r.2).count() as f64;
    let slow = requests.iter().filter(|r| r.1 > 2000.0).count() as f64;
    let one = |name: &str| -> &serde_json::Value {
        let rows = sli[name].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{name}: one service: {rows:?}");
        assert_eq!(rows[0]["service"], "sleep-api");
        assert_eq!(rows[0]["requests"].as_f64(), Some(n), "{name}");
        &rows[0]
    };
    assert_eq!(one("availability")["failed"].as_f64(), Some(failed));
    assert!(close(
        one("availability")["availability"].as_f64().unwrap(),
        1.0 - failed / n
    ));
    assert!(close(
        one("error_rate")["error_rate"].as_f64().unwrap(),
        failed / n
    ));
    assert!(close(
        one("slow_share")["slow_share"].as_f64().unwrap(),
        slow / n
    ));
    let latency = sli["latency"].as_array().unwrap();
    let mut routes: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (route, ms, _) in &requests {
        routes.entry(route).or_default().push(*ms);
    }
    assert_eq!(latency.len(), routes.len(), "{latency:?}");
    for row in latency {
        let route = row["route"].as_str().unwrap();
        let durations = routes.get_mut(route).unwrap();
        assert_eq!(row["requests"].as_f64(), Some(durations.len() as f64));
        for (column, q) in [("p95_ms", 0.95), ("p99_ms", 0.99)] {
            let expected = percentile(durations, q);
            assert!(
                close(row[column].as_f64().unwrap(), expected),
                "{route} {column}: {} against {expected}",
                row[column]
            );
        }
    }
}
