//! The span batch that the spanwise host owns and lends to processors.
//!
//! [`types`] holds the plain values that cross the plugin boundary (levels, attribute values,
//! packed string columns); it has no dependencies so that WebAssembly guests can use it too.
//! With the default `otlp` feature, [`Batch`] holds decoded OTLP spans and answers columnar reads,
//! and [`Journal`] records edits that [`Batch::apply`] applies all at once.

pub mod types;

#[cfg(feature = "otlp")]
mod batch;
#[cfg(feature = "otlp")]
pub mod builder;
#[cfg(feature = "otlp")]
pub mod hash;
#[cfg(feature = "otlp")]
mod journal;
#[cfg(all(test, feature = "otlp"))]
mod tests;
#[cfg(feature = "otlp")]
mod value;

#[cfg(feature = "otlp")]
pub use batch::Batch;
#[cfg(feature = "otlp")]
pub use builder::{BatchBuilder, kv};
#[cfg(feature = "otlp")]
pub use journal::{Edit, EditError, Journal};
#[cfg(feature = "otlp")]
pub use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
pub use types::{Level, StrColumn, StrField, Value};
