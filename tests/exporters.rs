//! The `otlp` and `otlphttp` exporters against real receivers: one spanwise service forwards to
//! another over OTLP/gRPC, OTLP/HTTP protobuf and OTLP/HTTP JSON. A destination that is down
//! makes the receiving side answer 503 so that the client retries.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use spanwise::service::Running;
use spanwise_batch::{BatchBuilder, kv};
use std::net::SocketAddr;

async fn start(yaml: &str) -> Running {
    spanwise_tests::start_service(yaml, "exporters-test.yaml").await
}

fn address(running: &Running, protocol: &str) -> SocketAddr {
    spanwise_tests::address(running, protocol)
}

async fn post(address: SocketAddr, spans: usize) -> u16 {
    let mut builder = BatchBuilder::new().resource(vec![kv("service.name", "forwarded")]);
    for i in 0..spans {
        builder = builder.span(&format!("span-{i}"), vec![kv("n", i as i64)]);
    }
    let body = builder.build().into_request().encode_to_vec();
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = hyper::Request::post(format!("http://{address}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    client.request(request).await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_and_otlphttp_exporters_deliver_to_a_real_receiver() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("received.jsonl");
    let backend = start(&format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:0" }}
      http: {{ endpoint: "127.0.0.1:0" }}
exporters:
  file: {{ path: "{}" }}
service:
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file] }}
"#,
        output.display()
    ))
    .await;
    let forwarder = start(&format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:0" }}
exporters:
  otlp: {{ endpoint: "{grpc}" }}
  otlphttp: {{ endpoint: "http://{http}" }}
  otlphttp/json: {{ endpoint: "http://{http}", encoding: json, compression: none }}
  debug:
service:
  pipelines:
    traces: {{ receivers: [otlp], exporters: [otlp, otlphttp, otlphttp/json, debug] }}
"#,
        grpc = address(&backend, "grpc"),
        http = address(&backend, "http"),
    ))
    .await;

    assert_eq!(post(address(&forwarder, "http"), 2).await, 200);
    forwarder.shutdown().await;
    backend.shutdown().await;

    let received = spanwise_tests::read_jsonl(&output);
    assert_eq!(received.len(), 3, "one request through each exporter");
    for request in &received {
        let names: Vec<&str> = request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, vec!["span-0", "span-1"]);
    }
    assert_eq!(
        received[0], received[1],
        "every exporter delivers the same spans"
    );
    assert_eq!(received[1], received[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_that_is_down_makes_the_receiver_answer_503() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let forwarder = start(&format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:0" }}
exporters:
  otlphttp: {{ endpoint: "http://{closed}", timeout: 2s }}
service:
  pipelines:
    traces: {{ receivers: [otlp], exporters: [otlphttp] }}
"#
    ))
    .await;
    assert_eq!(post(address(&forwarder, "http"), 1).await, 503);
    forwarder.shutdown().await;
}
