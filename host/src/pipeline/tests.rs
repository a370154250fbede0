//! The batch processor: size, split and timeout flushes, and the flush on shutdown, with an
//! exporter that records what it was given.

use super::{Batcher, Chain, Pipeline, Stage};
use crate::config::BatchConfig;
use crate::exporter::{BoxFuture, ExportError, Exporter, span_count};
use spanwise_batch::{Batch, BatchBuilder};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Recorder {
    sizes: Mutex<Vec<usize>>,
}

impl Exporter for Recorder {
    fn id(&self) -> &str {
        "recorder"
    }
    fn export<'a>(&'a self, request: &'a Batch) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            self.sizes.lock().unwrap().push(span_count(request));
            Ok(())
        })
    }
}

fn spans(n: usize) -> Batch {
    (0..n)
        .fold(BatchBuilder::new(), |b, i| b.span(&format!("s{i}"), vec![]))
        .build()
}

fn pipeline(config: BatchConfig) -> (Pipeline, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let pipeline = Pipeline::new(Chain {
        id: "traces".into(),
        stages: vec![Stage::Batch(Arc::new(Batcher::new("batch", config)))],
        exporters: vec![recorder.clone()],
    });
    (pipeline, recorder)
}

fn config(size: usize, max: usize, timeout: Duration) -> BatchConfig {
    BatchConfig {
        timeout,
        send_batch_size: size,
        send_batch_max_size: max,
    }
}

async fn wait_for(recorder: &Recorder, exports: usize) -> Vec<usize> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let sizes = recorder.sizes.lock().unwrap().clone();
        if sizes.len() >= exports || Instant::now() > deadline {
            return sizes;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn sends_when_full_and_flushes_the_rest_on_shutdown() {
    let (pipeline, recorder) = pipeline(config(4, 0, Duration::from_secs(3600)));
    for _ in 0..3 {
        pipeline.consume(spans(2)).await.unwrap();
    }
    assert_eq!(wait_for(&recorder, 1).await, vec![4]);
    pipeline.shutdown().await;
    assert_eq!(*recorder.sizes.lock().unwrap(), vec![4, 2]);
}

#[tokio::test]
async fn splits_batches_over_the_max_size() {
    let (pipeline, recorder) = pipeline(config(4, 3, Duration::from_secs(3600)));
    pipeline.consume(spans(7)).await.unwrap();
    pipeline.shutdown().await;
    assert_eq!(*recorder.sizes.lock().unwrap(), vec![3, 3, 1]);
}

#[tokio::test]
async fn sends_after_the_timeout_when_not_full() {
    let (pipeline, recorder) = pipeline(config(100, 0, Duration::from_millis(20)));
    pipeline.consume(spans(3)).await.unwrap();
    assert_eq!(wait_for(&recorder, 1).await, vec![3]);
    pipeline.shutdown().await;
    assert_eq!(*recorder.sizes.lock().unwrap(), vec![3]);
}

#[tokio::test]
async fn refuses_spans_after_shutdown() {
    let (pipeline, _) = pipeline(config(4, 0, Duration::from_secs(1)));
    pipeline.shutdown().await;
    assert!(pipeline.consume(spans(1)).await.is_err());
}

/// Wait (at most 5 s) until the runtime has `tasks` tasks alive; returns how many it has.
async fn settle_to(tasks: usize) -> usize {
    let metrics = tokio::runtime::Handle::current().metrics();
    let deadline = Instant::now() + Duration::from_secs(5);
    while metrics.num_alive_tasks() != tasks && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    metrics.num_alive_tasks()
}

#[tokio::test]
async fn dropping_a_pipeline_flushes_its_batcher_and_ends_its_task() {
    let alive = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    let (pipeline, recorder) = pipeline(config(100, 0, Duration::from_secs(3600)));
    assert_eq!(settle_to(alive + 1).await, alive + 1, "the batcher's task");
    pipeline.consume(spans(3)).await.unwrap();
    drop(pipeline);
    assert_eq!(
        settle_to(alive).await,
        alive,
        "the task ended with its pipeline"
    );
    assert_eq!(
        *recorder.sizes.lock().unwrap(),
        vec![3],
        "what it held was sent"
    );
    assert_eq!(Arc::strong_count(&recorder), 1, "the exporter was released");
}

#[tokio::test]
async fn pipelines_that_fail_to_build_leave_nothing_running() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        r#"
receivers:
  otlp:
processors:
  batch:
  wasm/missing:
    plugin: {missing}
exporters:
  debug:
runtime: {{ cache_dir: "" }}
service:
  pipelines:
    traces/a: {{ receivers: [otlp], processors: [batch], exporters: [debug] }}
    traces/b: {{ receivers: [otlp], processors: [batch, wasm/missing], exporters: [debug] }}
"#,
        missing = dir.path().join("missing.wasm").display()
    );
    let config =
        crate::config::Config::parse(&yaml, std::path::Path::new("leak.yaml"), &|_| None).unwrap();
    let runtime = crate::runtime::Runtime::new(config.runtime_settings()).unwrap();
    let alive = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    let error = match super::build_pipelines(&config, &runtime) {
        Ok(_) => panic!("a missing plugin must fail the build"),
        Err(error) => error,
    };
    assert_eq!(error.key, "processors.wasm/missing.plugin");
    assert_eq!(
        settle_to(alive).await,
        alive,
        "the batcher started for traces/a stopped when the build failed"
    );
}
