//! `sending_queue` and `retry_on_failure` around a network exporter. With the queue, a batch
//! waits in memory (at most `queue_size`) and one of `num_consumers` tasks sends it, retrying as
//! [`retry`](super::retry) says, so the pipeline and its clients do not wait for a slow or down
//! destination; a full queue refuses the batch with a failure the client may retry. Without it,
//! the batch is sent and retried while its request waits.
//!
//! On shutdown the queue takes nothing more, every batch in it gets one more attempt (waits are
//! cut short), and what could still not be delivered is logged and counted as lost.

use super::retry::{self, Retry};
use super::{BoxFuture, ExportError, Exporter, span_count};
use crate::config::{QueueConfig, RetryConfig};
use crate::telemetry::Counters;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

type Request = Arc<ExportTraceServiceRequest>;

/// An exporter behind a sending queue and retries.
pub struct Delivery {
    id: String,
    inner: Arc<dyn Exporter>,
    retry: RetryConfig,
    /// `None` without a queue, or once shut down.
    queue: Mutex<Option<mpsc::Sender<Request>>>,
    queued: bool,
    capacity: usize,
    consumers: Mutex<Vec<JoinHandle<()>>>,
    stopping: watch::Sender<bool>,
    /// `attempts`, `retries`, `batches_sent`, `spans_sent`, `batches_lost`, `spans_lost`,
    /// `batches_refused_queue_full`, `spans_refused_queue_full`.
    pub stats: Arc<Counters>,
}

impl Delivery {
    /// `inner` behind `queue` and `retry`; starts the consumers (inside a Tokio runtime).
    pub fn new(inner: Arc<dyn Exporter>, retry: RetryConfig, queue: QueueConfig) -> Self {
        let (stopping, _) = watch::channel(false);
        let stats = Arc::new(Counters::default());
        let mut delivery = Self {
            id: inner.id().to_owned(),
            inner,
            retry,
            queue: Mutex::new(None),
            queued: queue.enabled,
            capacity: queue.queue_size,
            consumers: Mutex::new(Vec::new()),
            stopping,
            stats,
        };
        if queue.enabled {
            let (sender, receiver) = mpsc::channel::<Request>(queue.queue_size);
            let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
            let consumers = (0..queue.num_consumers)
                .map(|_| {
                    tokio::spawn(consume(
                        receiver.clone(),
                        delivery.inner.clone(),
                        retry,
                        delivery.stopping.subscribe(),
                        delivery.stats.clone(),
                    ))
                })
                .collect();
            delivery.queue = Mutex::new(Some(sender));
            delivery.consumers = Mutex::new(consumers);
        }
        delivery
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Send one batch with retries and count how it ended.
async fn deliver(
    inner: &dyn Exporter,
    request: &ExportTraceServiceRequest,
    retry: &RetryConfig,
    stopping: &mut watch::Receiver<bool>,
    stats: &Counters,
) -> Result<(), ExportError> {
    let sent = retry::send(inner, request, retry, stopping, stats).await;
    let spans = span_count(request) as u64;
    match sent.error {
        None => {
            stats.add("batches_sent", 1);
            stats.add("spans_sent", spans);
            Ok(())
        }
        Some(error) => {
            stats.add("batches_lost", 1);
            stats.add("spans_lost", spans);
            Err(error)
        }
    }
}

async fn consume(
    queue: Arc<tokio::sync::Mutex<mpsc::Receiver<Request>>>,
    inner: Arc<dyn Exporter>,
    retry: RetryConfig,
    mut stopping: watch::Receiver<bool>,
    stats: Arc<Counters>,
) {
    loop {
        let next = queue.lock().await.recv().await;
        let Some(request) = next else {
            return;
        };
        if let Err(error) = deliver(&*inner, &request, &retry, &mut stopping, &stats).await {
            tracing::error!(
                exporter = %inner.id(),
                spans = span_count(&request),
                "{error}; the batch is lost"
            );
        }
    }
}

impl Exporter for Delivery {
    fn id(&self) -> &str {
        &self.id
    }

    fn export<'a>(
        &'a self,
        request: &'a ExportTraceServiceRequest,
    ) -> BoxFuture<'a, Result<(), ExportError>> {
        self.export_shared(Arc::new(request.clone()))
    }

    fn export_shared(
        &self,
        request: Arc<ExportTraceServiceRequest>,
    ) -> BoxFuture<'_, Result<(), ExportError>> {
        Box::pin(async move {
            if !self.queued {
                let mut stopping = self.stopping.subscribe();
                return deliver(
                    &*self.inner,
                    &request,
                    &self.retry,
                    &mut stopping,
                    &self.stats,
                )
                .await;
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
            sender.try_send(request).map_err(|_| {
                self.stats.add("batches_refused_queue_full", 1);
                self.stats.add("spans_refused_queue_full", spans);
                refused(format!(
                    "the sending queue is full ({} batches)",
                    self.capacity
                ))
            })?;
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
            self.inner.shutdown().await;
        })
    }
}
