//! The OTLP receivers on real loopback servers: good requests are processed and exported, and
//! every kind of bad input gets its own clear error while the host keeps serving.

use bytes::{Buf, BufMut, Bytes};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use spanwise_batch::{BatchBuilder, kv};
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

const LIMIT: usize = 64 << 10;

struct Service {
    running: spanwise::service::Running,
    grpc: SocketAddr,
    http: SocketAddr,
    output: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn start() -> Service {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:0", max_recv_msg_size_mib: 1 }}
      http: {{ endpoint: "127.0.0.1:0", max_request_body_size: {LIMIT} }}
processors:
  wasm/url: {{ plugin: "{url}" }}
  wasm/misbehave: {{ plugin: "{guest}", on_error: drop }}
exporters:
  file: {{ path: "{output}" }}
runtime: {{ cache_dir: "{cache}" }}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [wasm/url, wasm/misbehave]
      exporters: [file]
"#,
        url = spanwise_tests::plugin("url").display(),
        guest = spanwise_tests::guest("misbehave").display(),
        output = output.display(),
        cache = dir.path().join("cache").display(),
    );
    let running = spanwise_tests::start_service(&config, "receivers-test.yaml").await;
    let grpc = spanwise_tests::address(&running, "grpc");
    let http = spanwise_tests::address(&running, "http");
    Service {
        running,
        grpc,
        http,
        output,
        _dir: dir,
    }
}

fn request(name: &str, spans: usize) -> ExportTraceServiceRequest {
    let mut builder = BatchBuilder::new().resource(vec![kv("service.name", "receiver-test")]);
    for i in 0..spans {
        builder = builder.span(
            name,
            vec![kv("url.full", format!("https://h/p?token={i}").as_str())],
        );
    }
    builder.build().into_request()
}

async fn post(
    address: SocketAddr,
    content_type: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> (u16, Bytes) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut builder = hyper::Request::post(format!("http://{address}/v1/traces"))
        .header("content-type", content_type);
    if let Some(encoding) = encoding {
        builder = builder.header("content-encoding", encoding);
    }
    let response = client
        .request(builder.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

/// `google.rpc.Status` as OTLP/HTTP error bodies carry it.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_accepts_protobuf_json_and_gzip_and_reports_partial_success() {
    let service = start().await;

    let (status, body) = post(
        service.http,
        "application/x-protobuf",
        None,
        request("proto", 2).encode_to_vec(),
    )
    .await;
    assert_eq!(status, 200);
    let answer = ExportTraceServiceResponse::decode(body).unwrap();
    assert_eq!(answer.partial_success, None);

    let json = serde_json::to_vec(&request("json", 1)).unwrap();
    let (status, body) = post(service.http, "application/json", None, json).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({})
    );
    let json = serde_json::to_vec(&request("panic", 2)).unwrap();
    let (status, body) = post(service.http, "application/json", None, json).await;
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["partialSuccess"]["rejectedSpans"], "2", "{answer}");

    let (status, _) = post(
        service.http,
        "application/x-protobuf",
        Some("gzip"),
        gzip(&request("gzipped", 1).encode_to_vec()),
    )
    .await;
    assert_eq!(status, 200);

    // The misbehaving guest panics on this batch; on_error: drop drops it and says so.
    let (status, body) = post(
        service.http,
        "application/x-protobuf",
        None,
        request("panic", 3).encode_to_vec(),
    )
    .await;
    assert_eq!(status, 200);
    let partial = ExportTraceServiceResponse::decode(body)
        .unwrap()
        .partial_success
        .expect("partial success");
    assert_eq!(partial.rejected_spans, 3);
    assert!(
        partial.error_message.contains("wasm/misbehave"),
        "{}",
        partial.error_message
    );

    service.running.shutdown().await;
    let names = spanwise_tests::span_names(&service.output);
    assert_eq!(names, vec!["proto", "proto", "json", "gzipped"]);
    let text = std::fs::read_to_string(&service.output).unwrap();
    assert!(
        !text.contains("token="),
        "the URL plugin stripped every token: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_bad_input_gets_clear_errors_and_the_host_keeps_serving() {
    let service = start().await;
    let status_of = |body: &Bytes| RpcStatus::decode(body.clone()).unwrap();

    let (status, body) = post(
        service.http,
        "application/x-protobuf",
        None,
        vec![0xff, 0xff, 0xff, 0x0f],
    )
    .await;
    assert_eq!(status, 400);
    let rpc = status_of(&body);
    assert_eq!(rpc.code, 3, "INVALID_ARGUMENT");
    assert!(
        rpc.message.contains("malformed OTLP protobuf"),
        "{}",
        rpc.message
    );

    let (status, body) = post(
        service.http,
        "application/json",
        None,
        b"{\"resourceSpans\": [".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("malformed OTLP JSON"),
        "{json}"
    );

    let (status, body) = post(service.http, "text/plain", None, b"hello".to_vec()).await;
    assert_eq!(status, 415);
    assert!(status_of(&body).message.contains("text/plain"));

    let (status, _) = post(
        service.http,
        "application/x-protobuf",
        Some("br"),
        vec![1, 2, 3],
    )
    .await;
    assert_eq!(status, 415);

    let oversized = request("big", 1500).encode_to_vec();
    assert!(oversized.len() > LIMIT);
    let (status, body) = post(service.http, "application/x-protobuf", None, oversized).await;
    assert_eq!(status, 413);
    assert_eq!(status_of(&body).code, 8, "RESOURCE_EXHAUSTED");

    // 16 MiB of zeros compress to a few KiB: under the limit on the wire, far over it inflated.
    let bomb = gzip(&vec![0u8; 16 << 20]);
    assert!(bomb.len() < LIMIT);
    let (status, body) = post(service.http, "application/x-protobuf", Some("gzip"), bomb).await;
    assert_eq!(status, 413);
    assert!(status_of(&body).message.contains("larger than the limit"));

    let (status, _) = post(
        service.http,
        "application/x-protobuf",
        Some("gzip"),
        b"not gzip".to_vec(),
    )
    .await;
    assert_eq!(status, 400);

    let (status, _) = post(
        service.http,
        "application/x-protobuf",
        None,
        request("still-serving", 1).encode_to_vec(),
    )
    .await;
    assert_eq!(status, 200);
    service.running.shutdown().await;
    assert_eq!(
        spanwise_tests::span_names(&service.output),
        vec!["still-serving"]
    );
}

