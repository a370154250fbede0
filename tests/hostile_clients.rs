//! Clients that try to knock the receivers over, each answered without harm to anyone else: a
//! message nested 150 deep (gRPC, protobuf over HTTP, JSON), a flood of HTTP/2 streams reset as
//! soon as they open, headers sent one byte at a time (slow-loris), and a client that sends
//! request after request and never reads an answer. After each, a well-behaved client is
//! served, and only its spans are exported.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, KeyValueList, any_value};
use prost::Message;
use spanwise::service::Running;
use spanwise_batch::{BatchBuilder, kv};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(output: &Path) -> Running {
    spanwise_tests::start_service(
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:0" }}
      http: {{ endpoint: "127.0.0.1:0", read_header_timeout: 300ms, write_timeout: 300ms }}
exporters:
  file: {{ path: "{}" }}
service:
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file] }}
"#,
            output.display()
        ),
        "hostile.yaml",
    )
    .await
}

fn request(name: &str) -> ExportTraceServiceRequest {
    BatchBuilder::new()
        .resource(vec![kv("service.name", "hostile")])
        .span(name, vec![kv("n", 1i64)])
        .build()
        .into_request()
}

async fn post(address: SocketAddr, content_type: &str, body: Vec<u8>) -> (u16, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = hyper::Request::post(format!("http://{address}/v1/traces"))
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A well-behaved client is served: a span named `name` is taken over OTLP/HTTP.
async fn still_served(running: &Running, name: &str) {
    let http = spanwise_tests::address(running, "http");
    let (status, body) = tokio::time::timeout(
        Duration::from_secs(10),
        post(
            http,
            "application/x-protobuf",
            request(name).encode_to_vec(),
        ),
    )
    .await
    .expect("a well-behaved client is answered within 10 s");
    assert_eq!(status, 200, "{body}");
}

/// A request whose one span has an attribute nested `depth` key-value lists deep.
fn nested(depth: usize) -> ExportTraceServiceRequest {
    let mut value = AnyValue {
        value: Some(any_value::Value::StringValue("bottom".into())),
    };
    for _ in 0..depth {
        value = AnyValue {
            value: Some(any_value::Value::KvlistValue(KeyValueList {
                values: vec![KeyValue {
                    key: "k".into(),
                    value: Some(value),
                    ..Default::default()
                }],
            })),
        };
    }
    let mut request = request("nested");
    request.resource_spans[0].scope_spans[0].spans[0]
        .attributes
        .push(KeyValue {
            key: "deep".into(),
            value: Some(value),
            ..Default::default()
        });
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_nested_150_deep_is_refused_on_every_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let running = start(&output).await;
    let deep = nested(150);

    let grpc = spanwise_tests::address(&running, "grpc");
    let mut client = TraceServiceClient::connect(format!("http://{grpc}"))
        .await
        .unwrap();
    let status = client.export(deep.clone()).await.expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains("malformed OTLP protobuf"),
        "{status:?}"
    );

    let http = spanwise_tests::address(&running, "http");
    let (code, body) = post(http, "application/x-protobuf", deep.encode_to_vec()).await;
    assert_eq!(code, 400, "{body}");
    let (code, body) = post(http, "application/json", serde_json::to_vec(&deep).unwrap()).await;
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("malformed OTLP JSON"), "{body}");

    // Nesting a client may well send is taken.
    client.export(nested(20)).await.expect("20 deep is fine");
    still_served(&running, "after-nesting").await;
    running.shutdown().await;
    assert_eq!(
        spanwise_tests::span_names(&output),
        ["nested", "after-nesting"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_reset_http2_streams_is_cut_off_and_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let running = start(&output).await;
    let grpc = spanwise_tests::address(&running, "grpc");
    let tcp = TcpStream::connect(grpc).await.unwrap();
    let (mut client, connection) = h2::client::handshake(tcp).await.unwrap();
    let connection = tokio::spawn(connection);
    // Open and at once reset up to 100,000 streams, for at most 30 s.
    const BOUND: usize = 100_000;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut opened = 0;
    let cut_off = loop {
        if opened == BOUND || Instant::now() > deadline {
            break None;
        }
        client = match client.ready().await {
            Ok(client) => client,
            Err(e) => break Some(e),
        };
        let request = http::Request::post(format!(
            "http://{grpc}/opentelemetry.proto.collector.trace.v1.TraceService/Export"
        ))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
        match client.send_request(request, false) {
            Ok((_, mut stream)) => stream.send_reset(h2::Reason::CANCEL),
            Err(e) => break Some(e),
        }
        opened += 1;
    };
    let cut_off = cut_off.expect("the server let 100,000 reset streams through");
    eprintln!("cut off after {opened} reset streams: {cut_off}");
    assert!(
        cut_off.is_go_away() || cut_off.is_io() || cut_off.is_remote(),
        "after {opened} streams: {cut_off:?}"
    );
    let _ = tokio::time::timeout(Duration::from_secs(5), connection).await;
    still_served(&running, "after-resets").await;
    running.shutdown().await;
    assert_eq!(spanwise_tests::span_names(&output), ["after-resets"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_sent_one_byte_at_a_time_are_timed_out() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let running = start(&output).await;
    let http = spanwise_tests::address(&running, "http");
    let mut slow = TcpStream::connect(http).await.unwrap();
    let started = Instant::now();
    let headers = b"POST /v1/traces HTTP/1.1\r\nHost: spanwise\r\nContent-Type: application/x-protobuf\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    // One byte every 50 ms: the headers would take 7 s; the limit is 300 ms.
    let mut closed_after = None;
    for byte in headers {
        if slow.write_all(&[*byte]).await.is_err() {
            closed_after = Some(started.elapsed());
            break;
        }
        let mut buffer = [0u8; 512];
        // An answer (408) or the end of the connection, whichever comes.
        if let Ok(Ok(_) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(50), slow.read(&mut buffer)).await
        {
            closed_after = Some(started.elapsed());
            break;
        }
    }
    let closed_after = closed_after.expect("the slow client was never cut off");
    eprintln!("the slow client was cut off after {closed_after:?}");
    assert!(
        closed_after < Duration::from_secs(3),
        "cut off after {closed_after:?}"
    );
    still_served(&running, "after-slow-loris").await;
    running.shutdown().await;
    assert_eq!(spanwise_tests::span_names(&output), ["after-slow-loris"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_its_answers_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let running = start(&output).await;
    let http = spanwise_tests::address(&running, "http");
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut deaf = socket.connect(http).await.unwrap();
    // Pipelined requests, each answered 404, never read: up to 200,000 of them, then one at a
    // time, for at most 30 s in all.
    let one = b"GET /nothing HTTP/1.1\r\nHost: spanwise\r\n\r\n";
    let chunk = one.repeat(500);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sent = 0;
    let mut cut_off = false;
    while Instant::now() < deadline {
        let (piece, count) = if sent < 200_000 {
            (&chunk[..], 500)
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            (&one[..], 1)
        };
        match tokio::time::timeout(Duration::from_millis(500), deaf.write_all(piece)).await {
            Ok(Ok(())) => sent += count,
            Ok(Err(_)) => {
                cut_off = true;
                break;
            }
            // The server stopped reading: its answers have nowhere to go.
            Err(_) => {}
        }
        if sent % 20_000 == 0 {
            still_served(&running, &format!("meanwhile-{sent}")).await;
        }
    }
    assert!(
        cut_off,
        "a client that does not read kept its connection ({sent} requests)"
    );
    eprintln!("the deaf client was cut off after {sent} requests");
    still_served(&running, "after-deaf-client").await;
    running.shutdown().await;
    let names = spanwise_tests::span_names(&output);
    assert_eq!(names.last().map(String::as_str), Some("after-deaf-client"));
}
