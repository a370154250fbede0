//! The C ABI of the spanwise host: load spanwise's WebAssembly trace processors into another
//! program and run OTLP trace requests through them. The OpenTelemetry Collector's `spanwise`
//! processor (`collector/`) is built on it, through cgo.
//!
//! A [`SpanwiseRuntime`] is one wasmtime engine with its compile cache and epoch ticker. A
//! [`SpanwiseProcessor`] is one processor, made from the same block as `processors.wasm/NAME`
//! in a spanwise config (given as JSON), served by a pool of plugin instances. A request goes
//! in as `ExportTraceServiceRequest` protobuf bytes and comes out edited, with what was dropped
//! and why.
//!
//! # Threads
//! Every function may be called from any thread. `spanwise_processor_process` and
//! `spanwise_processor_counters` may run on several threads at once on the same processor:
//! as many requests run side by side as the processor has instances (`pool_size`, default the
//! number of cores), and the others wait for an instance. `spanwise_processor_new` may run
//! concurrently on the same runtime. A `*_free` function must be the last call on its handle:
//! the caller makes sure no other call on it is running or will start. A processor keeps what
//! it needs of its runtime alive, so the two may be freed in either order.
//!
//! # Failures
//! No panic crosses the boundary: one is caught and reported as [`SpanwiseStatus::Internal`].
//! A plugin that traps, runs past its deadline or exceeds its memory never takes the process
//! down: its processor's `on_error` decides what happens to the request (`drop`, the default,
//! or `pass`), and the instance is replaced. By default the runtime installs no signal
//! handlers (see `signals_based_traps` in [`spanwise_runtime_new`]).

// This crate is the boundary with C: raw pointers and exported symbols are its purpose. Each
// `unsafe` block says what the caller promises.
#![allow(unsafe_code)]

/// The allocator of Rust's side of the process, as in the `spanwise` binary: a batch is a tree of
/// small strings, which glibc's allocator handles slowly (the Go side keeps its own heap).
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

mod guard;
mod options;
mod sampler;

pub use guard::SpanwiseStatus;
use guard::{Failure, bytes, guarded, owned_c_string, put, text};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
pub use sampler::{
    SpanwiseSampler, spanwise_sampler_decide, spanwise_sampler_free, spanwise_sampler_new,
};
use spanwise::batch::Batch;
use spanwise::config::WasmProcessorConfig;
use spanwise::pipeline::{WasmStage, load_plugin, wasm_stage};
use spanwise::runtime::{Plugin, Runtime};
use std::ffi::{CString, c_char};

/// A wasmtime engine, its compile cache and its epoch ticker: make one per process.
pub struct SpanwiseRuntime {
    runtime: Runtime,
}

/// One processor: a plugin and the pool of configured instances that serve it.
pub struct SpanwiseProcessor {
    stage: WasmStage,
    _plugin: Plugin,
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
    /// Spans dropped: by the plugin, or all of them when the plugin failed and `on_error` is
    /// `drop`.
    pub spans_dropped: u64,
    /// Why spans were dropped (one line naming the processor), or null when none was.
    pub dropped_reason: *mut c_char,
    /// Whether the plugin failed on this request (trap, deadline, error); `on_error` decided
    /// what `data` is and `dropped_reason` or `failure` says why.
    pub failed: bool,
    /// When the plugin failed and `on_error` is `pass`: why (the request went on unedited).
    /// Otherwise null.
    pub failure: *mut c_char,
}

/// Create a runtime. `options_json` is null, empty, or a JSON object with any of
/// `cache_dir` (a folder for compiled components; `""` for none; default
/// `~/.cache/spanwise/components`), `cache_max_size` (bytes, default 512 MiB), `max_memory`
/// (the largest linear memory of any plugin, bytes, default 1 GiB), `max_instances` (plugin
/// instances of all processors together, default 64) and `signals_based_traps` (default
/// `false`: generated code checks bounds itself and no signal handler is installed, which a
/// Go program needs; `true` is faster and only for programs whose signals spanwise may own).
///
/// On success `*runtime` is the new runtime (free it with `spanwise_runtime_free`).
///
/// # Safety
/// `options_json` is null or a NUL-terminated string; `runtime` and `error` are null or
/// point to writable pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spanwise_runtime_new(
    options_json: *const c_char,
    runtime: *mut *mut SpanwiseRuntime,
    error: *mut *mut c_char,
) -> SpanwiseStatus {
    guarded(error, || {
        let options = if options_json.is_null() {
            ""
        } else {
            text(options_json, "options_json")?
        };
        let settings = options::RuntimeOptions::parse(options)
            .map_err(Failure::invalid)?
            .settings();
        let made = Runtime::new(settings).map_err(|e| Failure::load(e.to_string()))?;
        put(
            runtime,
            Box::into_raw(Box::new(SpanwiseRuntime { runtime: made })),
            "runtime",
        )
    })
}

/// Free a runtime (null is allowed).
///
/// # Safety
/// `runtime` is null or from `spanwise_runtime_new`, not yet freed, with no call on it running.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spanwise_runtime_free(runtime: *mut SpanwiseRuntime) {
    if !runtime.is_null() {
        guarded(std::ptr::null_mut(), || {
            // SAFETY: made by `spanwise_runtime_new` and, as documented, freed once.
            drop(unsafe { Box::from_raw(runtime) });
            Ok(())
        });
    }
}

