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

mod block;
mod guard;
mod options;
mod processor;
mod sampler;

pub use guard::SpanwiseStatus;
use guard::{Failure, guarded, put, text};
pub use processor::{
    SPANWISE_PROCESS_KEPT, SpanwiseOutput, SpanwiseProcessor, spanwise_output_free,
    spanwise_processor_check, spanwise_processor_counters, spanwise_processor_free,
    spanwise_processor_new, spanwise_processor_process,
};
pub use sampler::{
    SpanwiseSampler, spanwise_sampler_decide, spanwise_sampler_free, spanwise_sampler_new,
};
use spanwise::runtime::Runtime;
use std::ffi::{CString, c_char};

/// A wasmtime engine, its compile cache and its epoch ticker: make one per process.
pub struct SpanwiseRuntime {
    runtime: Runtime,
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
    // SAFETY: made by `spanwise_runtime_new` and, as documented, freed once.
    unsafe { guard::free_box(runtime) }
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
