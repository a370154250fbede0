//! The Rust face of the spanwise WIT contract (`wit/`), shared by the host, the SDK and every
//! plugin, native or WebAssembly.
//!
//! - [`types`]: the values that cross the boundary ([`Level`], [`Value`], [`StrColumn`] and the
//!   scalar columns, [`StrField`], [`HashFunction`]);
//! - [`SpanBatch`]: what a processor sees of a batch, one method per WIT function, plus helpers
//!   ([`SpanBatch::map_str_attribute`], [`SpanBatch::edit_str_attribute`], ...) that write the
//!   usual read-change-write glue;
//! - [`ConfigError`], [`ProcessError`], [`LogLevel`]: what a plugin answers, and
//!   [`TraceDecision`] and [`TraceDecisions`], what a tail sampler answers about the
//!   [`TraceRows`] it is given;
//! - [`HeadView`], [`HeadEdits`] and [`Viewed`]: what crosses with a head sampler's call (the
//!   `head-sampler` world, 0.1.7), and the batch it runs on there;
//! - [`or_all`]: the OR of a column's bytes, one fast pass in WebAssembly too;
//! - [`wit_conversions!`]: every conversion between these and generated bindings, written once.
//!
//! The crate has no dependencies, so a WebAssembly guest pays nothing for it.

mod bytes;
mod conversions;
mod decision;
mod errors;
mod head;
mod span_batch;
mod trace_rows;
pub mod types;

#[cfg(all(target_family = "wasm", target_feature = "simd128"))]
pub use bytes::load16;
pub use bytes::or_all;
pub use decision::{Decided, TraceDecision, TraceDecisions};
pub use errors::{ConfigError, LogLevel, ProcessError};
pub use head::{HeadEdits, HeadView, SAMPLING_PRIORITY, Viewed};
pub use span_batch::{Edited, SpanBatch, StrEdit};
pub use trace_rows::TraceRows;
pub use types::{
    BoolColumn, BytesColumn, ColumnError, DoubleColumn, HashFunction, IntColumn, Level, StrColumn,
    StrField, StrRows, Value,
};

/// The version of the WIT package this crate mirrors (`wit/v<VERSION>/`).
pub const WIT_VERSION: &str = "0.1.7";
