//! Reloading `spanwise run`'s config while traffic flows: a swap under load loses no span and
//! processes none twice (every span is processed whole by the old config or the new one, old
//! before new); a reload triggered by a file change alone; a bad config, or a change that takes
//! a restart, is refused and changes nothing.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use spanwise_batch::{BatchBuilder, kv};
use spanwise_tests::{Spanwise, string_attribute};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_spanwise"))
}

/// The config: OTLP/HTTP in, the URL plugin keeping the query parameters `keep` (a YAML flow
/// list), a batch processor, the file `output` out.
fn config(dir: &Path, keep: &str, output: &Path) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:0" }}
      http: {{ endpoint: "127.0.0.1:0" }}
processors:
  wasm/url:
    plugin: {plugin}
    config: {{ keep_params: {keep} }}
  batch: {{ timeout: 20ms }}
exporters:
  file: {{ path: "{output}" }}
runtime: {{ cache_dir: "{cache}" }}
service:
  pipelines:
    traces: {{ receivers: [otlp], processors: [wasm/url, batch], exporters: [file] }}
"#,
        plugin = spanwise_tests::plugin("url").display(),
        output = output.display(),
        cache = dir.join("cache").display(),
    )
}

/// Write `text` to `path` in one step (a rename), as a deploy tool or Kubernetes does.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

async fn post(address: SocketAddr, n: usize) -> u16 {
    let body = BatchBuilder::new()
        .resource(vec![kv("service.name", "reloaded")])
        .span(
            &format!("span-{n}"),
            vec![kv(
                "url.full",
                format!("https://api.example/v1/sleep?page={n}&token=secret").as_str(),
            )],
        )
        .build()
        .into_request()
        .encode_to_vec();
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = hyper::Request::post(format!("http://{address}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    client.request(request).await.unwrap().status().as_u16()
}

/// Every exported span's number and whether the page parameter was kept, by number.
fn exported(output: &Path) -> Vec<(usize, bool)> {
    let mut spans: Vec<(usize, bool)> = spanwise_tests::read_jsonl(output)
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|span| {
            let n = span.name.trim_start_matches("span-").parse().unwrap();
            let url = string_attribute(span, "url.full").unwrap();
            assert!(
                !url.contains("token"),
                "the token is stripped by either config: {url}"
            );
            (n, url.contains("page="))
        })
        .collect();
    spans.sort();
    spans
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_under_load_loses_no_span_and_processes_none_twice() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let path = dir.path().join("spanwise.yaml");
    replace(&path, &config(dir.path(), "[page]", &output));
    let spanwise = Spanwise::start(binary(), &path);
    let http = spanwise.http;
    // Spans one after the other until 100 after the reload is done (at most 20,000).
    let reloaded = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = tokio::spawn({
        let reloaded = reloaded.clone();
        async move {
            let mut after = 0;
            let mut n = 0;
            while after < 100 && n < 20_000 {
                assert_eq!(post(http, n).await, 200, "span {n}");
                n += 1;
                if reloaded.load(std::sync::atomic::Ordering::SeqCst) {
                    after += 1;
                }
            }
            n
        }
    });
    // Swap once traffic is flowing: the new config keeps no query parameter.
    tokio::time::sleep(Duration::from_millis(300)).await;
    replace(&path, &config(dir.path(), "[]", &output));
    spanwise.signal("HUP");
    let line = spanwise.wait_for_log("reloaded", Duration::from_secs(60));
    reloaded.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(line.contains("kept_exporters: [\"file\"]"), "{line}");
    let sent = sender.await.unwrap();
    spanwise.stop();

    let spans = exported(&output);
    let numbers: Vec<usize> = spans.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        numbers,
        (0..sent).collect::<Vec<_>>(),
        "each span exactly once"
    );
    // Sent one after the other: the old config up to the swap, the new one after it.
    let swap = spans
        .iter()
        .position(|(_, kept)| !kept)
        .expect("some spans after the swap");
    assert!(swap > 0, "some spans before the swap");
    assert!(
        spans[swap..].iter().all(|(_, kept)| !kept),
        "after the first span of the new config, only the new config: {:?}",
        &spans[swap..]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_file_reloads_and_a_bad_or_restart_only_change_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let path = dir.path().join("spanwise.yaml");
    let good = config(dir.path(), "[page]", &output);
    replace(&path, &good);
    let spanwise = Spanwise::start(binary(), &path);
    assert_eq!(post(spanwise.http, 0).await, 200);

    // A config the plugin refuses: noticed without a signal, refused, the old one runs on.
    replace(&path, &good.replace("keep_params:", "keep_parameters:"));
    let line = spanwise.wait_for_log("reload refused", Duration::from_secs(30));
    assert!(line.contains("keep_parameters"), "{line}");
    assert_eq!(post(spanwise.http, 1).await, 200);

    // A new receiver endpoint takes a restart.
    replace(
        &path,
        &good.replace(
            "grpc: { endpoint: \"127.0.0.1:0\" }",
            "grpc: { endpoint: \"127.0.0.1:1\" }",
        ),
    );
    let line = spanwise.wait_for_log("reload refused", Duration::from_secs(30));
    assert!(
        line.contains("receivers") && line.contains("restart"),
        "{line}"
    );
    assert_eq!(post(spanwise.http, 2).await, 200);

    // A good change, noticed without a signal.
    replace(&path, &config(dir.path(), "[]", &output));
    spanwise.wait_for_log("reloaded", Duration::from_secs(30));
    assert_eq!(post(spanwise.http, 3).await, 200);
    spanwise.stop();
    assert_eq!(
        exported(&output),
        [(0, true), (1, true), (2, true), (3, false)]
    );
}
