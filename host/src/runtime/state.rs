//! What a plugin's `Store` holds, and the host side of every WIT import.

use super::bindings::{wit, wit_batch, wit_host};
use super::log::{CappedOutput, PluginLog};
use crate::telemetry::Counters;
use spanwise_abi::{BytesColumn, SpanBatch, StrColumn};
use spanwise_batch::{Journal, LentBatch, Secret};
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
    /// The batch lent to the call in progress, with its journal; `None` between calls.
    pub(super) lent: Option<LentBatch>,
    pub(super) context: Arc<PluginContext>,
    /// The table entry every call's `span-batch` borrow points at, made at the first call and
    /// kept: which batch it means is `lent`, so nothing about it changes between calls.
    handle: Option<u32>,
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
            lent: None,
            context,
            handle: None,
        }
    }

    /// A borrow of the instance's batch handle, to pass to one call.
    pub(super) fn borrow_handle(&mut self) -> wasmtime::Result<Resource<BatchHandle>> {
        let rep = match self.handle {
            Some(rep) => rep,
            None => {
                let rep = self.table.push(BatchHandle)?.rep();
                self.handle = Some(rep);
                rep
            }
        };
        Ok(Resource::new_borrow(rep))
    }

    /// The lent batch, for reads.
    fn lent(&self) -> wasmtime::Result<&LentBatch> {
        match &self.lent {
            Some(lent) => Ok(lent),
            None => bail!("the span batch is only valid during the call it was passed to"),
        }
    }

    /// The journal of the lent batch, for edits: a refused edit is returned as an error, which
    /// traps the call.
    fn journal(&mut self) -> wasmtime::Result<&mut Journal> {
        match &mut self.lent {
            Some(lent) => Ok(lent.journal_mut()),
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

impl wit::Host for PluginState {}

impl wit_batch::Host for PluginState {}

/// Reads go to the lent batch through [`SpanBatch`] (the same code native builds run); edits go
/// to its journal with the values the guest sent, moved rather than copied.
impl wit_batch::HostSpanBatch for PluginState {
    fn len(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<u32> {
        Ok(self.lent()?.len() as u32)
    }
    fn trace_ids(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.lent()?.trace_ids())
    }
    fn span_ids(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.lent()?.span_ids())
    }
    fn parent_span_ids(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.lent()?.parent_span_ids())
    }
    fn flags(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u32>> {
        Ok(self.lent()?.flags())
    }
    fn kinds(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.lent()?.kinds())
    }
    fn start_times(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u64>> {
        Ok(self.lent()?.start_times())
    }
    fn end_times(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u64>> {
        Ok(self.lent()?.end_times())
    }
    fn durations(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u64>> {
        Ok(self.lent()?.durations())
    }
    fn status_codes(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.lent()?.status_codes())
    }
    fn str_field(
        &mut self,
        _: Resource<BatchHandle>,
        field: wit::StrField,
    ) -> wasmtime::Result<wit::StrColumn> {
        Ok(self.lent()?.str_field(field.into()).into())
    }
    fn str_field_count(
        &mut self,
        _: Resource<BatchHandle>,
        field: wit::StrField,
    ) -> wasmtime::Result<u32> {
        Ok(self.lent()?.str_field_count(field.into()) as u32)
    }
    fn resource_ids(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u32>> {
        Ok(self.lent()?.resource_ids())
    }
    fn scope_ids(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u32>> {
        Ok(self.lent()?.scope_ids())
    }
    fn event_spans(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u32>> {
        Ok(self.lent()?.event_spans())
    }
    fn event_times(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u64>> {
        Ok(self.lent()?.event_times())
    }
    fn link_spans(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u32>> {
        Ok(self.lent()?.link_spans())
    }
    fn link_trace_ids(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.lent()?.link_trace_ids())
    }
    fn link_span_ids(&mut self, _: Resource<BatchHandle>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.lent()?.link_span_ids())
    }
    fn row_count(&mut self, _: Resource<BatchHandle>, at: wit::Level) -> wasmtime::Result<u32> {
        Ok(self.lent()?.row_count(at.into()) as u32)
    }
    fn attribute_keys(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
    ) -> wasmtime::Result<Vec<String>> {
        Ok(self.lent()?.attribute_keys(at.into()))
    }
    fn attribute_rows(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        keys: Vec<String>,
    ) -> wasmtime::Result<Vec<Vec<u32>>> {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        Ok(self.lent()?.attribute_rows(at.into(), &keys))
    }
    fn attribute_count(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        key: String,
    ) -> wasmtime::Result<u32> {
        Ok(self.lent()?.attribute_count(at.into(), &key) as u32)
    }
    fn str_attribute(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        key: String,
    ) -> wasmtime::Result<wit::StrColumn> {
        Ok(self.lent()?.str_attribute(at.into(), &key).into())
    }
    fn str_attributes(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        keys: Vec<String>,
    ) -> wasmtime::Result<Vec<wit::StrColumn>> {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        Ok(self
            .lent()?
            .str_attributes(at.into(), &keys)
            .into_iter()
            .map(Into::into)
            .collect())
    }
    fn int_attribute(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        key: String,
    ) -> wasmtime::Result<wit::IntColumn> {
        Ok(self.lent()?.int_attribute(at.into(), &key).into())
    }
    fn double_attribute(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        key: String,
    ) -> wasmtime::Result<wit::DoubleColumn> {
        Ok(self.lent()?.double_attribute(at.into(), &key).into())
    }
    fn bool_attribute(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        key: String,
    ) -> wasmtime::Result<wit::BoolColumn> {
        Ok(self.lent()?.bool_attribute(at.into(), &key).into())
    }
    fn attribute(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        key: String,
    ) -> wasmtime::Result<Vec<Option<wit::Value>>> {
        Ok(self
            .lent()?
            .attribute(at.into(), &key)
            .into_iter()
            .map(|v| v.map(Into::into))
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
        Ok(self
            .journal()?
            .set_str_attribute(at.into(), &key, rows, values.into())?)
    }
    fn set_attribute(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        key: String,
        rows: Vec<u32>,
        values: Vec<wit::Value>,
    ) -> wasmtime::Result<()> {
        let values = values.into_iter().map(Into::into).collect();
        Ok(self
            .journal()?
            .set_attribute(at.into(), &key, rows, values)?)
    }
    fn remove_attribute(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        key: String,
        rows: Vec<u32>,
    ) -> wasmtime::Result<()> {
        Ok(self.journal()?.remove_attribute(at.into(), &key, rows)?)
    }
    fn set_str_field(
        &mut self,
        _: Resource<BatchHandle>,
        field: wit::StrField,
        rows: Vec<u32>,
        values: wit::StrColumn,
    ) -> wasmtime::Result<()> {
        Ok(self
            .journal()?
            .set_str_field(field.into(), rows, values.into())?)
    }
    fn fill_str_field(
        &mut self,
        _: Resource<BatchHandle>,
        field: wit::StrField,
        rows: Vec<u32>,
        value: String,
    ) -> wasmtime::Result<()> {
        Ok(self.journal()?.fill_str_field(field.into(), rows, &value)?)
    }
    fn drop_spans(&mut self, _: Resource<BatchHandle>, spans: Vec<u32>) -> wasmtime::Result<()> {
        Ok(self.journal()?.drop_spans(spans)?)
    }
    fn drop_events(&mut self, _: Resource<BatchHandle>, events: Vec<u32>) -> wasmtime::Result<()> {
        Ok(self.journal()?.drop_events(events)?)
    }
    fn hash_attributes(
        &mut self,
        _: Resource<BatchHandle>,
        at: wit::Level,
        keys: Vec<String>,
        rows: Vec<u32>,
        function: wit::HashFunction,
    ) -> wasmtime::Result<()> {
        let secret = match function {
            wit::HashFunction::Sha256 => None,
            wit::HashFunction::HmacSha256(name) => Some(Secret(
                self.key(&name).map_err(wasmtime::Error::msg)?.to_vec(),
            )),
        };
        Ok(self
            .journal()?
            .hash_attributes(at.into(), &keys, rows, secret)?)
    }
    fn drop(&mut self, handle: Resource<BatchHandle>) -> wasmtime::Result<()> {
        // Guests only ever get borrows, so this is not called; if it were, the next call
        // would make a new entry.
        if self.handle == Some(handle.rep()) {
            self.handle = None;
        }
        // Already gone if the guest somehow dropped it twice; nothing else to do.
        let _ = self.table.delete(handle);
        Ok(())
    }
}

impl wit_host::Host for PluginState {
    fn log(&mut self, level: wit_host::LogLevel, message: String) -> wasmtime::Result<()> {
        self.context.log.line(level.into(), &message);
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
                spanwise_abi::LogLevel::Warn,
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
        let values = StrColumn::from(values);
        if let Err(e) = values.validate() {
            bail!("keyed-hash: {e}");
        }
        Ok(self
            .key(&key)
            .map(|secret| spanwise_batch::hash::hmac_sha256_column(secret, &values)))
    }

    fn keyed_hash_bytes(
        &mut self,
        key: String,
        values: wit::BytesColumn,
    ) -> wasmtime::Result<Result<Vec<u8>, String>> {
        let values = BytesColumn::from(values);
        if let Err(e) = values.validate() {
            bail!("keyed-hash-bytes: {e}");
        }
        Ok(self
            .key(&key)
            .map(|secret| spanwise_batch::hash::hmac_sha256_bytes(secret, &values)))
    }

    fn sha256(&mut self, values: wit::BytesColumn) -> wasmtime::Result<Vec<u8>> {
        let values = BytesColumn::from(values);
        if let Err(e) = values.validate() {
            bail!("sha256: {e}");
        }
        Ok(spanwise_batch::hash::sha256_bytes(&values))
    }
}

impl PluginState {
    /// The processor's key named `name`, or the error the guest gets.
    fn key(&self, name: &str) -> Result<&[u8], String> {
        match self.context.keys.get(name) {
            Some(secret) => Ok(secret),
            None => Err(format!(
                "no key named {name:?} is configured for processor {}",
                self.context.name
            )),
        }
    }
}
