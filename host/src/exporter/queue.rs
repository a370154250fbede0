//! `sending_queue` and `retry_on_failure` around a network exporter. With the queue, a batch
//! waits in memory (at most `queue_size`) and one of `num_consumers` tasks sends it, retrying as
//! [`retry`](super::retry) says, so the pipeline and its clients do not wait for a slow or down
//! destination; a full queue refuses the batch with a failure the client may retry. Without it,
//! the batch is sent and retried while its request waits.
//!
//! On shutdown the queue takes nothing more, every batch in it gets one more attempt (waits are
//! cut short), and what could still not be delivered is logged and counted as lost.

use super::persist::Store;
use super::retry::{self, Retry};
use super::{BoxFuture, ExportError, Exporter, span_count};
use crate::config::{QueueConfig, RetryConfig};
use crate::telemetry::Counters;
use spanwise_batch::Batch;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

type Request = Arc<Batch>;

/// A queued batch, with its file's sequence number in a persistent queue.
struct Item {
    seq: Option<u64>,
    request: Request,
}

/// An exporter behind a sending queue and retries.
pub struct Delivery {
    id: String,
    inner: Arc<dyn Exporter>,
    retry: RetryConfig,
    /// `None` without a queue, or once shut down.
    queue: Mutex<Option<mpsc::Sender<Item>>>,
    queued: bool,
    capacity: usize,
    /// The files of a persistent queue.
    store: Option<Arc<Store>>,
    consumers: Mutex<Vec<JoinHandle<()>>>,
    stopping: watch::Sender<bool>,
    /// `attempts`, `retries`, `batches_sent`, `spans_sent`, `batches_lost`, `spans_lost`,
    /// `batches_refused_queue_full`, `spans_refused_queue_full`, `spans_queued`; with storage
    /// also `batches_replayed`, `spans_replayed`, `batches_kept`, `spans_kept`,
    /// `batches_corrupt`.
    pub stats: Arc<Counters>,
}

impl Delivery {
    /// `inner` behind `queue` and `retry`; opens the queue's storage, if any, and starts the
    /// consumers and the replay of what the storage holds (inside a Tokio runtime).
    pub fn new(
        inner: Arc<dyn Exporter>,
        retry: RetryConfig,
        queue: QueueConfig,
    ) -> Result<Self, String> {
        let (stopping, _) = watch::channel(false);
        let stats = Arc::new(Counters::default());
        let id = inner.id().to_owned();
        let (store, found) = match (&queue.storage, queue.enabled) {
            (Some(dir), true) => {
                let (store, found) =
                    Store::open(dir).map_err(|e| format!("sending_queue.storage: {e}"))?;
                (Some(Arc::new(store)), found)
            }
            _ => (None, Default::default()),
        };
        for (file, reason) in &found.corrupt {
            stats.add("batches_corrupt", 1);
            tracing::error!(exporter = %id, file = %file.display(), "a queue file is corrupt and was set aside: {reason}");
        }
        let mut delivery = Self {
            id,
            inner,
            retry,
            queue: Mutex::new(None),
            queued: queue.enabled,
            capacity: queue.queue_size,
            store,
            consumers: Mutex::new(Vec::new()),
            stopping,
            stats,
        };
        if queue.enabled {
            let (sender, receiver) = mpsc::channel::<Item>(queue.queue_size);
            let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
            let consumers = (0..queue.num_consumers)
                .map(|_| {
                    tokio::spawn(consume(
                        receiver.clone(),
                        delivery.inner.clone(),
                        retry,
                        delivery.stopping.subscribe(),
                        delivery.stats.clone(),
                        delivery.store.clone(),
                    ))
                })
                .collect();
            if !found.batches.is_empty() {
                tracing::info!(exporter = %delivery.id, batches = found.batches.len(), "sending again what the queue's storage holds");
                tokio::spawn(replay(
                    found.batches,
                    sender.clone(),
                    delivery.stopping.subscribe(),
                    delivery.stats.clone(),
                ));
            }
            delivery.queue = Mutex::new(Some(sender));
            delivery.consumers = Mutex::new(consumers);
        }
        Ok(delivery)
    }
}

