//! Receivers: OTLP over gRPC ([`grpc`]) and HTTP ([`http`]). Both decode a request once into a
//! host-owned [`Batch`] and hand it to a [`Consumer`] (the pipelines that list the receiver).

mod auth;
pub mod grpc;
pub mod http;
pub mod serve;
mod status;

pub use auth::{BearerAuth, Refused};

use crate::pipeline::{ConsumeError, Intake, Pipeline, Report};
use spanwise_batch::Batch;
use std::sync::{Arc, RwLock};

/// The pipelines one receiver feeds. Every pipeline gets every span. A reload replaces them
/// whole: a request runs through the pipelines that were there when it arrived.
#[derive(Clone)]
pub struct Consumer {
    pipelines: Arc<RwLock<Arc<Vec<Pipeline>>>>,
    /// `spans_accepted` (taken by every pipeline), `spans_refused` (a pipeline failed or
    /// refused them; the client was told to retry).
    pub stats: Arc<crate::telemetry::Counters>,
}

impl Consumer {
    /// A consumer feeding `pipelines`.
    pub fn new(pipelines: Vec<Pipeline>) -> Self {
        Self {
            pipelines: Arc::new(RwLock::new(Arc::new(pipelines))),
            stats: Default::default(),
        }
    }

    /// Feed `pipelines` from now on.
    pub fn replace(&self, pipelines: Vec<Pipeline>) {
        *self.pipelines.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(pipelines);
    }

    /// A request's protobuf bytes as a batch, in the form the pipelines fed from here want it
    /// most ([`Pipeline::intake`]): decoded now when one will decode it anyway, indexed when
    /// the first plugin of one reads it in wire form, else kept as it came, so that pipelines
    /// that only batch and export never decode it.
    pub fn take(&self, bytes: bytes::Bytes) -> Result<Batch, prost::DecodeError> {
        let intake = self
            .pipelines
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(Pipeline::intake)
            .max()
            .unwrap_or(Intake::Wire);
        match intake {
            Intake::Decoded => spanwise_batch::decode_request(&bytes).map(Batch::from_request),
            Intake::Indexed => Batch::from_encoded_indexed(bytes),
            Intake::Wire => Batch::from_encoded(bytes),
        }
    }

    /// Run `batch` through every pipeline; the reports are merged. A `memory_limiter` of any
    /// of them refuses the batch for all of them, before any runs.
    pub async fn consume(&self, batch: Batch) -> Result<Report, ConsumeError> {
        let spans = batch.len() as u64;
        let result = self.consume_counted(batch).await;
        let counter = if result.is_ok() {
            "spans_accepted"
        } else {
            "spans_refused"
        };
        self.stats.add(counter, spans);
        result
    }

    async fn consume_counted(&self, batch: Batch) -> Result<Report, ConsumeError> {
        let pipelines = self
            .pipelines
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let spans = batch.len();
        if let Some(reason) = pipelines.iter().find_map(|p| p.refusal(spans)) {
            return Err(ConsumeError::Refused(reason));
        }
        let mut report = Report::default();
        let last = pipelines.len().saturating_sub(1);
        let mut batch = Some(batch);
        for (i, pipeline) in pipelines.iter().enumerate() {
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
