//! The WebAssembly side: bindings for the `span-processor`, `head-sampler` and
//! `flat-tail-sampler` worlds and a [`SpanBatch`] over the host's `span-batch` resource. Plugin
//! crates reach this only through [`crate::export_processor!`], [`crate::export_head_sampler!`]
//! and [`crate::export_sampler!`].
//!
//! The WIT's column records are bound straight onto `spanwise-abi`'s types (wit-bindgen's
//! `with`), so a column the plugin sends is not copied on its way out; every other conversion is
//! [`spanwise_abi::wit_conversions!`].

use crate::{ConfigError, LogLevel, ProcessError, Processor, Sampler};
use spanwise_abi::{
    BoolColumn, BytesColumn, DoubleColumn, HashFunction, IntColumn, Level, SpanBatch, StrColumn,
    StrField, Value,
};
use std::cell::RefCell;

/// Generated bindings of the `span-processor` world.
#[allow(missing_docs, clippy::all, unsafe_code)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "span-processor",
        path: "../../wit/v0.1.7",
        pub_export_macro: true,
        export_macro_name: "__export_span_processor",
        default_bindings_module: "spanwise_sdk::guest::bindings",
        runtime_path: "spanwise_sdk::__wit_bindgen::rt",
        with: {
            "spanwise:processor/types@0.1.7/str-column": spanwise_abi::StrColumn,
            "spanwise:processor/types@0.1.7/int-column": spanwise_abi::IntColumn,
            "spanwise:processor/types@0.1.7/double-column": spanwise_abi::DoubleColumn,
            "spanwise:processor/types@0.1.7/bool-column": spanwise_abi::BoolColumn,
            "spanwise:processor/types@0.1.7/bytes-column": spanwise_abi::BytesColumn,
        },
    });
}

/// Generated bindings of the `flat-tail-sampler` world (WIT 0.1.5): its exports; its imports
/// are [`bindings`]'.
#[allow(missing_docs, clippy::all, unsafe_code)]
pub mod sampler_bindings {
    wit_bindgen::generate!({
        world: "flat-tail-sampler",
        path: "../../wit/v0.1.7",
        pub_export_macro: true,
        export_macro_name: "__export_tail_sampler",
        default_bindings_module: "spanwise_sdk::guest::sampler_bindings",
        runtime_path: "spanwise_sdk::__wit_bindgen::rt",
        with: {
            "spanwise:processor/types@0.1.7": crate::guest::bindings::spanwise::processor::types,
            "spanwise:processor/batch@0.1.7": crate::guest::bindings::spanwise::processor::batch,
            "spanwise:processor/host@0.1.7": crate::guest::bindings::spanwise::processor::host,
        },
    });
}

/// Generated bindings of the `head-sampler` world (WIT 0.1.7): its exports; its imports are
/// [`bindings`]'.
#[allow(missing_docs, clippy::all, unsafe_code)]
pub mod head_bindings {
    wit_bindgen::generate!({
        world: "head-sampler",
        path: "../../wit/v0.1.7",
        pub_export_macro: true,
        export_macro_name: "__export_head_sampler",
        default_bindings_module: "spanwise_sdk::guest::head_bindings",
        runtime_path: "spanwise_sdk::__wit_bindgen::rt",
        with: {
            "spanwise:processor/types@0.1.7": crate::guest::bindings::spanwise::processor::types,
            "spanwise:processor/batch@0.1.7": crate::guest::bindings::spanwise::processor::batch,
            "spanwise:processor/host@0.1.7": crate::guest::bindings::spanwise::processor::host,
        },
    });
}

use bindings::spanwise::processor::{batch as wit_batch, host as wit_host, types as wit};

spanwise_abi::wit_conversions!(types: wit, host: wit_host, columns: mapped);

pub use bindings::Guest;
pub use head_bindings::Guest as HeadSamplerGuest;
pub use sampler_bindings::Guest as SamplerGuest;
/// The view the `head-sampler` world's `sample` takes.
pub type WitHeadView = wit::HeadView;
/// The edits the `head-sampler` world's `sample` returns.
pub type WitHeadEdits = wit::HeadEdits;
/// Decisions as the `flat-tail-sampler` world returns them.
pub type WitTraceDecisions = wit::TraceDecisions;
/// Traces as the `flat-tail-sampler` world takes them.
pub type WitTraceRows = wit::TraceRows;
/// The config error type of the world's `configure` export.
pub type WitConfigError = wit::ConfigError;
/// The process error type of the world's `process` export.
pub type WitProcessError = wit::ProcessError;
/// The borrowed batch handed to `process`.
pub type SpanBatchBorrow<'a> = &'a wit_batch::SpanBatch;

