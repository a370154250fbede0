//! Processors through the C ABI: load one (a plugin, or a chain of plugins), run requests
//! through it, read its counters.

use crate::block::{self, keyed};
use crate::guard::{self, Failure, bytes, guarded, owned_c_string, put, text};
use crate::{SpanwiseRuntime, SpanwiseStatus};
use spanwise::batch::Batch;
use spanwise::pipeline::{WasmStage, load_plugin, wasm_stage};
use spanwise::runtime::Plugin;
use std::ffi::{CString, c_char};

/// One processor: one plugin, or a chain of plugins run in order on the same decoded batch,
/// each served by its pool of configured instances.
pub struct SpanwiseProcessor {
    stages: Vec<WasmStage>,
    _plugins: Vec<Plugin>,
}

/// What one request became. The caller owns it and frees it with `spanwise_output_free`.
#[repr(C)]
pub struct SpanwiseOutput {
    /// The edited `ExportTraceServiceRequest`, as protobuf bytes (no spans left: a request with
    /// none, possibly zero bytes).
    pub data: *mut u8,
    /// How many bytes `data` has.
    pub len: usize,
    /// Spans in the request.
    pub spans_in: u64,
    /// Spans in the edited request.
    pub spans_out: u64,
    /// Spans dropped: by the plugins, or all those a failing plugin had when its `on_error` is
    /// `drop`.
    pub spans_dropped: u64,
    /// Why spans were dropped (one line per plugin that dropped some, naming it), or null when
    /// none was.
    pub dropped_reason: *mut c_char,
    /// Whether a plugin failed on this request (trap, deadline, memory, error); its `on_error`
    /// decided, and `dropped_reason` (drop) or `failure` (pass) says why.
    pub failed: bool,
    /// For each plugin that failed with `on_error: pass`: which, and why (the batch went on
    /// unedited by it). Otherwise null.
    pub failure: *mut c_char,
    /// Asked for with `SPANWISE_PROCESS_KEPT`: the plugins did nothing but drop spans, so
    /// `data` is null and `kept` says which spans of the request remain.
    pub kept_only: bool,
    /// With `kept_only`: one byte per span of the request, in its order (resource by resource,
    /// scope by scope), 1 for a span that remains and 0 for one dropped. Otherwise null.
    pub kept: *mut u8,
    /// How many bytes `kept` has (`spans_in` with `kept_only`, else 0).
    pub kept_len: usize,
}

/// A flag of `spanwise_processor_process`: when the plugins did nothing but drop spans, do not
/// encode the request again; say which spans remain (`SpanwiseOutput::kept`). A caller that
/// still holds the request in its own form removes those spans itself, which is much cheaper
/// than reading a new request (for a filter, or a sampler that dropped and wrote nothing).
pub const SPANWISE_PROCESS_KEPT: u32 = 1;

/// Check the block of processor `id` as `spanwise_processor_new` would, without loading a
/// plugin: the keys, their types and values. `block_json` is the block as JSON: `plugin`,
/// `sha256`, `on_error`, `limits`, `keys`, `config`, `pool_size`, `traps`, as under
/// `processors.wasm/NAME` in a spanwise config; or `{"chain": [block, ...]}`, plugins run one
/// after the other on the same decoded request. The error names the key, under
/// `processors.ID` (`processors.ID.chain.N.` in a chain), or relative to the block when `id` is
/// empty.
///
/// # Safety
/// `id` and `block_json` are NUL-terminated strings; `error` is null or points to a writable
/// pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spanwise_processor_check(
    id: *const c_char,
    block_json: *const c_char,
    error: *mut *mut c_char,
) -> SpanwiseStatus {
    guarded(error, || {
        block::parse(text(id, "id")?, text(block_json, "block_json")?).map(|_| ())
    })
}

