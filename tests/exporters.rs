//! The `otlp` and `otlphttp` exporters against real receivers: one spanwise service forwards to
//! another over OTLP/gRPC, OTLP/HTTP protobuf and OTLP/HTTP JSON. With `sending_queue` and
//! `retry_on_failure` (on by default, as in the collector): a destination that is down for a
//! while gets every span once it is up; gRPC and HTTP servers on loopback that answer from a
//! script see retries exactly where the collector retries (UNAVAILABLE, 503, RESOURCE_EXHAUSTED
//! with RetryInfo, Retry-After honoured) and none where it does not (400, INVALID_ARGUMENT); a
//! full queue refuses with 503; shutdown ends the waits and counts what was lost. Without them,
//! a destination that is down makes the receiving side answer 503 so that the client retries.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
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

/// A backend: OTLP in with `protocols` (YAML lines under `protocols:`), out to the file
/// `output`.
fn backend_yaml(protocols: &str, output: &std::path::Path) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      {protocols}
exporters:
  file: {{ path: "{}" }}
service:
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file] }}
"#,
        output.display()
    )
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
    let backend = start(&backend_yaml(
        "grpc: { endpoint: \"127.0.0.1:0\" }\n      http: { endpoint: \"127.0.0.1:0\" }",
        &output,
    ))
    .await;
    let forwarder = start(&format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:0" }}
exporters:
  otlp: {{ endpoint: "{grpc}", tls: {{ insecure: true }} }}
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
async fn without_queue_or_retries_a_destination_that_is_down_makes_the_receiver_answer_503() {
    let closed = spanwise_tests::free_address();
    let forwarder = start(&format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:0" }}
exporters:
  otlphttp:
    endpoint: "http://{closed}"
    timeout: 2s
    retry_on_failure: {{ enabled: false }}
    sending_queue: {{ enabled: false }}
service:
  pipelines:
    traces: {{ receivers: [otlp], exporters: [otlphttp] }}
"#
    ))
    .await;
    assert_eq!(post(address(&forwarder, "http"), 1).await, 503);
    forwarder.shutdown().await;
}

/// The forwarder's config: OTLP/HTTP in, `exporter` (YAML flow map of the `otlp` or `otlphttp`
/// exporter's keys) out, with fast retries unless the exporter's keys set them.
fn forwarder_yaml(kind: &str, exporter: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:0" }}
exporters:
  {kind}: {exporter}
service:
  pipelines:
    traces: {{ receivers: [otlp], exporters: [{kind}] }}
"#
    )
}

/// Fast waits for tests: 50 ms, then up to 200 ms, for at most 20 s.
const FAST_RETRIES: &str = "{ initial_interval: 50ms, max_interval: 200ms, max_elapsed_time: 20s, randomization_factor: 0 }";

/// Wait (at most 30 s) until `done` holds.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what} within 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The forwarder's exporter counters.
fn exporter_stats(
    pipelines: &[spanwise::pipeline::Pipeline],
) -> std::collections::BTreeMap<String, u64> {
    pipelines[0].exporter_summaries()[0].stats.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_down_for_a_while_gets_every_span_once_it_is_up() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("received.jsonl");
    // A port with nothing on it yet.
    let port = spanwise_tests::free_address().port();
    let forwarder = start(&forwarder_yaml(
        "otlp",
        &format!(
            "{{ endpoint: \"http://127.0.0.1:{port}\", timeout: 1s, retry_on_failure: {FAST_RETRIES} }}"
        ),
    ))
    .await;
    for _ in 0..5 {
        assert_eq!(post(address(&forwarder, "http"), 3).await, 200, "queued");
    }
    eventually("failed attempts", || {
        exporter_stats(&forwarder.pipelines())
            .get("retries")
            .copied()
            .unwrap_or(0)
            >= 5
    })
    .await;
    let backend = start(&backend_yaml(
        &format!("grpc: {{ endpoint: \"127.0.0.1:{port}\" }}"),
        &output,
    ))
    .await;
    eventually("every batch delivered", || {
        exporter_stats(&forwarder.pipelines()).get("batches_sent") == Some(&5)
    })
    .await;
    let pipelines = forwarder.pipelines().to_vec();
    forwarder.shutdown().await;
    backend.shutdown().await;
    let stats = exporter_stats(&pipelines);
    assert_eq!(stats["spans_sent"], 15);
    assert_eq!(stats.get("spans_lost"), None);
    let received: usize = spanwise_tests::read_jsonl(&output)
        .iter()
        .map(spanwise_tests::span_count)
        .sum();
    assert_eq!(received, 15, "every span once");
}

