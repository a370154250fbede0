//! Backpressure: while the process is over the `memory_limiter`'s soft limit, OTLP/HTTP gets 503
//! and OTLP/gRPC `UNAVAILABLE` and nothing of the refused request is exported; the Python SDK's
//! exporter retries and gets through once memory falls; below the limit everything is taken.
//!
//! The service runs in this test process, so memory the test holds is memory the limiter sees.
//! The test is alone in its binary so that no other test moves the process's memory.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use spanwise::pipeline::memory::resident_memory;
use spanwise_batch::{BatchBuilder, kv};
use spanwise_tests::{python, root};
use std::net::SocketAddr;
use std::time::Duration;

const MIB: u64 = 1 << 20;

fn request(
    prefix: &str,
    spans: usize,
) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
    let mut builder = BatchBuilder::new().resource(vec![kv("service.name", "limited")]);
    for i in 0..spans {
        builder = builder.span(&format!("{prefix}-{i}"), vec![kv("n", i as i64)]);
    }
    builder.build().into_request()
}

/// POST a request; the status and the body's text.
async fn post(address: SocketAddr, prefix: &str, spans: usize) -> (u16, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = hyper::Request::post(format!("http://{address}/v1/traces"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            serde_json::to_vec(&request(prefix, spans)).unwrap(),
        )))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn grpc_export(address: SocketAddr, prefix: &str) -> Result<(), tonic::Status> {
    let mut client = TraceServiceClient::connect(format!("http://{address}"))
        .await
        .expect("connects");
    client.export(request(prefix, 2)).await.map(|_| ())
}

/// Memory the process really holds: every page written.
fn ballast(bytes: u64) -> Vec<u8> {
    let ballast = vec![1u8; bytes as usize];
    assert_eq!(ballast[ballast.len() / 2], 1);
    ballast
}

/// Wait past the check interval so that the next request sees a fresh measurement.
async fn next_measurement() {
    tokio::time::sleep(Duration::from_millis(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_soft_limit_requests_are_refused_retryably_and_clients_get_through_later() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    // Soft limit: 200 MiB above what the process holds now (hard limit 250, spike 50).
    let now = resident_memory().expect("the process's memory can be read") / MIB;
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:0" }}
      http: {{ endpoint: "127.0.0.1:0" }}
processors:
  memory_limiter: {{ check_interval: 20ms, limit_mib: {limit}, spike_limit_mib: 50 }}
exporters:
  file: {{ path: "{output}" }}
service:
  pipelines:
    traces: {{ receivers: [otlp], processors: [memory_limiter], exporters: [file] }}
"#,
        limit = now + 250,
        output = output.display()
    );
    let service = spanwise_tests::start_service(&yaml, "memory-limiter.yaml").await;
    let http = spanwise_tests::address(&service, "http");
    let grpc = spanwise_tests::address(&service, "grpc");

    assert_eq!(post(http, "before", 3).await.0, 200);
    grpc_export(grpc, "before-grpc")
        .await
        .expect("taken under the limit");

    let held = ballast(400 * MIB);
    next_measurement().await;
    let (status, body) = post(http, "refused", 3).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("over its soft limit"), "{body}");
    let status = grpc_export(grpc, "refused-grpc")
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");

    // The Python SDK's exporter, refused at first, retries until memory falls.
    let endpoint = format!("http://{http}/v1/traces");
    let sender = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python())
            .arg(root().join("tests/e2e/send_spans.py"))
            .args(["http", endpoint.as_str(), "retried", "2"])
            .output()
            .expect("python runs")
    });
    let refused = || {
        service.pipelines()[0].summaries()[0]
            .stats
            .get("spans_refused")
            .copied()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while refused() == Some(5) {
        assert!(
            std::time::Instant::now() < deadline,
            "the Python SDK sent nothing within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(held);
    let sent = sender.await.unwrap();
    assert!(
        sent.status.success(),
        "the Python SDK gave up: {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    next_measurement().await;
    assert_eq!(post(http, "after", 3).await.0, 200);
    grpc_export(grpc, "after-grpc").await.expect("taken again");

    let limiter = service.pipelines()[0].summaries()[0].stats.clone();
    service.shutdown().await;
    assert!(
        limiter["spans_refused"] > 5,
        "the Python SDK was never refused: {limiter:?}"
    );
    let names = spanwise_tests::sorted_span_names(&output);
    assert!(names.iter().all(|n| !n.starts_with("refused")), "{names:?}");
    let (python, ours): (Vec<String>, Vec<String>) = names
        .into_iter()
        .partition(|n| n.contains("retried") || n.starts_with("GET "));
    assert_eq!(
        python.len(),
        4,
        "the Python SDK's 4 spans arrive once: {python:?}"
    );
    assert_eq!(
        ours,
        [
            "after-0",
            "after-1",
            "after-2",
            "after-grpc-0",
            "after-grpc-1",
            "before-0",
            "before-1",
            "before-2",
            "before-grpc-0",
            "before-grpc-1"
        ]
    );
}
