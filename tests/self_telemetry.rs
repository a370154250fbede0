//! spanwise's own telemetry over HTTP, on loopback: `/metrics` (Prometheus text) counts what
//! each processor, plugin and exporter did, with the sending queue's size and each plugin's call
//! time; the `health_check` extension answers 200 while spanwise serves.

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
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
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
    let down = r#"{pipeline="traces",exporter="otlp/down"}"#;
    assert_eq!(
        value(&text, &format!("spanwise_exporter_queue_capacity{down}")),
        Some(1000.0)
    );
    assert!(
        value(&text, &format!("spanwise_exporter_attempts_total{down}")).is_some(),
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
    let router = spanwise::metrics::health_router("/healthz", health.clone());
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
