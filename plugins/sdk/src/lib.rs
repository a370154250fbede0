//! Write spanwise trace processors in Rust.
//!
//! A processor is a type that implements [`Processor`]: it is built from its JSON config by
//! [`Processor::configure`] and then sees every batch through [`Processor::process`], reading the
//! columns it needs from a [`SpanBatch`] and recording edits on it. [`export_processor!`] turns it
//! into a WebAssembly component for the `span-processor` world of `wit/v0.1.7/spanwise.wit`.
//! A tail sampler implements [`Sampler`] instead and is exported with [`export_sampler!`] as the
//! `flat-tail-sampler` world. A head sampler is a [`Processor`] exported with
//! [`export_head_sampler!`] as the `head-sampler` world: the same code, with its usual reads
//! handed over with the call and its usual edits handed back with the result.
//!
//! The same source builds twice:
//!
//! - for `wasm32-wasip2`, where [`SpanBatch`] is the host's `span-batch` resource and the host
//!   functions ([`log`], [`count`], [`keyed_hash`]) are WIT imports;
//! - natively, where [`native::process`] runs the processor over a host [`spanwise_batch::Batch`]
//!   directly, with the same journaled edits. That is how plugin unit tests run fast and how
//!   benches measure what WebAssembly costs.
//!
//! [`SpanBatch`] has one method per read and edit of the WIT resource, and helpers that write the
//! usual glue: [`SpanBatch::map_str_attribute`] and [`SpanBatch::edit_str_attribute`] (rewrite or
//! remove a string attribute, recording only the rows that change), [`SpanBatch::map_str_field`],
//! [`SpanBatch::rows_with_attribute`], [`SpanBatch::remove_attribute_everywhere`],
//! [`SpanBatch::all_rows`], [`StrColumn::present_rows`].
//!
//! ```
//! use spanwise_sdk::{Level, Processor, ProcessError, ConfigError, SpanBatch};
//!
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Config { key: String }
//!
//! struct DropKey(Config);
//!
//! impl Processor for DropKey {
//!     fn configure(json: &str) -> Result<Self, ConfigError> {
//!         Ok(DropKey(spanwise_sdk::parse_config(json)?))
//!     }
//!     fn process<B: SpanBatch + ?Sized>(&mut self, batch: &mut B) -> Result<(), ProcessError> {
//!         batch.remove_attribute_everywhere(Level::Span, &self.0.key);
//!         Ok(())
//!     }
//! }
//! spanwise_sdk::export_processor!(DropKey);
//! ```

extern crate self as spanwise_sdk;

mod config;
#[cfg(feature = "ottl")]
pub mod ottl;
pub mod value;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod guest;

/// The allocator of a plugin built as WebAssembly: Talc, growing the plugin's memory as it
/// needs. The standard library's allocator there is wasi-libc's `malloc` (dlmalloc) behind the
/// `__rust_alloc` and `__rdl_alloc` shims; a plugin allocates per span and per value it
/// rewrites, and every list the host returns to it is allocated through it. Measured with
/// the URL plugin on 100 spans whose URLs it rewrites: 116-118 µs a call with dlmalloc, 104-105
/// µs with Talc. Turn the SDK's `allocator` feature off to bring another.
#[cfg(all(target_arch = "wasm32", feature = "allocator"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(all(not(target_arch = "wasm32"), feature = "reference"))]
pub mod reference;

pub use config::parse_config;
/// Sixteen bytes as one WebAssembly SIMD vector, for a plugin's own SIMD loops.
#[cfg(all(target_family = "wasm", target_feature = "simd128"))]
pub use spanwise_abi::load16;
pub use spanwise_abi::{
    BoolColumn, BytesColumn, ConfigError, Decided, DoubleColumn, Edited, HashFunction, HeadEdits,
    HeadView, IntColumn, Level, LogLevel, ProcessError, SAMPLING_PRIORITY, SpanBatch, StrColumn,
    StrEdit, StrField, StrRows, TraceDecision, TraceDecisions, TraceRows, Value, Viewed, or_all,
};

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

/// A trace processor.
pub trait Processor: Sized + 'static {
    /// Build the processor from its `config:` block, given as JSON (`{}` when absent). Reject a
    /// bad config with a [`ConfigError`] that names the field; [`parse_config`] does that for a
    /// `serde` struct.
    fn configure(config: &str) -> Result<Self, ConfigError>;

    /// Process one batch: read columns, record edits. The edits are applied only if this returns
    /// `Ok`.
    fn process<B: SpanBatch + ?Sized>(&mut self, batch: &mut B) -> Result<(), ProcessError>;
}

/// A tail sampler: the host buffers spans until their traces are complete, then asks for one
/// verdict per trace (the `flat-tail-sampler` world, WIT 0.1.5).
pub trait Sampler: Sized + 'static {
    /// Build the sampler from its `config:` block, given as JSON (`{}` when absent).
    fn configure(config: &str) -> Result<Self, ConfigError>;

    /// Decide on complete traces: `traces` holds, for each trace, its span rows in `batch`.
    /// Return exactly one verdict per trace, in order ([`TraceDecisions::keep`],
    /// [`TraceDecisions::drop`]). Edits recorded on `batch` are applied only if this returns
    /// `Ok`, before the host drops the spans of dropped traces.
    fn decide<B: SpanBatch + ?Sized>(
        &mut self,
        batch: &mut B,
        traces: &TraceRows,
    ) -> Result<TraceDecisions, ProcessError>;
}

/// Write a line to the host log, tagged with the processor's name.
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    guest::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    native::log(level, message);
}

