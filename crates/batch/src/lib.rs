//! The span batch that the spanwise host owns and lends to processors.
//!
//! [`Batch`] holds decoded OTLP spans and answers columnar reads. A processor call gets a
//! [`LentBatch`]: the batch as it was when the call began, plus a [`Journal`] that checks every
//! edit in full as it is recorded. [`Decoded::apply`] then applies the journal all at once, and
//! cannot fail half-way. [`decode_request`] decodes what receivers take, faster than prost and
//! to the same result, and [`encode_request`] encodes them back, faster than prost and to the same
//! bytes. The boundary types themselves live in `spanwise-abi`.

mod batch;
pub mod builder;
pub mod decode;
mod encode;
pub mod hash;
mod journal;
mod keys;
mod lent;
#[cfg(test)]
mod tests;
mod value;
mod wire;

pub use batch::{Applied, Batch, Decoded};
pub use builder::{BatchBuilder, kv};
pub use decode::decode_request;
pub use encode::{encode_request, encode_span};
pub use journal::{Edit, EditError, Journal, Secret};
pub use lent::LentBatch;
pub use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
pub use spanwise_abi::{
    BoolColumn, DoubleColumn, IntColumn, Level, SpanBatch, StrColumn, StrField, TraceDecisions,
    TraceRows, Value,
};