/// The configured plugin of a component, kept between calls (a thread-local of the export
/// macros): empty until `configure` succeeds.
pub struct Slot<T>(RefCell<Option<T>>);

impl<T> Slot<T> {
    /// An empty slot.
    pub const fn new() -> Self {
        Self(RefCell::new(None))
    }

    /// Build the plugin from `config` with `build` and keep it (on an error, keep none).
    pub fn configure(
        &self,
        config: &str,
        build: fn(&str) -> Result<T, WitConfigError>,
    ) -> Result<(), WitConfigError> {
        let built = build(config);
        let (plugin, result) = match built {
            Ok(plugin) => (Some(plugin), Ok(())),
            Err(e) => (None, Err(e)),
        };
        *self.0.borrow_mut() = plugin;
        result
    }

    /// Run `f` on the plugin, `None` before a successful `configure`.
    pub fn with<R>(&self, f: impl FnOnce(Option<&mut T>) -> R) -> R {
        f(self.0.borrow_mut().as_mut())
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Run [`Processor::configure`] and convert its error.
pub fn configure<P: Processor>(config: &str) -> Result<P, WitConfigError> {
    P::configure(config).map_err(|e: ConfigError| e.into())
}

/// Run [`Processor::process`] over the host's batch and convert its error.
pub fn process<P: Processor>(
    processor: Option<&mut P>,
    batch: SpanBatchBorrow<'_>,
) -> Result<(), WitProcessError> {
    let Some(processor) = processor else {
        return Err(ProcessError::Internal("process was called before configure".into()).into());
    };
    processor
        .process(&mut GuestBatch(batch))
        .map_err(|e: ProcessError| e.into())
}

/// Run [`Processor::process`] as a head sampler: over the host's batch with `view` answering
/// its usual reads, its usual edits returned ([`spanwise_abi::Viewed`]).
pub fn sample<P: Processor>(
    processor: Option<&mut P>,
    batch: SpanBatchBorrow<'_>,
    view: WitHeadView,
) -> Result<WitHeadEdits, WitProcessError> {
    let Some(processor) = processor else {
        return Err(ProcessError::Internal("sample was called before configure".into()).into());
    };
    let mut host = GuestBatch(batch);
    let mut viewed = spanwise_abi::Viewed::new(&mut host, view.into());
    match processor.process(&mut viewed) {
        Ok(()) => Ok(viewed.into_edits().into()),
        Err(e) => Err(e.into()),
    }
}

/// Run [`Sampler::configure`] and convert its error.
pub fn configure_sampler<S: Sampler>(config: &str) -> Result<S, WitConfigError> {
    S::configure(config).map_err(|e: ConfigError| e.into())
}

/// Run [`Sampler::decide`] over the host's batch and convert its result.
pub fn decide<S: Sampler>(
    sampler: Option<&mut S>,
    batch: SpanBatchBorrow<'_>,
    traces: WitTraceRows,
) -> Result<WitTraceDecisions, WitProcessError> {
    let Some(sampler) = sampler else {
        return Err(ProcessError::Internal("decide was called before configure".into()).into());
    };
    match sampler.decide(&mut GuestBatch(batch), &traces.into()) {
        Ok(decisions) => Ok(decisions.into()),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn log(level: LogLevel, message: &str) {
    wit_host::log(level.into(), message);
}

pub(crate) fn count(name: &str, delta: u64) {
    wit_host::count(name, delta);
}

pub(crate) fn keyed_hash(key: &str, values: &StrColumn) -> Result<Vec<u8>, String> {
    wit_host::keyed_hash(key, values)
}

pub(crate) fn keyed_hash_bytes(key: &str, values: &BytesColumn) -> Result<Vec<u8>, String> {
    wit_host::keyed_hash_bytes(key, values)
}

pub(crate) fn sha256(values: &BytesColumn) -> Vec<u8> {
    wit_host::sha256(values)
}

/// A [`SpanBatch`] over the host's resource: every method is one call to the host.
struct GuestBatch<'a>(&'a wit_batch::SpanBatch);

impl SpanBatch for GuestBatch<'_> {
    fn len(&self) -> usize {
        self.0.len() as usize
    }
    fn trace_ids(&self) -> Vec<u8> {
        self.0.trace_ids()
    }
    fn span_ids(&self) -> Vec<u8> {
        self.0.span_ids()
    }
    fn parent_span_ids(&self) -> Vec<u8> {
        self.0.parent_span_ids()
    }
    fn flags(&self) -> Vec<u32> {
        self.0.flags()
    }
    fn kinds(&self) -> Vec<u8> {
        self.0.kinds()
    }
    fn start_times(&self) -> Vec<u64> {
        self.0.start_times()
    }
    fn end_times(&self) -> Vec<u64> {
        self.0.end_times()
    }
    fn durations(&self) -> Vec<u64> {
        self.0.durations()
    }
    fn status_codes(&self) -> Vec<u8> {
        self.0.status_codes()
    }
    fn str_field(&self, field: StrField) -> StrColumn {
        self.0.str_field(field.into())
    }
    fn str_field_count(&self, field: StrField) -> usize {
        self.0.str_field_count(field.into()) as usize
    }
    fn resource_ids(&self) -> Vec<u32> {
        self.0.resource_ids()
    }
    fn scope_ids(&self) -> Vec<u32> {
        self.0.scope_ids()
    }
    fn event_spans(&self) -> Vec<u32> {
        self.0.event_spans()
    }
    fn event_times(&self) -> Vec<u64> {
        self.0.event_times()
    }
    fn link_spans(&self) -> Vec<u32> {
        self.0.link_spans()
    }
    fn link_trace_ids(&self) -> Vec<u8> {
        self.0.link_trace_ids()
    }
    fn link_span_ids(&self) -> Vec<u8> {
        self.0.link_span_ids()
    }
    fn row_count(&self, at: Level) -> usize {
        self.0.row_count(at.into()) as usize
    }
    fn attribute_keys(&self, at: Level) -> Vec<String> {
        self.0.attribute_keys(at.into())
    }
    fn attribute_rows(&self, at: Level, keys: &[&str]) -> Vec<Vec<u32>> {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        self.0.attribute_rows(at.into(), &keys)
    }
    fn attribute_count(&self, at: Level, key: &str) -> usize {
        self.0.attribute_count(at.into(), key) as usize
    }
    fn str_attribute(&self, at: Level, key: &str) -> StrColumn {
        self.0.str_attribute(at.into(), key)
    }
    fn str_attributes(&self, at: Level, keys: &[&str]) -> Vec<StrColumn> {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        self.0.str_attributes(at.into(), &keys)
    }
    fn int_attribute(&self, at: Level, key: &str) -> IntColumn {
        self.0.int_attribute(at.into(), key)
    }
    fn double_attribute(&self, at: Level, key: &str) -> DoubleColumn {
        self.0.double_attribute(at.into(), key)
    }
    fn bool_attribute(&self, at: Level, key: &str) -> BoolColumn {
        self.0.bool_attribute(at.into(), key)
    }
    fn attribute(&self, at: Level, key: &str) -> Vec<Option<Value>> {
        self.0
            .attribute(at.into(), key)
            .into_iter()
            .map(|v| v.map(Value::from))
            .collect()
    }
    fn set_str_attribute(&mut self, at: Level, key: &str, rows: &[u32], values: &StrColumn) {
        self.0.set_str_attribute(at.into(), key, rows, values);
    }
    fn set_attribute(&mut self, at: Level, key: &str, rows: &[u32], values: &[Value]) {
        let values: Vec<wit::Value> = values.iter().cloned().map(Into::into).collect();
        self.0.set_attribute(at.into(), key, rows, &values);
    }
    fn remove_attribute(&mut self, at: Level, key: &str, rows: &[u32]) {
        self.0.remove_attribute(at.into(), key, rows);
    }
    fn set_str_field(&mut self, field: StrField, rows: &[u32], values: &StrColumn) {
        self.0.set_str_field(field.into(), rows, values);
    }
    fn fill_str_field(&mut self, field: StrField, rows: &[u32], value: &str) {
        self.0.fill_str_field(field.into(), rows, value);
    }
    fn drop_spans(&mut self, rows: &[u32]) {
        self.0.drop_spans(rows);
    }
    fn drop_events(&mut self, rows: &[u32]) {
        self.0.drop_events(rows);
    }
    fn hash_attributes(&mut self, at: Level, keys: &[&str], rows: &[u32], function: &HashFunction) {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        self.0
            .hash_attributes(at.into(), &keys, rows, &function.clone().into());
    }
}