/// Put the batches found in storage into the queue, oldest first, waiting for room; what a
/// shutdown interrupts stays in storage for the next start.
async fn replay(
    batches: Vec<(u64, Batch)>,
    sender: mpsc::Sender<Item>,
    mut stopping: watch::Receiver<bool>,
    stats: Arc<Counters>,
) {
    for (seq, request) in batches {
        let spans = span_count(&request) as u64;
        let item = Item {
            seq: Some(seq),
            request: Arc::new(request),
        };
        tokio::select! {
            sent = sender.send(item) => if sent.is_err() { return },
            _ = stopping.wait_for(|stop| *stop) => return,
        }
        stats.add("batches_replayed", 1);
        stats.add("spans_replayed", spans);
        stats.add("spans_queued", spans);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// How the sending of one batch ended.
enum Outcome {
    Sent,
    /// Given up: not retryable, or retried past `max_elapsed_time`.
    Lost(ExportError),
    /// Not delivered by the shutdown, and left in the queue's storage for the next start.
    Kept(ExportError),
}

/// Send one batch with retries and count how it ended. `stored` says whether it has a file that
/// outlives a shutdown.
async fn deliver(
    inner: &dyn Exporter,
    request: &Batch,
    retry: &RetryConfig,
    stopping: &mut watch::Receiver<bool>,
    stats: &Counters,
    stored: bool,
) -> Outcome {
    let sent = retry::send(inner, request, retry, stopping, stats).await;
    let spans = span_count(request) as u64;
    match sent.error {
        None => {
            stats.add("batches_sent", 1);
            stats.add("spans_sent", spans);
            Outcome::Sent
        }
        Some(error)
            if stored && *stopping.borrow() && matches!(error.retry(), Retry::Later { .. }) =>
        {
            stats.add("batches_kept", 1);
            stats.add("spans_kept", spans);
            Outcome::Kept(error)
        }
        Some(error) => {
            stats.add("batches_lost", 1);
            stats.add("spans_lost", spans);
            Outcome::Lost(error)
        }
    }
}

async fn consume(
    queue: Arc<tokio::sync::Mutex<mpsc::Receiver<Item>>>,
    inner: Arc<dyn Exporter>,
    retry: RetryConfig,
    mut stopping: watch::Receiver<bool>,
    stats: Arc<Counters>,
    store: Option<Arc<Store>>,
) {
    loop {
        let next = queue.lock().await.recv().await;
        let Some(Item { seq, request }) = next else {
            return;
        };
        let outcome = deliver(
            &*inner,
            &request,
            &retry,
            &mut stopping,
            &stats,
            seq.is_some(),
        )
        .await;
        match &outcome {
            Outcome::Sent => {}
            Outcome::Lost(error) => tracing::error!(
                exporter = %inner.id(),
                spans = span_count(&request),
                "{error}; the batch is lost"
            ),
            Outcome::Kept(error) => tracing::warn!(
                exporter = %inner.id(),
                spans = span_count(&request),
                "{error}; the batch stays in the queue's storage for the next start"
            ),
        }
        if let (Some(store), Some(seq)) = (&store, seq)
            && !matches!(outcome, Outcome::Kept(_))
        {
            let store = store.clone();
            let _ = tokio::task::spawn_blocking(move || store.remove(seq)).await;
        }
    }
}

impl Delivery {
    fn full(&self, spans: u64, refused: impl Fn(String) -> ExportError) -> ExportError {
        self.stats.add("batches_refused_queue_full", 1);
        self.stats.add("spans_refused_queue_full", spans);
        refused(format!(
            "the sending queue is full ({} batches)",
            self.capacity
        ))
    }
}

impl Exporter for Delivery {
    fn id(&self) -> &str {
        &self.id
    }

    fn export<'a>(&'a self, request: &'a Batch) -> BoxFuture<'a, Result<(), ExportError>> {
        self.export_shared(Arc::new(request.clone()))
    }

    fn export_shared(&self, request: Arc<Batch>) -> BoxFuture<'_, Result<(), ExportError>> {
        Box::pin(async move {
            if !self.queued {
                let mut stopping = self.stopping.subscribe();
                return match deliver(
                    &*self.inner,
                    &request,
                    &self.retry,
                    &mut stopping,
                    &self.stats,
                    false,
                )
                .await
                {
                    Outcome::Sent => Ok(()),
                    Outcome::Lost(error) | Outcome::Kept(error) => Err(error),
                };
            }
            let refused = |reason: String| ExportError::Destination {
                exporter: self.id.clone(),
                reason,
                retry: Retry::Later { after: None },
            };
            let sender = lock(&self.queue).clone();
            let Some(sender) = sender else {
                return Err(refused("shutting down".to_owned()));
            };
            let spans = span_count(&request) as u64;
            let seq = match &self.store {
                None => None,
                Some(store) => {
                    if sender.capacity() == 0 {
                        return Err(self.full(spans, refused));
                    }
                    let (store, stored) = (store.clone(), request.clone());
                    let written = tokio::task::spawn_blocking(move || store.put(&stored))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r.map_err(|e| e.to_string()));
                    match written {
                        Ok(seq) => Some(seq),
                        Err(e) => {
                            tracing::error!(exporter = %self.id, "cannot write a batch to the queue's storage: {e}");
                            return Err(refused(format!(
                                "cannot write to the queue's storage: {e}"
                            )));
                        }
                    }
                }
            };
            if sender.try_send(Item { seq, request }).is_err() {
                if let (Some(store), Some(seq)) = (&self.store, seq) {
                    store.remove(seq);
                }
                return Err(self.full(spans, refused));
            }
            self.stats.add("spans_queued", spans);
            Ok(())
        })
    }

    fn stats(&self) -> Option<&Arc<Counters>> {
        Some(&self.stats)
    }

    fn queue_size(&self) -> Option<(usize, usize)> {
        if !self.queued {
            return None;
        }
        let waiting = lock(&self.queue)
            .as_ref()
            .map_or(0, |sender| self.capacity - sender.capacity());
        Some((waiting, self.capacity))
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // Take nothing more; the consumers empty the queue, one attempt per batch.
            lock(&self.queue).take();
            let _ = self.stopping.send(true);
            let consumers = std::mem::take(&mut *lock(&self.consumers));
            for consumer in consumers {
                let _ = consumer.await;
            }
            let stats = self.stats.snapshot();
            if let Some(&lost) = stats.get("spans_lost")
                && lost > 0
            {
                tracing::error!(exporter = %self.id, spans = lost, "spans could not be delivered");
            }
            if let Some(&kept) = stats.get("spans_kept")
                && kept > 0
            {
                tracing::warn!(exporter = %self.id, spans = kept, "spans not delivered stay in the queue's storage and are sent at the next start");
            }
            self.inner.shutdown().await;
        })
    }
}