/// Load and configure processor `id` from its block (see `spanwise_processor_check`): read
/// each plugin (checking `sha256` when given), compile it or take it from the cache, and
/// configure `pool_size` instances with `config`. On success `*processor` is the new
/// processor (free it with `spanwise_processor_free`); otherwise the error names the key
/// (`processors.ID.plugin`, `processors.ID.config.FIELD`, ...) and the reason.
///
/// # Safety
/// `runtime` is a live runtime; `id` and `block_json` are NUL-terminated strings; `processor`
/// and `error` are null or point to writable pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spanwise_processor_new(
    runtime: *const SpanwiseRuntime,
    id: *const c_char,
    block_json: *const c_char,
    processor: *mut *mut SpanwiseProcessor,
    error: *mut *mut c_char,
) -> SpanwiseStatus {
    guarded(error, || {
        // SAFETY: a live runtime from `spanwise_runtime_new`, or null.
        let runtime = &unsafe { guard::live(runtime, "runtime") }?.runtime;
        let links = block::parse(text(id, "id")?, text(block_json, "block_json")?)?;
        let mut stages = Vec::with_capacity(links.len());
        let mut plugins = Vec::with_capacity(links.len());
        for link in links {
            let plugin = load_plugin(runtime, &link.key, &link.config)
                .map_err(|(key, reason)| Failure::load(keyed(&key, &reason)))?;
            let stage = wasm_stage(&link.id, &link.key, &link.config, &plugin)
                .map_err(|(key, reason)| Failure::load(keyed(&key, &reason)))?;
            stages.push(stage);
            plugins.push(plugin);
        }
        put(
            processor,
            Box::into_raw(Box::new(SpanwiseProcessor {
                stages,
                _plugins: plugins,
            })),
            "processor",
        )
    })
}

/// Free a processor and its instances (null is allowed).
///
/// # Safety
/// `processor` is null or from `spanwise_processor_new`, not yet freed, with no call on it
/// running.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spanwise_processor_free(processor: *mut SpanwiseProcessor) {
    // SAFETY: made by `spanwise_processor_new` and, as documented, freed once.
    unsafe { guard::free_box(processor) }
}

/// Run one request through the processor: `request` is `len` bytes of a protobuf
/// `ExportTraceServiceRequest` (or `TracesData`, the same message on the wire), decoded once,
/// run through each plugin in order and encoded once. `flags` is 0 or `SPANWISE_PROCESS_KEPT`.
/// On success `*output` holds the edited request (or, with `SPANWISE_PROCESS_KEPT` and only
/// drops, which spans remain) and what was dropped (free it with `spanwise_output_free`). Bytes that do not
/// decode are `SPANWISE_STATUS_INVALID_ARGUMENT`, and nothing is run. A failing plugin is not
/// an error of this call: see `SpanwiseOutput::failed`.
///
/// # Safety
/// `processor` is a live processor; `request` points to `len` readable bytes (or is null with
/// `len` 0); `output` points to writable memory for a `SpanwiseOutput`; `error` is null or
/// points to a writable pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spanwise_processor_process(
    processor: *const SpanwiseProcessor,
    request: *const u8,
    len: usize,
    flags: u32,
    output: *mut SpanwiseOutput,
    error: *mut *mut c_char,
) -> SpanwiseStatus {
    guarded(error, || {
        // SAFETY: a live processor from `spanwise_processor_new`, or null.
        let processor = unsafe { guard::live(processor, "processor") }?;
        if flags & !SPANWISE_PROCESS_KEPT != 0 {
            return Err(Failure::invalid(format!("unknown flags {flags:#x}")));
        }
        if output.is_null() {
            return Err(Failure::invalid("output is a null pointer"));
        }
        let request =
            spanwise::batch::decode_request(bytes(request, len, "request")?).map_err(|e| {
                Failure::invalid(format!(
                    "the request is not an OTLP ExportTraceServiceRequest: {e}"
                ))
            })?;
        let mut batch = Batch::from_request(request);
        let spans_in = batch.len() as u64;
        let (mut dropped, mut failed, mut passed) = (Vec::new(), false, Vec::new());
        // The request's span numbers of the rows left, while the plugins only drop spans.
        let mut left: Option<Vec<u32>> = Some((0..spans_in as u32).collect());
        for stage in &processor.stages {
            if batch.is_empty() {
                break;
            }
            let outcome = stage.run(batch);
            batch = outcome.batch;
            left = match (left, outcome.only_dropped) {
                (Some(left), Some(gone)) => Some(without(left, gone)),
                _ => None,
            };
            if let Some(d) = outcome.dropped {
                dropped.push(format!(
                    "{} spans dropped by {}: {}",
                    d.spans, d.processor, d.reason
                ));
            }
            if let Some(failure) = outcome.failure {
                failed = true;
                if stage.on_error() == spanwise::config::OnError::Pass {
                    passed.push(format!(
                        "{} failed and the batch went on unedited by it (on_error: pass): {failure}",
                        stage.id()
                    ));
                }
            }
        }
        let spans_out = batch.len() as u64;
        let (data, len, kept) = match left {
            Some(left) if flags & SPANWISE_PROCESS_KEPT != 0 => {
                let mut kept = vec![0u8; spans_in as usize];
                for span in left {
                    kept[span as usize] = 1;
                }
                (std::ptr::null_mut(), 0, Some(kept.into_boxed_slice()))
            }
            _ => {
                let spans = batch.resource_spans();
                let mut edited = Vec::with_capacity(
                    spans
                        .iter()
                        .map(|rs| prost::encoding::message::encoded_len(1, rs))
                        .sum(),
                );
                spanwise::batch::encode_request(spans, &mut edited);
                let edited = edited.into_boxed_slice();
                let len = edited.len();
                (Box::into_raw(edited).cast::<u8>(), len, None)
            }
        };
        let text = |lines: Vec<String>| {
            if lines.is_empty() {
                std::ptr::null_mut()
            } else {
                owned_c_string(&lines.join("; "))
            }
        };
        put(
            output,
            SpanwiseOutput {
                data,
                len,
                spans_in,
                spans_out,
                spans_dropped: spans_in.saturating_sub(spans_out),
                dropped_reason: text(dropped),
                failed,
                failure: text(passed),
                kept_only: kept.is_some(),
                kept_len: kept.as_ref().map_or(0, |k| k.len()),
                kept: kept.map_or(std::ptr::null_mut(), |k| Box::into_raw(k).cast::<u8>()),
            },
            "output",
        )
    })
}

