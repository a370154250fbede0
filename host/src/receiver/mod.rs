//! Receivers: OTLP over gRPC ([`grpc`]) and HTTP ([`http`]). Both decode a request once into a
//! host-owned [`Batch`] and hand it to a [`Consumer`] (the pipelines that list the receiver).

mod auth;
pub mod grpc;
pub mod http;
pub mod serve;
mod status;

pub use auth::{BearerAuth, Refused};

use crate::pipeline::{ConsumeError, Pipeline, Report};
use spanwise_batch::Batch;
use std::sync::Arc;

/// The pipelines one receiver feeds. Every pipeline gets every span.
#[derive(Clone)]
pub struct Consumer {
    pipelines: Arc<Vec<Pipeline>>,
}

impl Consumer {
    /// A consumer feeding `pipelines`.
    pub fn new(pipelines: Vec<Pipeline>) -> Self {
        Self {
            pipelines: Arc::new(pipelines),
        }
    }

    /// Run `batch` through every pipeline; the reports are merged. A `memory_limiter` of any
    /// of them refuses the batch for all of them, before any runs.
    pub async fn consume(&self, batch: Batch) -> Result<Report, ConsumeError> {
        let spans = batch.len();
        if let Some(reason) = self.pipelines.iter().find_map(|p| p.refusal(spans)) {
            return Err(ConsumeError::Refused(reason));
        }
        let mut report = Report::default();
        let last = self.pipelines.len().saturating_sub(1);
        let mut batch = Some(batch);
        for (i, pipeline) in self.pipelines.iter().enumerate() {
            let input = if i == last {
                batch.take().unwrap_or_default()
            } else {
                batch.clone().unwrap_or_default()
            };
            report
                .dropped
                .extend(pipeline.consume_unchecked(input).await?.dropped);
        }
        Ok(report)
    }
}
