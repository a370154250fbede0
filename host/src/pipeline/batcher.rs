//! [`Batcher`]: the built-in `batch` processor. Spans wait until `send_batch_size` of them are
//! there or `timeout` has passed since the first; batches over `send_batch_max_size` are split.

use super::{Chain, run};
use crate::config::BatchConfig;
use crate::telemetry::Counters;
use spanwise_batch::Batch;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How many batches may queue before receivers wait (backpressure).
const QUEUE: usize = 64;

/// The `batch` processor of one pipeline.
pub struct Batcher {
    id: String,
    config: BatchConfig,
    sender: Mutex<Option<mpsc::Sender<Batch>>>,
    receiver: Mutex<Option<mpsc::Receiver<Batch>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    /// `batches_sent`, `spans_out`, `export_failures`, `spans_lost`.
    pub stats: Arc<Counters>,
}

impl Batcher {
    /// A batcher that starts when its pipeline starts.
    pub fn new(id: &str, config: BatchConfig) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        Self {
            id: id.to_owned(),
            config,
            sender: Mutex::new(Some(sender)),
            receiver: Mutex::new(Some(receiver)),
            task: Mutex::new(None),
            stats: Arc::default(),
        }
    }

    /// The processor id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Start the task that sends batches on to `after` (the stages after this batcher). The task
    /// ends once every handle of this batcher is gone (the queue closes) or on
    /// [`Batcher::shutdown`], after sending on what it holds.
    pub(super) fn start(&self, after: Arc<Chain>) {
        let Some(receiver) = self
            .receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        else {
            return;
        };
        let task = tokio::spawn(serve(
            receiver,
            self.config.clone(),
            after,
            self.stats.clone(),
            self.id.clone(),
        ));
        *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
    }

    pub(super) async fn send(&self, batch: Batch) -> Result<(), Batch> {
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match sender {
            Some(sender) => sender.send(batch).await.map_err(|e| e.0),
            None => Err(batch),
        }
    }

    /// Stop taking spans, send on what is held, and wait until it is sent.
    pub async fn shutdown(&self) {
        drop(self.sender.lock().unwrap_or_else(|e| e.into_inner()).take());
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn serve(
    mut receiver: mpsc::Receiver<Batch>,
    config: BatchConfig,
    after: Arc<Chain>,
    stats: Arc<Counters>,
    id: String,
) {
    let mut pending = Batch::default();
    let mut deadline: Option<Instant> = None;
    loop {
        let timer = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = receiver.recv() => match received {
                Some(batch) => {
                    if pending.is_empty() {
                        deadline = Some(Instant::now() + config.timeout);
                    }
                    pending.append(batch);
                    if pending.len() >= config.send_batch_size {
                        flush(&mut pending, &config, &after, &stats, &id).await;
                        deadline = None;
                    }
                }
                None => {
                    flush(&mut pending, &config, &after, &stats, &id).await;
                    return;
                }
            },
            () = timer => {
                flush(&mut pending, &config, &after, &stats, &id).await;
                deadline = None;
            }
        }
    }
}

async fn flush(
    pending: &mut Batch,
    config: &BatchConfig,
    after: &Chain,
    stats: &Counters,
    id: &str,
) {
    let all = std::mem::take(pending);
    if all.is_empty() {
        return;
    }
    // Cut by moving spans, linear in the batch (`send_batch_max_size` 0 means one chunk).
    for chunk in all.into_chunks(config.send_batch_max_size) {
        let spans = chunk.len() as u64;
        stats.add("batches_sent", 1);
        stats.add("spans_out", spans);
        match Box::pin(run(after, chunk)).await {
            Ok(report) => {
                for dropped in report.dropped {
                    tracing::debug!(processor = %dropped.processor, spans = dropped.spans, "{}", dropped.reason);
                }
            }
            Err(e) => {
                stats.add("export_failures", 1);
                stats.add("spans_lost", spans);
                tracing::error!(processor = %id, spans, "spans after the batch processor were lost: {e}");
            }
        }
    }
}
