//! [`Batcher`]: the built-in `batch` processor. Spans wait until `send_batch_size` of them are
//! there or `timeout` has passed since the first; batches over `send_batch_max_size` are split.

use super::inbox::Inbox;
use super::{Chain, run};
use crate::config::BatchConfig;
use crate::telemetry::Counters;
use spanwise_batch::Batch;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The `batch` processor of one pipeline.
pub struct Batcher {
    id: String,
    config: BatchConfig,
    inbox: Inbox,
    /// `batches_sent`, `spans_out`, `export_failures`, `spans_lost`.
    pub stats: Arc<Counters>,
}

impl Batcher {
    /// A batcher that starts when its pipeline starts.
    pub fn new(id: &str, config: BatchConfig) -> Self {
        Self {
            id: id.to_owned(),
            config,
            inbox: Inbox::new(),
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
        let Some(receiver) = self.inbox.take_receiver() else {
            return;
        };
        let task = tokio::spawn(serve(
            receiver,
            self.config.clone(),
            after,
            self.stats.clone(),
            self.id.clone(),
        ));
        self.inbox.set_task(task);
    }

    pub(super) async fn send(&self, batch: Batch) -> Result<(), Batch> {
        self.inbox.send(batch).await
    }

    /// Stop taking spans, send on what is held, and wait until it is sent.
    pub async fn shutdown(&self) {
        self.inbox.close().await;
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