/// Sends arbitrary bytes as the request message, to test what the server does with them.
#[derive(Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = ExportTraceServiceResponse;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = ExportTraceServiceResponse;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, tonic::Status> {
        ExportTraceServiceResponse::decode(src.copy_to_bytes(src.remaining()))
            .map(Some)
            .map_err(|e| tonic::Status::internal(e.to_string()))
    }
}

async fn raw_grpc(
    address: SocketAddr,
    body: Vec<u8>,
    gzip: bool,
) -> Result<ExportTraceServiceResponse, tonic::Status> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    if gzip {
        grpc = grpc.send_compressed(tonic::codec::CompressionEncoding::Gzip);
    }
    grpc.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    );
    grpc.unary(tonic::Request::new(body), path, RawCodec)
        .await
        .map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_accepts_exports_and_refuses_bad_input_with_the_otlp_codes() {
    let service = start().await;
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", service.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client =
        TraceServiceClient::new(channel).send_compressed(tonic::codec::CompressionEncoding::Gzip);
    let answer = client
        .export(request("grpc", 2))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.partial_success, None);

    let answer = client
        .export(request("panic", 2))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.partial_success.unwrap().rejected_spans, 2);

    let error = raw_grpc(service.grpc, vec![0xff, 0xff, 0xff, 0x0f], false)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument, "{error}");
    assert!(
        error.message().contains("malformed OTLP protobuf"),
        "{error}"
    );

    let error = raw_grpc(service.grpc, request("big", 30_000).encode_to_vec(), false)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::ResourceExhausted, "{error}");

    let error = raw_grpc(service.grpc, vec![0u8; 16 << 20], true)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::ResourceExhausted, "{error}");

    let answer = client
        .export(request("grpc-still-serving", 1))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.partial_success, None);
    service.running.shutdown().await;
    assert_eq!(
        spanwise_tests::span_names(&service.output),
        vec!["grpc", "grpc", "grpc-still-serving"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_service_stops_listening_and_leaves_no_task_running() {
    let service = start().await;
    let (grpc, http) = (service.grpc, service.http);
    let alive = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    assert!(alive >= 2, "two servers run");
    drop(service.running);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let closed = |address| std::net::TcpStream::connect(address).is_err();
    while !(closed(grpc) && closed(http)) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        closed(grpc) && closed(http),
        "both receivers stopped listening"
    );
    while tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
        > 0
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        0,
        "nothing the service started is left running"
    );
}