/// A gRPC trace service that answers each call with the next status of its script, then
/// accepts; it keeps the time of every call and the spans it accepted.
#[derive(Default)]
struct Scripted {
    script: std::sync::Mutex<std::collections::VecDeque<tonic::Status>>,
    calls: std::sync::Mutex<Vec<std::time::Instant>>,
    accepted: std::sync::atomic::AtomicUsize,
}

struct ScriptedService(std::sync::Arc<Scripted>);

#[tonic::async_trait]
impl TraceService for ScriptedService {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.calls.lock().unwrap().push(std::time::Instant::now());
        if let Some(status) = self.0.script.lock().unwrap().pop_front() {
            return Err(status);
        }
        self.0.accepted.fetch_add(
            spanwise_tests::span_count(request.get_ref()),
            std::sync::atomic::Ordering::SeqCst,
        );
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// Serve `script` over OTLP/gRPC on loopback until the test ends.
fn scripted_grpc(script: Vec<tonic::Status>) -> (SocketAddr, std::sync::Arc<Scripted>) {
    let state = std::sync::Arc::new(Scripted::default());
    *state.script.lock().unwrap() = script.into();
    let incoming =
        tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = incoming.local_addr().unwrap();
    let service = TraceServiceServer::new(ScriptedService(state.clone()))
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming),
    );
    (address, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_failures_are_retried_as_the_collector_retries_them() {
    use tonic_types::{ErrorDetails, StatusExt};
    let throttled = tonic::Status::with_error_details(
        tonic::Code::ResourceExhausted,
        "slow down",
        ErrorDetails::with_retry_info(Some(std::time::Duration::from_millis(700))),
    );
    // Two that may pass, a throttle that says how long to wait; then the batch is taken.
    let (address, backend) = scripted_grpc(vec![
        tonic::Status::unavailable("starting"),
        tonic::Status::deadline_exceeded("slow"),
        throttled,
    ]);
    let forwarder = start(&forwarder_yaml(
        "otlp",
        &format!("{{ endpoint: \"http://{address}\", retry_on_failure: {FAST_RETRIES} }}"),
    ))
    .await;
    assert_eq!(post(address_of(&forwarder), 4).await, 200);
    eventually("the batch delivered", || {
        backend.accepted.load(std::sync::atomic::Ordering::SeqCst) == 4
    })
    .await;
    let calls = backend.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 4);
    assert!(
        calls[3] - calls[2] >= std::time::Duration::from_millis(700),
        "the throttle's RetryInfo was honoured: {:?}",
        calls[3] - calls[2]
    );
    assert_eq!(exporter_stats(&forwarder.pipelines())["retries"], 3);

    // A refusal of the data itself, and a throttle that does not say when: never again.
    *backend.script.lock().unwrap() = vec![
        tonic::Status::invalid_argument("bad spans"),
        tonic::Status::resource_exhausted("no"),
    ]
    .into();
    assert_eq!(post(address_of(&forwarder), 2).await, 200);
    assert_eq!(post(address_of(&forwarder), 2).await, 200);
    eventually("both batches given up", || {
        exporter_stats(&forwarder.pipelines()).get("batches_lost") == Some(&2)
    })
    .await;
    assert_eq!(backend.calls.lock().unwrap().len(), 6, "one call each");
    let pipelines = forwarder.pipelines().to_vec();
    forwarder.shutdown().await;
    assert_eq!(exporter_stats(&pipelines)["spans_lost"], 4);
}

fn address_of(running: &Running) -> SocketAddr {
    address(running, "http")
}

