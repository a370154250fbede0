//! The WebAssembly side: bindings for the `span-processor` world and a [`SpanBatch`] over the
//! host's `span-batch` resource. Plugin crates reach this only through
//! [`crate::export_processor!`].

use crate::{ConfigError, LogLevel, ProcessError, Processor, SpanBatch};
use spanwise_batch::types::{Level, StrColumn, StrField, Value};

/// Generated bindings of the `span-processor` world.
#[allow(missing_docs, clippy::all, unsafe_code)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "span-processor",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "__export_span_processor",
        default_bindings_module: "spanwise_sdk::guest::bindings",
        runtime_path: "spanwise_sdk::__wit_bindgen::rt",
        with: {
            "spanwise:processor/types@0.1.0/str-column": spanwise_batch::types::StrColumn,
        },
    });
}

use bindings::spanwise::processor::{batch as wit_batch, host as wit_host, types as wit};

pub use bindings::Guest;
/// The config error type of the world's `configure` export.
pub type WitConfigError = wit::ConfigError;
/// The process error type of the world's `process` export.
pub type WitProcessError = wit::ProcessError;
/// The borrowed batch handed to `process`.
pub type SpanBatchBorrow<'a> = &'a wit_batch::SpanBatch;

/// Run [`Processor::configure`] and convert its error.
pub fn configure<P: Processor>(config: &str) -> Result<P, WitConfigError> {
    P::configure(config)
        .map_err(|ConfigError { field, message }| wit::ConfigError { field, message })
}

/// Run [`Processor::process`] over the host's batch and convert its error.
pub fn process<P: Processor>(
    processor: Option<&mut P>,
    batch: SpanBatchBorrow<'_>,
) -> Result<(), WitProcessError> {
    let Some(processor) = processor else {
        return Err(wit::ProcessError::Internal(
            "process was called before configure".into(),
        ));
    };
    let mut view = GuestBatch(batch);
    processor.process(&mut view).map_err(|e| match e {
        ProcessError::InvalidData(m) => wit::ProcessError::InvalidData(m),
        ProcessError::Internal(m) => wit::ProcessError::Internal(m),
    })
}

pub(crate) fn log(level: LogLevel, message: &str) {
    let level = match level {
        LogLevel::Trace => wit_host::LogLevel::Trace,
        LogLevel::Debug => wit_host::LogLevel::Debug,
        LogLevel::Info => wit_host::LogLevel::Info,
        LogLevel::Warn => wit_host::LogLevel::Warn,
        LogLevel::Error => wit_host::LogLevel::Error,
    };
    wit_host::log(level, message);
}

pub(crate) fn count(name: &str, delta: u64) {
    wit_host::count(name, delta);
}

pub(crate) fn keyed_hash(key: &str, values: &StrColumn) -> Result<Vec<u8>, String> {
    wit_host::keyed_hash(key, values)
}

fn level(at: Level) -> wit::Level {
    match at {
        Level::Resource => wit::Level::Resource,
        Level::Scope => wit::Level::Scope,
        Level::Span => wit::Level::Span,
        Level::Event => wit::Level::Event,
        Level::Link => wit::Level::Link,
    }
}

fn str_field(field: StrField) -> wit::StrField {
    match field {
        StrField::Name => wit::StrField::Name,
        StrField::StatusMessage => wit::StrField::StatusMessage,
        StrField::TraceState => wit::StrField::TraceState,
        StrField::ScopeName => wit::StrField::ScopeName,
        StrField::ScopeVersion => wit::StrField::ScopeVersion,
        StrField::SchemaUrl => wit::StrField::SchemaUrl,
        StrField::EventName => wit::StrField::EventName,
        StrField::LinkTraceState => wit::StrField::LinkTraceState,
    }
}

fn from_wit(value: wit::Value) -> Value {
    match value {
        wit::Value::Str(s) => Value::Str(s),
        wit::Value::Int(i) => Value::Int(i),
        wit::Value::Double(d) => Value::Double(d),
        wit::Value::Boolean(b) => Value::Bool(b),
        wit::Value::Bytes(b) => Value::Bytes(b),
        wit::Value::Complex(b) => Value::Complex(b),
    }
}

fn to_wit(value: &Value) -> wit::Value {
    match value {
        Value::Str(s) => wit::Value::Str(s.clone()),
        Value::Int(i) => wit::Value::Int(*i),
        Value::Double(d) => wit::Value::Double(*d),
        Value::Bool(b) => wit::Value::Boolean(*b),
        Value::Bytes(b) => wit::Value::Bytes(b.clone()),
        Value::Complex(b) => wit::Value::Complex(b.clone()),
    }
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
        self.0.str_field(str_field(field))
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
    fn attribute_keys(&self, at: Level) -> Vec<String> {
        self.0.attribute_keys(level(at))
    }
    fn str_attribute(&self, at: Level, key: &str) -> StrColumn {
        self.0.str_attribute(level(at), key)
    }
    fn attribute(&self, at: Level, key: &str) -> Vec<Option<Value>> {
        self.0
            .attribute(level(at), key)
            .into_iter()
            .map(|v| v.map(from_wit))
            .collect()
    }
    fn set_str_attribute(&mut self, at: Level, key: &str, rows: &[u32], values: &StrColumn) {
        self.0.set_str_attribute(level(at), key, rows, values);
    }
    fn set_attribute(&mut self, at: Level, key: &str, rows: &[u32], values: &[Value]) {
        let values: Vec<wit::Value> = values.iter().map(to_wit).collect();
        self.0.set_attribute(level(at), key, rows, &values);
    }
    fn remove_attribute(&mut self, at: Level, key: &str, rows: &[u32]) {
        self.0.remove_attribute(level(at), key, rows);
    }
    fn set_str_field(&mut self, field: StrField, rows: &[u32], values: &StrColumn) {
        self.0.set_str_field(str_field(field), rows, values);
    }
    fn drop_spans(&mut self, rows: &[u32]) {
        self.0.drop_spans(rows);
    }
}