/// A pipeline of `processors` (YAML flow list) to a file, built with a fresh runtime.
fn pipelines(dir: &std::path::Path, processors: &str) -> Vec<spanwise::pipeline::Pipeline> {
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:0" }}
processors:
  batch: {{}}
  wasm/filter:
    plugin: {filter}
    config:
      traces:
        span: ['attributes["http.route"] == "/health"']
  wasm/by_name:
    plugin: {filter}
    config:
      traces:
        span: ['name == "GET /health"']
  tail_sampling:
    sampler:
      plugin: {tail}
      config:
        policies: [{{ name: all, type: always_sample }}]
exporters:
  file: {{ path: {out} }}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: {processors}
      exporters: [file]
"#,
        filter = spanwise_tests::plugin("filter").display(),
        tail = spanwise_tests::plugin("tail_sampler").display(),
        out = dir.join("traces.jsonl").display(),
    );
    let config = spanwise::config::Config::parse(&yaml, std::path::Path::new("r.yaml"), &|_| None)
        .expect("a valid config");
    let runtime = spanwise_tests::runtime(&dir.join("cache"));
    spanwise::pipeline::build_pipelines(&config, &runtime).expect("the pipeline builds")
}

#[tokio::test]
async fn requests_stay_in_wire_form_unless_a_stage_reads_the_spans() {
    let dir = tempfile::tempdir().unwrap();
    let request = BatchBuilder::new()
        .span("GET /a", vec![kv("http.route", "/a")])
        .build()
        .into_request();
    let bytes = Bytes::from(request.encode_to_vec());
    let (pass, read) = (
        pipelines(dir.path(), "[batch]"),
        pipelines(dir.path(), "[wasm/filter, batch]"),
    );
    let passing = spanwise::receiver::Consumer::new(pass.clone());
    let kept = passing.take(bytes.clone()).unwrap();
    assert!(kept.is_wire_only(), "batch and export only: never decoded");
    assert_eq!(kept.encoded(), Some(&bytes));
    // The tail sampler holds spans encoded: it takes the request's bytes as they came, and a
    // plugin after it reads the traces it sends on, not the request.
    let tail = pipelines(dir.path(), "[tail_sampling, wasm/filter, batch]");
    let buffered = spanwise::receiver::Consumer::new(tail.clone());
    assert!(buffered.take(bytes.clone()).unwrap().is_wire_only());
    // A plugin reads it first: indexed, and read and edited in that form for as long as the
    // plugin needs nothing else. The filter's attribute condition is read from the bytes.
    let after = pipelines(dir.path(), "[wasm/filter, tail_sampling]");
    let filtered = spanwise::receiver::Consumer::new(after.clone());
    assert!(filtered.take(bytes.clone()).unwrap().is_indexed());
    let reading = spanwise::receiver::Consumer::new(read.clone());
    let indexed = reading.take(bytes.clone()).unwrap();
    assert!(indexed.is_indexed(), "a plugin reads it first: indexed");
    assert_eq!(indexed.to_request(), request);
    let alone = pipelines(dir.path(), "[wasm/filter]");
    let consumer = spanwise::receiver::Consumer::new(alone.clone());
    consumer
        .consume(consumer.take(bytes.clone()).unwrap())
        .await
        .unwrap();
    assert!(
        consumer.take(bytes.clone()).unwrap().is_indexed(),
        "the filter read its batch in wire form: still indexed"
    );
    // A plugin that reads what the index does not answer (span names) decodes its first
    // batch; from then on the receiver decodes at once.
    let by_name = pipelines(dir.path(), "[wasm/by_name]");
    let consumer = spanwise::receiver::Consumer::new(by_name.clone());
    let first = consumer.take(bytes.clone()).unwrap();
    assert!(first.is_indexed());
    consumer.consume(first).await.unwrap();
    let decoded = consumer.take(bytes.clone()).unwrap();
    assert!(!decoded.is_wire_only(), "decoded at once");
    assert_eq!(decoded.to_request(), request);
    for consumer in [&passing, &reading] {
        assert!(
            consumer
                .take(Bytes::from_static(&[0x0a, 0x05, 0x01]))
                .is_err()
        );
    }
    for pipeline in pass.iter().chain(&read).chain(&tail).chain(&after) {
        pipeline.shutdown().await;
    }
}