/// The processor block `block_json` of processor `id` (such as `spanwise/redact`), parsed and
/// checked without loading anything. An empty `id` makes the keys of errors relative to the
/// block.
/// An empty `id` makes the keys of errors relative to the block (`limits.memory`).
pub(crate) fn parse_block(
    id: &str,
    block_json: &str,
) -> Result<(String, WasmProcessorConfig), Failure> {
    let key = if id.is_empty() {
        String::new()
    } else {
        format!("processors.{id}")
    };
    let value: serde_json::Value = serde_json::from_str(block_json)
        .map_err(|e| Failure::invalid(keyed(&key, &format!("not JSON: {e}"))))?;
    let config = WasmProcessorConfig::from_value(value, &key)
        .map_err(|(key, reason)| Failure::invalid(keyed(&key, &reason)))?;
    Ok((key, config))
}

/// `key: reason`, or the reason alone when the key is empty (the whole block).
pub(crate) fn keyed(key: &str, reason: &str) -> String {
    if key.is_empty() {
        reason.to_owned()
    } else {
        format!("{key}: {reason}")
    }
}

/// Check the block of processor `id` as `spanwise_processor_new` would, without loading the
/// plugin: the keys, their types and values. `block_json` is the block as JSON: `plugin`,
/// `sha256`, `on_error`, `limits`, `keys`, `config`, `pool_size`, `traps`, as under
/// `processors.wasm/NAME` in a spanwise config. The error names the key, under
/// `processors.ID` (or relative to the block when `id` is empty).
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
        parse_block(text(id, "id")?, text(block_json, "block_json")?).map(|_| ())
    })
}

/// Load and configure processor `id` from its block (see `spanwise_processor_check`): read
/// the plugin (checking `sha256` when given), compile it or take it from the cache, and
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
        if runtime.is_null() {
            return Err(Failure::invalid("runtime is a null pointer"));
        }
        // SAFETY: a live runtime from `spanwise_runtime_new`.
        let runtime = unsafe { &(*runtime).runtime };
        let id = text(id, "id")?;
        let (key, config) = parse_block(id, text(block_json, "block_json")?)?;
        let plugin = load_plugin(runtime, &key, &config)
            .map_err(|(key, reason)| Failure::load(keyed(&key, &reason)))?;
        let stage = wasm_stage(id, &key, &config, &plugin)
            .map_err(|(key, reason)| Failure::load(keyed(&key, &reason)))?;
        put(
            processor,
            Box::into_raw(Box::new(SpanwiseProcessor {
                stage,
                _plugin: plugin,
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
    if !processor.is_null() {
        guarded(std::ptr::null_mut(), || {
            // SAFETY: made by `spanwise_processor_new` and, as documented, freed once.
            drop(unsafe { Box::from_raw(processor) });
            Ok(())
        });
    }
}

/// Run one request through the processor: `request` is `len` bytes of a protobuf
/// `ExportTraceServiceRequest` (or `TracesData`, the same message on the wire). On success
/// `*output` holds the edited request and what was dropped (free it with
/// `spanwise_output_free`). Bytes that do not decode are `SPANWISE_STATUS_INVALID_ARGUMENT`,
/// and nothing is run. A failing plugin is not an error of this call: see
/// `SpanwiseOutput::failed`.
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
    output: *mut SpanwiseOutput,
    error: *mut *mut c_char,
) -> SpanwiseStatus {
    guarded(error, || {
        if processor.is_null() {
            return Err(Failure::invalid("processor is a null pointer"));
        }
        if output.is_null() {
            return Err(Failure::invalid("output is a null pointer"));
        }
        // SAFETY: a live processor from `spanwise_processor_new`.
        let stage = unsafe { &(*processor).stage };
        let request =
            ExportTraceServiceRequest::decode(bytes(request, len, "request")?).map_err(|e| {
                Failure::invalid(format!(
                    "the request is not an OTLP ExportTraceServiceRequest: {e}"
                ))
            })?;
        let batch = Batch::from_request(request);
        let spans_in = batch.len() as u64;
        let errors_before = stage.stats.get("errors");
        let outcome = stage.run(batch);
        let failed = stage.stats.get("errors") > errors_before;
        let spans_out = outcome.batch.len() as u64;
        let edited = outcome
            .batch
            .into_request()
            .encode_to_vec()
            .into_boxed_slice();
        let len = edited.len();
        let dropped_reason = outcome
            .dropped
            .as_ref()
            .map(|d| format!("{} spans dropped by {}: {}", d.spans, d.processor, d.reason));
        let failure = (failed && dropped_reason.is_none()).then(|| {
            format!(
                "processor {} failed; the request went on unedited (on_error: pass)",
                stage.id()
            )
        });
        put(
            output,
            SpanwiseOutput {
                data: Box::into_raw(edited).cast::<u8>(),
                len,
                spans_in,
                spans_out,
                spans_dropped: spans_in.saturating_sub(spans_out),
                dropped_reason: dropped_reason.map_or(std::ptr::null_mut(), |r| owned_c_string(&r)),
                failed,
                failure: failure.map_or(std::ptr::null_mut(), |f| owned_c_string(&f)),
            },
            "output",
        )
    })
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
/// was made. A counter that never moved may be absent.
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
        if processor.is_null() {
            return Err(Failure::invalid("processor is a null pointer"));
        }
        // SAFETY: a live processor from `spanwise_processor_new`.
        let stage = unsafe { &(*processor).stage };
        let counters = serde_json::json!({
            "host": stage.stats.snapshot(),
            "plugin": stage.plugin_counters.snapshot(),
        });
        put(json, owned_c_string(&counters.to_string()), "json")
    })
}

/// Free a string that spanwise returned (an error message, counters; null is allowed).
///
/// # Safety
/// `text` is null or a string from spanwise, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spanwise_string_free(text: *mut c_char) {
    if !text.is_null() {
        // SAFETY: made by spanwise with `CString::into_raw` and, as documented, freed once.
        drop(unsafe { CString::from_raw(text) });
    }
}