/// An OTLP/HTTP server that answers each request with the next `(status, Retry-After)` of its
/// script, then 200; it keeps the time of every request.
async fn scripted_http(
    script: Vec<(u16, Option<&'static str>)>,
) -> (
    SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<std::time::Instant>>>,
) {
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let script = std::sync::Arc::new(std::sync::Mutex::new(
        script
            .into_iter()
            .collect::<std::collections::VecDeque<_>>(),
    ));
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post({
            let calls = calls.clone();
            move || {
                calls.lock().unwrap().push(std::time::Instant::now());
                let next = script.lock().unwrap().pop_front();
                async move {
                    let (status, retry_after) = next.unwrap_or((200, None));
                    let mut response = http::Response::builder().status(status);
                    if let Some(after) = retry_after {
                        response = response.header("retry-after", after);
                    }
                    response.body(axum::body::Body::empty()).unwrap()
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, calls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_failures_are_retried_as_the_collector_retries_them() {
    let (address, calls) = scripted_http(vec![(503, Some("1")), (429, None)]).await;
    let forwarder = start(&forwarder_yaml(
        "otlphttp",
        &format!(
            "{{ endpoint: \"http://{address}\", retry_on_failure: {FAST_RETRIES}, \
             sending_queue: {{ enabled: false }} }}"
        ),
    ))
    .await;
    // Without a queue the request waits for the retries: 503 (Retry-After: 1), 429, then 200.
    let started = std::time::Instant::now();
    assert_eq!(post(address_of(&forwarder), 1).await, 200);
    {
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 3);
        assert!(
            calls[1] - calls[0] >= std::time::Duration::from_secs(1),
            "Retry-After honoured: {:?}",
            calls[1] - calls[0]
        );
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // A 400: refused once, not sent again, and the client told to retry.
    let (address2, calls2) = scripted_http(vec![(400, None)]).await;
    let refusing = start(&forwarder_yaml(
        "otlphttp",
        &format!(
            "{{ endpoint: \"http://{address2}\", retry_on_failure: {FAST_RETRIES}, \
             sending_queue: {{ enabled: false }} }}"
        ),
    ))
    .await;
    assert_eq!(post(address_of(&refusing), 1).await, 503);
    assert_eq!(calls2.lock().unwrap().len(), 1, "a 400 is not sent again");
    forwarder.shutdown().await;
    refusing.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_with_503_and_shutdown_ends_the_waits_counting_the_lost() {
    let closed = spanwise_tests::free_address();
    let forwarder = start(&forwarder_yaml(
        "otlp",
        &format!(
            "{{ endpoint: \"http://{closed}\", timeout: 1s, \
             retry_on_failure: {{ initial_interval: 1h, max_interval: 1h, max_elapsed_time: 0 }}, \
             sending_queue: {{ num_consumers: 1, queue_size: 1 }} }}"
        ),
    ))
    .await;
    // One batch in the consumer's hands (waiting an hour to retry), one in the queue.
    assert_eq!(post(address_of(&forwarder), 2).await, 200);
    eventually("the first batch taken from the queue", || {
        exporter_stats(&forwarder.pipelines()).contains_key("attempts")
    })
    .await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(post(address_of(&forwarder), 2).await);
    }
    assert_eq!(codes[0], 200, "{codes:?}");
    assert!(codes[1..].iter().all(|&c| c == 503), "{codes:?}");
    let stats = exporter_stats(&forwarder.pipelines());
    assert_eq!(stats["batches_refused_queue_full"], 2);
    let pipelines = forwarder.pipelines().to_vec();
    let started = std::time::Instant::now();
    forwarder.shutdown().await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "shutdown waited {:?}",
        started.elapsed()
    );
    let stats = exporter_stats(&pipelines);
    assert_eq!(
        stats["spans_lost"], 4,
        "both held batches counted: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_that_outlasts_shutdown_timeout_stops_and_reports_what_it_left() {
    // A destination that takes connections and never answers: each export hangs until its
    // timeout of an hour, and the last attempt of shutdown with it.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut connections = Vec::new();
        while let Ok((connection, _)) = silent.accept().await {
            connections.push(connection);
        }
    });
    let forwarder = start(&forwarder_yaml(
        "otlp",
        &format!("{{ endpoint: \"http://{at}\", timeout: 1h, retry_on_failure: {FAST_RETRIES} }}"),
    ))
    .await;
    for _ in 0..3 {
        assert_eq!(post(address_of(&forwarder), 2).await, 200);
    }
    let started = std::time::Instant::now();
    let left = forwarder
        .shutdown_within(Some(std::time::Duration::from_secs(1)))
        .await
        .expect_err("the silent destination cannot be drained");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
    assert_eq!(left.pipelines, ["traces"]);
    assert_eq!(left.queued, [("otlp".to_owned(), 6)]);
    let message = left.to_string();
    assert!(
        message.contains("shutdown_timeout (1s)") && message.contains("otlp 6"),
        "{message}"
    );
    held.abort();
}
