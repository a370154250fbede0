//! spanwise's own telemetry over HTTP, on loopback: `/metrics` (Prometheus text) counts what
//! each processor, plugin and exporter did, with the sending queue's size and each plugin's call
//! time; the `health_check` extension answers 200 while spanwise serves, and 503 while its
//! exporters keep failing when `check_collector_pipeline` is on.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use spanwise_batch::{BatchBuilder, kv};
use std::net::SocketAddr;

async fn request(method: &str, url: String, body: Vec<u8>) -> (u16, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The value of the series `name{labels}` in Prometheus text, if it is there.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_each_part_did_and_health_says_serving() {
    let dir = tempfile::tempdir().unwrap();
    let closed = spanwise_tests::free_address();
    let running = spanwise_tests::start_service(
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:0" }}
processors:
  wasm/url:
    plugin: {plugin}
    config: {{ span_names: true }}
exporters:
  file: {{ path: "{output}" }}
  otlp/down:
    endpoint: "http://{closed}"
    retry_on_failure: {{ initial_interval: 1h, max_interval: 1h }}
extensions:
  health_check: {{ endpoint: "127.0.0.1:0" }}
runtime: {{ cache_dir: "{cache}" }}
service:
  extensions: [health_check]
  telemetry:
    metrics: {{ address: "127.0.0.1:0" }}
  pipelines:
    traces: {{ receivers: [otlp], processors: [wasm/url], exporters: [file, otlp/down] }}
"#,
            plugin = spanwise_tests::plugin("url").display(),
            output = dir.path().join("out.jsonl").display(),
            cache = dir.path().join("cache").display(),
        ),
        "self-telemetry.yaml",
    )
    .await;
    let at = |protocol| -> SocketAddr { spanwise_tests::address(&running, protocol) };
    let (status, body) = request("GET", format!("http://{}/", at("health")), vec![]).await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"status":"Server available"}"#)
    );

    let mut builder = BatchBuilder::new().resource(vec![kv("service.name", "metered")]);
    for i in 0..3 {
        builder = builder.span(&format!("GET /users/{i}?token=t"), vec![]);
    }
    let body = builder.build().into_request().encode_to_vec();
    for _ in 0..2 {
        let (status, _) = request(
            "POST",
            format!("http://{}/v1/traces", at("http")),
            body.clone(),
        )
        .await;
        assert_eq!(status, 200);
    }

    let (status, text) = request("GET", format!("http://{}/metrics", at("metrics")), vec![]).await;
    assert_eq!(status, 200);
    let url = r#"{pipeline="traces",processor="wasm/url"}"#;
    assert_eq!(
        value(&text, &format!("spanwise_processor_spans_in_total{url}")),
        Some(6.0),
        "{text}"
    );
    assert_eq!(
        value(&text, &format!("spanwise_processor_batches_total{url}")),
        Some(2.0)
    );
    assert_eq!(
        value(
            &text,
            &format!("spanwise_plugin_call_duration_seconds_count{url}")
        ),
        Some(2.0),
        "{text}"
    );
    assert!(
        text.contains("spanwise_plugin_"),
        "the plugin's own counters: {text}"
    );
    assert!(
        value(&text, &format!("spanwise_processor_instances{url}")).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, &format!("spanwise_processor_instances_busy{url}")),
        Some(0.0),
        "no call runs between requests: {text}"
    );
    assert_eq!(
        value(
            &text,
            r#"spanwise_receiver_spans_accepted_total{receiver="otlp"}"#
        ),
        Some(6.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"spanwise_exporter_spans_sent_total{pipeline="traces",exporter="file"}"#
        ),
        Some(6.0),
        "{text}"
    );
    let down = r#"{pipeline="traces",exporter="otlp/down"}"#;
    assert_eq!(
        value(&text, &format!("spanwise_exporter_queue_capacity{down}")),
        Some(1000.0)
    );
    // Counted as the batches are queued; the attempts come later, from the queue's tasks.
    assert_eq!(
        value(
            &text,
            &format!("spanwise_exporter_spans_queued_total{down}")
        ),
        Some(6.0),
        "{text}"
    );
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_503_once_spanwise_is_not_serving() {
    let health = spanwise::metrics::Health::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = spanwise::metrics::health_router("/healthz", health.clone(), None);
    tokio::spawn(async move { axum::serve(listener, router).await });
    let url = format!("http://{address}/healthz");
    assert_eq!(
        request("GET", url.clone(), vec![]).await.0,
        503,
        "not serving yet"
    );
    health.set(true);
    assert_eq!(request("GET", url.clone(), vec![]).await.0, 200);
    health.set(false);
    let (status, body) = request("GET", url, vec![]).await;
    assert_eq!(
        (status, body.as_str()),
        (503, r#"{"status":"Server not available"}"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_503_while_exporters_keep_failing_and_200_once_they_stop() {
    let dir = tempfile::tempdir().unwrap();
    let closed = spanwise_tests::free_address();
    let running = spanwise_tests::start_service(
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:0" }}
exporters:
  file: {{ path: "{output}" }}
  otlp/down:
    endpoint: "http://{closed}"
    retry_on_failure: {{ initial_interval: 10ms, max_interval: 10ms, max_elapsed_time: 300ms, randomization_factor: 0 }}
extensions:
  health_check:
    endpoint: "127.0.0.1:0"
    check_collector_pipeline: {{ enabled: true, interval: 1s, exporter_failure_threshold: 5 }}
service:
  extensions: [health_check]
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file, otlp/down] }}
"#,
            output = dir.path().join("out.jsonl").display(),
        ),
        "pipeline-check.yaml",
    )
    .await;
    let health = format!("http://{}/", spanwise_tests::address(&running, "health"));
    assert_eq!(request("GET", health.clone(), vec![]).await.0, 200);
    let body = BatchBuilder::new()
        .resource(vec![kv("service.name", "failing")])
        .span("GET /", vec![])
        .build()
        .into_request()
        .encode_to_vec();
    let traces = format!(
        "http://{}/v1/traces",
        spanwise_tests::address(&running, "http")
    );
    assert_eq!(request("POST", traces, body).await.0, 200);
    // Within the batch's 300 ms of retries, more than 5 attempts fail.
    let (_, reason) = eventually_status(&health, 503).await;
    assert!(
        reason.contains("exporters failed") && reason.contains("threshold 5"),
        "{reason}"
    );
    // Once the batch is given up, no attempt fails: a window later, healthy again.
    eventually_status(&health, 200).await;
    running.shutdown().await;
}

/// Ask `url` until it answers `status` (at most 10 s); the body.
async fn eventually_status(url: &str, status: u16) -> (u16, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let answer = request("GET", url.to_owned(), vec![]).await;
        if answer.0 == status {
            return answer;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{url} still answers {answer:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
