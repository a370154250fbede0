//! The batch processor: size, split and timeout flushes, and the flush on shutdown, with an
//! exporter that records what it was given.

use super::{Batcher, Inner, Pipeline, Stage};
use crate::config::BatchConfig;
use crate::exporter::{BoxFuture, ExportError, Exporter, span_count};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
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
    fn export<'a>(
        &'a self,
        request: &'a ExportTraceServiceRequest,
    ) -> BoxFuture<'a, Result<(), ExportError>> {
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
    let pipeline = Pipeline::new(Inner {
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