/// `left` (the request's span numbers of a batch's rows) without the rows `gone`.
fn without(left: Vec<u32>, mut gone: Vec<u32>) -> Vec<u32> {
    if gone.is_empty() {
        return left;
    }
    gone.sort_unstable();
    left.into_iter()
        .enumerate()
        .filter(|(row, _)| gone.binary_search(&(*row as u32)).is_err())
        .map(|(_, span)| span)
        .collect()
}

/// Free what `spanwise_processor_process` put in `*output`, and clear it (null is allowed).
///
/// # Safety
/// `output` is null or was filled by `spanwise_processor_process` (and possibly freed before).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spanwise_output_free(output: *mut SpanwiseOutput) {
    if output.is_null() {
        return;
    }
    guarded(std::ptr::null_mut(), || {
        // SAFETY: filled by `spanwise_processor_process`; every pointer in it is freed once
        // and then cleared, so a second call frees nothing.
        unsafe {
            let output = &mut *output;
            if !output.data.is_null() {
                drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                    output.data,
                    output.len,
                )));
            }
            output.data = std::ptr::null_mut();
            output.len = 0;
            if !output.kept.is_null() {
                drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                    output.kept,
                    output.kept_len,
                )));
            }
            output.kept = std::ptr::null_mut();
            output.kept_len = 0;
            for text in [&mut output.dropped_reason, &mut output.failure] {
                if !text.is_null() {
                    drop(CString::from_raw(*text));
                }
                *text = std::ptr::null_mut();
            }
        }
        Ok(())
    });
}

/// The processor's counters, as a JSON object written to `*json` (free it with
/// `spanwise_string_free`): `{"host": {...}, "plugin": {...}}`, the host's counters
/// (`batches`, `spans_in`, `spans_out`, `spans_dropped`, `errors`, `traps`,
/// `deadline_exceeded`, `spans_dropped_on_error`, `spans_passed_on_error`, `call_nanos`, ...)
/// and the plugin's own (from its `count` import), each a name and a count since the processor
/// was made; for a chain, `{"chain": [{"id": ..., "host": {...}, "plugin": {...}}, ...]}`. A
/// counter that never moved may be absent.
///
/// # Safety
/// `processor` is a live processor; `json` and `error` are null or point to writable pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spanwise_processor_counters(
    processor: *const SpanwiseProcessor,
    json: *mut *mut c_char,
    error: *mut *mut c_char,
) -> SpanwiseStatus {
    guarded(error, || {
        // SAFETY: a live processor from `spanwise_processor_new`, or null.
        let stages = &unsafe { guard::live(processor, "processor") }?.stages;
        let counters = |stage: &WasmStage| {
            serde_json::json!({
                "id": stage.id(),
                "host": stage.stats.snapshot(),
                "plugin": stage.plugin_counters.snapshot(),
            })
        };
        let counters = match stages.as_slice() {
            [one] => counters(one),
            chain => serde_json::json!({"chain": chain.iter().map(counters).collect::<Vec<_>>()}),
        };
        put(json, owned_c_string(&counters.to_string()), "json")
    })
}
