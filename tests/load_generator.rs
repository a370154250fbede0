//! `spanwise gen` against the real service on loopback: every span it reports sent arrives, a
//! filter's drops come back as refused (OTLP partial success), and a receiver that is not there
//! fails every request without hanging.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message;
use spanwise::loadgen::{Options, Protocol, Stop};
use spanwise_workload::Workload;
use std::time::Duration;

/// A service whose pipeline drops health checks, writing what it keeps to a file.
async fn service(dir: &std::path::Path) -> spanwise::service::Running {
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:0" }}
      http: {{ endpoint: "127.0.0.1:0" }}
processors:
  wasm/filter:
    plugin: "{filter}"
    config: {{ traces: {{ span: ['attributes["http.route"] == "/health"'] }} }}
exporters:
  file: {{ path: "{output}" }}
runtime: {{ cache_dir: "{cache}" }}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [wasm/filter]
      exporters: [file]
"#,
        filter = spanwise_tests::plugin("filter").display(),
        output = dir.join("out.jsonl").display(),
        cache = dir.join("cache").display(),
    );
    spanwise_tests::start_service(&config, "load-generator-test.yaml").await
}

fn options(endpoint: String, protocol: Protocol) -> Options {
    Options {
        endpoint,
        protocol,
        workload: Workload::W2,
        seed: 11,
        batch: 100,
        distinct: 4,
        rate: None,
        stop: Stop::Spans(1000),
        concurrency: 3,
        timeout: Duration::from_secs(10),
    }
}

/// The health check spans in the requests `options` sends, in one pass of its distinct ones.
fn health_checks(options: &Options) -> u64 {
    spanwise::loadgen::requests(options)
        .into_iter()
        .map(|body| {
            let request =
                opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(
                    body,
                )
                .unwrap();
            request
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans)
                .filter(|span| {
                    span.attributes.iter().any(|kv| {
                        kv.key == "http.route"
                            && matches!(&kv.value.as_ref().unwrap().value, Some(Value::StringValue(v)) if v == "/health")
                    })
                })
                .count() as u64
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_span_sent_arrives_and_filtered_spans_come_back_refused() {
    let dir = tempfile::tempdir().unwrap();
    let running = service(dir.path()).await;
    let mut expected_kept = 0;
    for protocol in [Protocol::Http, Protocol::Grpc] {
        let address = spanwise_tests::address(
            &running,
            if protocol == Protocol::Grpc {
                "grpc"
            } else {
                "http"
            },
        );
        let options = options(address.to_string(), protocol);
        // 1,000 spans are ten requests: the four distinct ones twice, then two of them again.
        let mut health = 2 * health_checks(&options);
        health += health_checks(&Options {
            distinct: 2,
            ..options.clone()
        });
        let report = spanwise::loadgen::run(&options, |_| {}).await.unwrap();
        assert_eq!((report.requests, report.sent), (10, 1000), "{protocol}");
        assert_eq!(
            (report.failed, report.failed_requests),
            (0, 0),
            "{protocol}"
        );
        assert!(health > 0);
        assert_eq!(
            report.refused, health,
            "{protocol}: the dropped health checks"
        );
        assert_eq!(report.acknowledged, 1000 - health, "{protocol}");
        expected_kept += report.acknowledged;
    }
    running.shutdown().await;
    let kept: usize = spanwise_tests::read_jsonl(&dir.path().join("out.jsonl"))
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    assert_eq!(
        kept as u64, expected_kept,
        "what was acknowledged was exported"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_is_kept_and_a_duration_ends_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let running = service(dir.path()).await;
    let address = spanwise_tests::address(&running, "http");
    let options = Options {
        // 2,000 spans a second in requests of 100: one request every 50 ms, 20 in one second.
        rate: Some(2_000),
        stop: Stop::After(Duration::from_secs(1)),
        ..options(address.to_string(), Protocol::Http)
    };
    let report = spanwise::loadgen::run(&options, |_| {}).await.unwrap();
    // Never more than the rate allows (21: one at 0 s and one at 1 s may both go); a busy
    // machine may send a few fewer.
    assert!(
        (12..=21).contains(&report.requests),
        "{} requests in one second at 20 a second",
        report.requests
    );
    assert!(
        report.elapsed < Duration::from_secs(3),
        "{:?}",
        report.elapsed
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_is_not_there_fails_every_request() {
    // A port that was free a moment ago; nothing listens on it.
    let port = spanwise_tests::free_address().port();
    for protocol in [Protocol::Http, Protocol::Grpc] {
        let options = Options {
            stop: Stop::Spans(300),
            timeout: Duration::from_secs(2),
            ..options(format!("127.0.0.1:{port}"), protocol)
        };
        let report = spanwise::loadgen::run(&options, |_| {}).await.unwrap();
        assert_eq!(report.failed_requests, 3, "{protocol}");
        assert_eq!((report.failed, report.acknowledged), (300, 0), "{protocol}");
    }
}
