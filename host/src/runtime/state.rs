//! What a plugin's `Store` holds, and the host side of every WIT import.

use super::bindings::{wit, wit_batch, wit_host};
use super::log::{CappedOutput, PluginLog};
use crate::telemetry::Counters;
use spanwise_batch::{Batch, Journal, Level, StrColumn, StrField, Value};
use std::collections::HashMap;
use std::sync::Arc;
use wasmtime::component::{Resource, ResourceTable};
use wasmtime::{StoreLimits, bail};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The host type behind the WIT `span-batch` resource. It carries nothing: the batch being
/// lent lives in the [`PluginState`] for the length of one call.
#[derive(Debug)]
pub struct BatchHandle;

/// What one plugin instance shares with the rest of the host: its name, counters and keys.
#[derive(Debug)]
pub struct PluginContext {
    /// The processor id from the config, such as `wasm/url`.
    pub name: String,
    /// Counters the plugin adds to with the `count` import.
    pub counters: Arc<Counters>,
    /// Keys for `keyed-hash`, by name. They never enter guest memory.
    pub keys: HashMap<String, Vec<u8>>,
    /// Where the plugin's log lines go, capped.
    pub log: PluginLog,
}

impl PluginContext {
    /// A context for processor `name` with fresh counters and no keys.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            counters: Arc::default(),
            keys: HashMap::new(),
            log: PluginLog::new(name),
        }
    }
}

/// The data of a plugin's `Store`.
pub struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(super) limits: StoreLimits,
    pub(super) batch: Option<Batch>,
    pub(super) journal: Option<Journal>,
    pub(super) context: Arc<PluginContext>,
}

