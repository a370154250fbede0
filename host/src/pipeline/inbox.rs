//! [`Inbox`]: the queue in front of a stage that runs from its own task (the batcher, the tail
//! sampler), and that task's handle.

use spanwise_batch::Batch;
use std::sync::Mutex;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How many batches may queue before receivers wait (backpressure).
const QUEUE: usize = 64;

/// A bounded queue of batches, the receiving end until the task takes it, and the task.
pub(crate) struct Inbox {
    sender: Mutex<Option<mpsc::Sender<Batch>>>,
    receiver: Mutex<Option<mpsc::Receiver<Batch>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Inbox {
    pub(crate) fn new() -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        Self {
            sender: Mutex::new(Some(sender)),
            receiver: Mutex::new(Some(receiver)),
            task: Mutex::new(None),
        }
    }

    /// The receiving end, once: for the task that serves the queue.
    pub(crate) fn take_receiver(&self) -> Option<mpsc::Receiver<Batch>> {
        self.receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Keep the task that serves the queue, for [`Inbox::close`] to wait on.
    pub(crate) fn set_task(&self, task: JoinHandle<()>) {
        *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
    }

    /// Queue `batch`, waiting while the queue is full; give it back once the queue is closed.
    pub(crate) async fn send(&self, batch: Batch) -> Result<(), Batch> {
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

    /// Close the queue and wait until the task has handled what it held and ended.
    pub(crate) async fn close(&self) {
        drop(self.sender.lock().unwrap_or_else(|e| e.into_inner()).take());
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