/// Add `delta` to this processor's counter `name` (`[a-z0-9_]`), shown by the host per processor.
pub fn count(name: &str, delta: u64) {
    if delta == 0 {
        return;
    }
    #[cfg(target_arch = "wasm32")]
    guest::count(name, delta);
    #[cfg(not(target_arch = "wasm32"))]
    native::count(name, delta);
}

/// HMAC-SHA256 of every present value of `values` under the host-held key `key`: 32 bytes per
/// present value, packed in row order. The key never enters the processor.
pub fn keyed_hash(key: &str, values: &StrColumn) -> Result<Vec<u8>, String> {
    #[cfg(target_arch = "wasm32")]
    return guest::keyed_hash(key, values);
    #[cfg(not(target_arch = "wasm32"))]
    return native::keyed_hash(key, values);
}

/// HMAC-SHA256 of every present byte string of `values` under the host-held key `key`, as
/// [`keyed_hash`] does for text.
pub fn keyed_hash_bytes(key: &str, values: &BytesColumn) -> Result<Vec<u8>, String> {
    #[cfg(target_arch = "wasm32")]
    return guest::keyed_hash_bytes(key, values);
    #[cfg(not(target_arch = "wasm32"))]
    return native::keyed_hash_bytes(key, values);
}

/// SHA-256 of every present value of `values`: 32 bytes per present value, packed in row
/// order. Computed by the host at native speed. A plain digest of an identifier can be reversed
/// by hashing every candidate: use [`keyed_hash`] for identifiers.
pub fn sha256(values: &BytesColumn) -> Vec<u8> {
    #[cfg(target_arch = "wasm32")]
    return guest::sha256(values);
    #[cfg(not(target_arch = "wasm32"))]
    return native::sha256(values);
}

/// Export a [`Processor`] as the component's `span-processor` world.
///
/// On `wasm32` this generates the component exports; natively it expands to nothing, so a plugin
/// crate can call it unconditionally.
#[macro_export]
macro_rules! export_processor {
    ($processor:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct Component;

            ::std::thread_local! {
                static STATE: $crate::guest::Slot<$processor> = const { $crate::guest::Slot::new() };
            }

            impl $crate::guest::Guest for Component {
                fn configure(
                    config: ::std::string::String,
                ) -> ::std::result::Result<(), $crate::guest::WitConfigError> {
                    STATE.with(|state| state.configure(&config, $crate::guest::configure::<$processor>))
                }

                fn process(
                    batch: $crate::guest::SpanBatchBorrow<'_>,
                ) -> ::std::result::Result<(), $crate::guest::WitProcessError> {
                    STATE.with(|state| state.with(|processor| $crate::guest::process(processor, batch)))
                }
            }

            $crate::guest::bindings::__export_span_processor!(Component with_types_in $crate::guest::bindings);
        };
    };
}

/// Export a [`Sampler`] as the component's `flat-tail-sampler` world, as [`export_processor!`] does
/// for a processor.
#[macro_export]
macro_rules! export_sampler {
    ($sampler:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct Component;

            ::std::thread_local! {
                static STATE: $crate::guest::Slot<$sampler> = const { $crate::guest::Slot::new() };
            }

            impl $crate::guest::SamplerGuest for Component {
                fn configure(
                    config: ::std::string::String,
                ) -> ::std::result::Result<(), $crate::guest::WitConfigError> {
                    STATE.with(|state| state.configure(&config, $crate::guest::configure_sampler::<$sampler>))
                }

                fn decide(
                    batch: $crate::guest::SpanBatchBorrow<'_>,
                    traces: $crate::guest::WitTraceRows,
                ) -> ::std::result::Result<
                    $crate::guest::WitTraceDecisions,
                    $crate::guest::WitProcessError,
                > {
                    STATE.with(|state| state.with(|sampler| $crate::guest::decide(sampler, batch, traces)))
                }
            }

            $crate::guest::sampler_bindings::__export_tail_sampler!(Component with_types_in $crate::guest::sampler_bindings);
        };
    };
}

/// Export a [`Processor`] as the component's `head-sampler` world (WIT 0.1.7), as
/// [`export_processor!`] does as `span-processor`. The host reads a [`HeadView`] of each batch
/// before the call; the processor runs on [`Viewed`], which answers those reads from it and
/// keeps the tracestate fill and the drop it records back for the result ([`HeadEdits`]), so
/// the usual batch takes one call into the plugin and none back. Natively nothing changes:
/// [`native::process`] runs the processor on the batch itself.
#[macro_export]
macro_rules! export_head_sampler {
    ($processor:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct Component;

            ::std::thread_local! {
                static STATE: $crate::guest::Slot<$processor> = const { $crate::guest::Slot::new() };
            }

            impl $crate::guest::HeadSamplerGuest for Component {
                fn configure(
                    config: ::std::string::String,
                ) -> ::std::result::Result<(), $crate::guest::WitConfigError> {
                    STATE.with(|state| state.configure(&config, $crate::guest::configure::<$processor>))
                }

                fn sample(
                    batch: $crate::guest::SpanBatchBorrow<'_>,
                    view: $crate::guest::WitHeadView,
                ) -> ::std::result::Result<$crate::guest::WitHeadEdits, $crate::guest::WitProcessError>
                {
                    STATE.with(|state| state.with(|processor| $crate::guest::sample(processor, batch, view)))
                }
            }

            $crate::guest::head_bindings::__export_head_sampler!(Component with_types_in $crate::guest::head_bindings);
        };
    };
}
