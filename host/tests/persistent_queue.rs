//! The persistent sending queue: batches a `spanwise run` took while its destination was down
//! survive `kill -9` and are sent once, after the restart, when the destination is up; a
//! corrupt queue file is set aside and reported, and the host still starts.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use spanwise_batch::{BatchBuilder, kv};
use spanwise_tests::Spanwise;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_spanwise"))
}

async fn post(address: SocketAddr, batch: usize) -> u16 {
    let mut builder = BatchBuilder::new().resource(vec![kv("service.name", "queued")]);
    for span in 0..2 {
        builder = builder.span(&format!("batch-{batch}-span-{span}"), vec![]);
    }
    let body = builder.build().into_request().encode_to_vec();
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = hyper::Request::post(format!("http://{address}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    client.request(request).await.unwrap().status().as_u16()
}

fn batch_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "batch"))
            .count()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_queued_before_kill_9_are_sent_once_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let queue = dir.path().join("queue");
    // The destination's port, free now; nothing listens there until the restart.
    let port = spanwise_tests::free_address().port();
    let config = dir.path().join("spanwise.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:0" }}
      http: {{ endpoint: "127.0.0.1:0" }}
exporters:
  otlp:
    endpoint: http://127.0.0.1:{port}
    timeout: 1s
    retry_on_failure: {{ initial_interval: 50ms, max_interval: 200ms, max_elapsed_time: 0 }}
    sending_queue: {{ storage: "{queue}" }}
service:
  pipelines:
    traces: {{ receivers: [otlp], exporters: [otlp] }}
"#,
            queue = queue.display()
        ),
    )
    .unwrap();

    let first = Spanwise::start(binary(), &config);
    for batch in 0..5 {
        assert_eq!(post(first.http, batch).await, 200);
    }
    assert_eq!(
        batch_files(&queue),
        5,
        "each batch is on disk once answered"
    );
    drop(first); // SIGKILL: no flush, no shutdown.
    std::fs::write(
        queue.join("00000000000000000100.batch"),
        b"torn by a bad disk",
    )
    .unwrap();

    let output = dir.path().join("received.jsonl");
    let destination = spanwise_tests::start_service(
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{port}" }}
exporters:
  file: {{ path: "{}" }}
service:
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file] }}
"#,
            output.display()
        ),
        "destination.yaml",
    )
    .await;

    let second = Spanwise::start(binary(), &config);
    let deadline = Instant::now() + Duration::from_secs(60);
    while batch_files(&queue) > 0 {
        assert!(
            Instant::now() < deadline,
            "{} batches still queued after 60 s",
            batch_files(&queue)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    second.stop();
    destination.shutdown().await;
    let expected: Vec<String> = (0..5)
        .flat_map(|batch| (0..2).map(move |span| format!("batch-{batch}-span-{span}")))
        .collect();
    assert_eq!(
        spanwise_tests::sorted_span_names(&output),
        expected,
        "every span once, none twice"
    );
    assert!(
        queue.join("corrupt/00000000000000000100.batch").exists(),
        "the corrupt file is kept aside for a look"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_shutdown_keeps_what_it_could_not_deliver_for_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let queue = dir.path().join("queue");
    let closed = spanwise_tests::free_address();
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:0" }}
exporters:
  otlp:
    endpoint: http://{closed}
    timeout: 1s
    retry_on_failure: {{ initial_interval: 1h, max_interval: 1h, max_elapsed_time: 0 }}
    sending_queue: {{ storage: "{queue}" }}
service:
  pipelines:
    traces: {{ receivers: [otlp], exporters: [otlp] }}
"#,
        queue = queue.display()
    );
    let running = spanwise_tests::start_service(&yaml, "kept.yaml").await;
    let http = spanwise_tests::address(&running, "http");
    for batch in 0..3 {
        assert_eq!(post(http, batch).await, 200);
    }
    let pipelines = running.pipelines().to_vec();
    running
        .shutdown_within(Some(Duration::from_secs(20)))
        .await
        .expect("nothing is left undelivered: it is kept");
    let stats = pipelines[0].exporters()[0].stats().unwrap().snapshot();
    assert_eq!(stats.get("spans_kept"), Some(&6), "{stats:?}");
    assert_eq!(stats.get("spans_lost"), None, "{stats:?}");
    assert_eq!(batch_files(&queue), 3);
}