impl PluginState {
    /// State for a fresh instance: WASI with nothing granted but capped stdout and stderr.
    pub fn new(context: Arc<PluginContext>, limits: StoreLimits) -> Self {
        let output = CappedOutput::new(context.log.clone());
        let wasi = wasmtime_wasi::WasiCtxBuilder::new()
            .stdout(output.clone())
            .stderr(output)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limits,
            batch: None,
            journal: None,
            context,
        }
    }

    pub(super) fn push_handle(&mut self) -> wasmtime::Result<Resource<BatchHandle>> {
        Ok(self.table.push(BatchHandle)?)
    }

    pub(super) fn delete_handle(&mut self, handle: Resource<BatchHandle>) {
        // Already gone if the guest somehow dropped it; nothing else to do.
        let _ = self.table.delete(handle);
    }

    fn batch(&self) -> wasmtime::Result<&Batch> {
        match &self.batch {
            Some(batch) => Ok(batch),
            None => bail!("the span batch is only valid during the call it was passed to"),
        }
    }

    fn journal(&mut self) -> wasmtime::Result<&mut Journal> {
        match &mut self.journal {
            Some(journal) => Ok(journal),
            None => bail!("the span batch is only valid during the call it was passed to"),
        }
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn level(at: wit::Level) -> Level {
    match at {
        wit::Level::Resource => Level::Resource,
        wit::Level::Scope => Level::Scope,
        wit::Level::Span => Level::Span,
        wit::Level::Event => Level::Event,
        wit::Level::Link => Level::Link,
    }
}

fn str_field(field: wit::StrField) -> StrField {
    match field {
        wit::StrField::Name => StrField::Name,
        wit::StrField::StatusMessage => StrField::StatusMessage,
        wit::StrField::TraceState => StrField::TraceState,
        wit::StrField::ScopeName => StrField::ScopeName,
        wit::StrField::ScopeVersion => StrField::ScopeVersion,
        wit::StrField::SchemaUrl => StrField::SchemaUrl,
        wit::StrField::EventName => StrField::EventName,
        wit::StrField::LinkTraceState => StrField::LinkTraceState,
    }
}

fn to_wit_column(column: StrColumn) -> wit::StrColumn {
    wit::StrColumn {
        offsets: column.offsets,
        data: column.data,
        present: column.present,
    }
}

fn from_wit_column(column: wit::StrColumn) -> StrColumn {
    StrColumn {
        offsets: column.offsets,
        data: column.data,
        present: column.present,
    }
}

fn to_wit_value(value: Value) -> wit::Value {
    match value {
        Value::Str(s) => wit::Value::Str(s),
        Value::Int(i) => wit::Value::Int(i),
        Value::Double(d) => wit::Value::Double(d),
        Value::Bool(b) => wit::Value::Boolean(b),
        Value::Bytes(b) => wit::Value::Bytes(b),
        Value::Complex(b) => wit::Value::Complex(b),
    }
}

fn from_wit_value(value: wit::Value) -> Value {
    match value {
        wit::Value::Str(s) => Value::Str(s),
        wit::Value::Int(i) => Value::Int(i),
        wit::Value::Double(d) => Value::Double(d),
        wit::Value::Boolean(b) => Value::Bool(b),
        wit::Value::Bytes(b) => Value::Bytes(b),
        wit::Value::Complex(b) => Value::Complex(b),
    }
}

impl wit::Host for PluginState {}

impl wit_batch::Host for PluginState {}

impl wit_batch::HostSpanBatch for PluginState {
    fn len(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<u32> {
        Ok(self.batch()?.len() as u32)
    }
    fn trace_ids(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.batch()?.trace_ids())
    }
    fn span_ids(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.batch()?.span_ids())
    }
    fn parent_span_ids(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.batch()?.parent_span_ids())
    }
    fn flags(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u32>> {
        Ok(self.batch()?.flags())
    }
    fn kinds(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.batch()?.kinds())
    }
    fn start_times(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u64>> {
        Ok(self.batch()?.start_times())
    }
    fn end_times(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u64>> {
        Ok(self.batch()?.end_times())
    }
    fn durations(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u64>> {
        Ok(self.batch()?.durations())
    }
    fn status_codes(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.batch()?.status_codes())
    }
    fn str_field(
        &mut self,
        _: Resource<BatchHandle>,
        field: wit::StrField,
    ) -> wasmtime::Result<wit::StrColumn> {
        Ok(to_wit_column(self.batch()?.str_field(str_field(field))))
    }
    fn event_spans(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u32>> {
        Ok(self.batch()?.event_spans())
    }
    fn event_times(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u64>> {
        Ok(self.batch()?.event_times())
    }
    fn link_spans(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u32>> {
        Ok(self.batch()?.link_spans())
    }
    fn link_trace_ids(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.batch()?.link_trace_ids())
    }
    fn link_span_ids(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.batch()?.link_span_ids())
    }
    fn attribute_keys(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
    ) -> wasmtime::Result<Vec<String>> {
        Ok(self.batch()?.attribute_keys(level(at)))
    }
    fn str_attribute(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        key: String,
    ) -> wasmtime::Result<wit::StrColumn> {
        Ok(to_wit_column(self.batch()?.str_attribute(level(at), &key)))
    }
    fn attribute(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        key: String,
    ) -> wasmtime::Result<Vec<Option<wit::Value>>> {
        Ok(self
            .batch()?
            .attribute(level(at), &key)
            .into_iter()
            .map(|v| v.map(to_wit_value))
            .collect())
    }
    fn set_str_attribute(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        key: String,
        rows: Vec<u32>,
        values: wit::StrColumn,
    ) -> wasmtime::Result<()> {
        let values = from_wit_column(values);
        Ok(self
            .journal()?
            .set_str_attribute(level(at), &key, rows, values)?)
    }
    fn set_attribute(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        key: String,
        rows: Vec<u32>,
        values: Vec<wit::Value>,
    ) -> wasmtime::Result<()> {
        let values = values.into_iter().map(from_wit_value).collect();
        Ok(self
            .journal()?
            .set_attribute(level(at), &key, rows, values)?)
    }
    fn remove_attribute(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        key: String,
        rows: Vec<u32>,
    ) -> wasmtime::Result<()> {
        Ok(self.journal()?.remove_attribute(level(at), &key, rows)?)
    }
    fn set_str_field(
        &mut self,
        _: Resource<BatchHandle>,
        field: wit::StrField,
        rows: Vec<u32>,
        values: wit::StrColumn,
    ) -> wasmtime::Result<()> {
        let values = from_wit_column(values);
        Ok(self
            .journal()?
            .set_str_field(str_field(field), rows, values)?)
    }
    fn drop_spans(&mut self, _: Resource<BatchHandle>, spans: Vec<u32>) -> wasmtime::Result<()> {
        Ok(self.journal()?.drop_spans(spans)?)
    }
    fn drop(&mut self, handle: Resource<BatchHandle>) -> wasmtime::Result<()> {
        self.delete_handle(handle);
        Ok(())
    }
}

impl wit_host::Host for PluginState {
    fn log(&mut self, level: wit_host::LogLevel, message: String) -> wasmtime::Result<()> {
        self.context.log.line(level, &message);
        Ok(())
    }

    fn count(&mut self, name: String, delta: u64) -> wasmtime::Result<()> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if valid {
            self.context.counters.add(&name, delta);
        } else {
            self.context.log.line(
                wit_host::LogLevel::Warn,
                &format!("ignored counter with invalid name {name:?} (use [a-z0-9_], at most 64)"),
            );
        }
        Ok(())
    }

    fn keyed_hash(
        &mut self,
        key: String,
        values: wit::StrColumn,
    ) -> wasmtime::Result<Result<Vec<u8>, String>> {
        let values = from_wit_column(values);
        if let Err(e) = values.validate() {
            bail!("keyed-hash: {e}");
        }
        Ok(match self.context.keys.get(&key) {
            Some(secret) => Ok(spanwise_batch::hash::hmac_sha256_column(secret, &values)),
            None => Err(format!(
                "no key named {key:?} is configured for processor {}",
                self.context.name
            )),
        })
    }
}
