/* The C ABI of the spanwise host: see host/ffi/README.md. */

#ifndef SPANWISE_H
#define SPANWISE_H

/* Generated from host/ffi/src by cbindgen (make ffi-header). Do not edit. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

// A flag of `spanwise_processor_process`: when the plugins did nothing but drop spans, do not
// encode the request again; say which spans remain (`SpanwiseOutput::kept`). A caller that
// still holds the request in its own form removes those spans itself, which is much cheaper
// than reading a new request (for a filter, or a sampler that dropped and wrote nothing).
#define SPANWISE_PROCESS_KEPT 1

// The result of a call.
typedef enum {
  // It worked.
  SPANWISE_STATUS_OK = 0,
  // An argument is wrong: a null pointer, text that is not UTF-8, options or a processor
  // block that do not parse, or request bytes that are not an `ExportTraceServiceRequest`.
  // Nothing was changed.
  SPANWISE_STATUS_INVALID_ARGUMENT = 1,
  // The processor could not be loaded or configured (the message names the key).
  SPANWISE_STATUS_LOAD_FAILED = 2,
  // A bug in spanwise (a Rust panic, caught at the boundary). The handle is still usable.
  SPANWISE_STATUS_INTERNAL = 3,
  // A tail sampler failed to decide (trap, deadline, error); the message says why.
  SPANWISE_STATUS_PLUGIN_FAILED = 4,
} SpanwiseStatus;

// One processor: one plugin, or a chain of plugins run in order on the same decoded batch,
// each served by its pool of configured instances.
typedef struct SpanwiseProcessor SpanwiseProcessor;

// A wasmtime engine, its compile cache and its epoch ticker: make one per process.
typedef struct SpanwiseRuntime SpanwiseRuntime;

// A tail sampler: one configured instance, deciding one request at a time.
typedef struct SpanwiseSampler SpanwiseSampler;

// What one request became. The caller owns it and frees it with `spanwise_output_free`.
typedef struct {
  // The edited `ExportTraceServiceRequest`, as protobuf bytes (no spans left: a request with
  // none, possibly zero bytes).
  uint8_t *data;
  // How many bytes `data` has.
  size_t len;
  // Spans in the request.
  uint64_t spans_in;
  // Spans in the edited request.
  uint64_t spans_out;
  // Spans dropped: by the plugins, or all those a failing plugin had when its `on_error` is
  // `drop`.
  uint64_t spans_dropped;
  // Why spans were dropped (one line per plugin that dropped some, naming it), or null when
  // none was.
  char *dropped_reason;
  // Whether a plugin failed on this request (trap, deadline, memory, error); its `on_error`
  // decided, and `dropped_reason` (drop) or `failure` (pass) says why.
  bool failed;
  // For each plugin that failed with `on_error: pass`: which, and why (the batch went on
  // unedited by it). Otherwise null.
  char *failure;
  // Asked for with `SPANWISE_PROCESS_KEPT`: the plugins did nothing but drop spans, so
  // `data` is null and `kept` says which spans of the request remain.
  bool kept_only;
  // With `kept_only`: one byte per span of the request, in its order (resource by resource,
  // scope by scope), 1 for a span that remains and 0 for one dropped. Otherwise null.
  uint8_t *kept;
  // How many bytes `kept` has (`spans_in` with `kept_only`, else 0).
  size_t kept_len;
} SpanwiseOutput;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// Create a runtime. `options_json` is null, empty, or a JSON object with any of
// `cache_dir` (a folder for compiled components; `""` for none; default
// `~/.cache/spanwise/components`), `cache_max_size` (bytes, default 512 MiB), `max_memory`
// (the largest linear memory of any plugin, bytes, default 1 GiB), `max_instances` (plugin
// instances of all processors together, default 64) and `signals_based_traps` (default
// `false`: generated code checks bounds itself and no signal handler is installed, which a
// Go program needs; `true` is faster and only for programs whose signals spanwise may own).
//
// On success `*runtime` is the new runtime (free it with `spanwise_runtime_free`).
//
// # Safety
// `options_json` is null or a NUL-terminated string; `runtime` and `error` are null or
// point to writable pointers.
SpanwiseStatus spanwise_runtime_new(const char *options_json,
                                    SpanwiseRuntime **runtime,
                                    char **error);

// Free a runtime (null is allowed).
//
// # Safety
// `runtime` is null or from `spanwise_runtime_new`, not yet freed, with no call on it running.
void spanwise_runtime_free(SpanwiseRuntime *runtime);

// Free a string that spanwise returned (an error message, counters; null is allowed).
//
// # Safety
// `text` is null or a string from spanwise, not yet freed.
void spanwise_string_free(char *text);

// Check the block of processor `id` as `spanwise_processor_new` would, without loading a
// plugin: the keys, their types and values. `block_json` is the block as JSON: `plugin`,
// `sha256`, `on_error`, `limits`, `keys`, `config`, `pool_size`, `traps`, as under
// `processors.wasm/NAME` in a spanwise config; or `{"chain": [block, ...]}`, plugins run one
// after the other on the same decoded request. The error names the key, under
// `processors.ID` (`processors.ID.chain.N.` in a chain), or relative to the block when `id` is
// empty.
//
// # Safety
// `id` and `block_json` are NUL-terminated strings; `error` is null or points to a writable
// pointer.
SpanwiseStatus spanwise_processor_check(const char *id, const char *block_json, char **error);

// Load and configure processor `id` from its block (see `spanwise_processor_check`): read
// each plugin (checking `sha256` when given), compile it or take it from the cache, and
// configure `pool_size` instances with `config`. On success `*processor` is the new
// processor (free it with `spanwise_processor_free`); otherwise the error names the key
// (`processors.ID.plugin`, `processors.ID.config.FIELD`, ...) and the reason.
//
// # Safety
// `runtime` is a live runtime; `id` and `block_json` are NUL-terminated strings; `processor`
// and `error` are null or point to writable pointers.
SpanwiseStatus spanwise_processor_new(const SpanwiseRuntime *runtime,
                                      const char *id,
                                      const char *block_json,
                                      SpanwiseProcessor **processor,
                                      char **error);

// Free a processor and its instances (null is allowed).
//
// # Safety
// `processor` is null or from `spanwise_processor_new`, not yet freed, with no call on it
// running.
void spanwise_processor_free(SpanwiseProcessor *processor);

// Run one request through the processor: `request` is `len` bytes of a protobuf
// `ExportTraceServiceRequest` (or `TracesData`, the same message on the wire), decoded once,
// run through each plugin in order and encoded once. `flags` is 0 or `SPANWISE_PROCESS_KEPT`.
// On success `*output` holds the edited request (or, with `SPANWISE_PROCESS_KEPT` and only
// drops, which spans remain) and what was dropped (free it with `spanwise_output_free`). Bytes that do not
// decode are `SPANWISE_STATUS_INVALID_ARGUMENT`, and nothing is run. A failing plugin is not
// an error of this call: see `SpanwiseOutput::failed`.
//
// # Safety
// `processor` is a live processor; `request` points to `len` readable bytes (or is null with
// `len` 0); `output` points to writable memory for a `SpanwiseOutput`; `error` is null or
// points to a writable pointer.
SpanwiseStatus spanwise_processor_process(const SpanwiseProcessor *processor,
                                          const uint8_t *request,
                                          size_t len,
                                          uint32_t flags,
                                          SpanwiseOutput *output,
                                          char **error);

// Free what `spanwise_processor_process` put in `*output`, and clear it (null is allowed).
//
// # Safety
// `output` is null or was filled by `spanwise_processor_process` (and possibly freed before).
void spanwise_output_free(SpanwiseOutput *output);

// The processor's counters, as a JSON object written to `*json` (free it with
// `spanwise_string_free`): `{"host": {...}, "plugin": {...}}`, the host's counters
// (`batches`, `spans_in`, `spans_out`, `spans_dropped`, `errors`, `traps`,
// `deadline_exceeded`, `spans_dropped_on_error`, `spans_passed_on_error`, `call_nanos`, ...)
// and the plugin's own (from its `count` import), each a name and a count since the processor
// was made; for a chain, `{"chain": [{"id": ..., "host": {...}, "plugin": {...}}, ...]}`. A
// counter that never moved may be absent.
//
// # Safety
// `processor` is a live processor; `json` and `error` are null or point to writable pointers.
SpanwiseStatus spanwise_processor_counters(const SpanwiseProcessor *processor,
                                           char **json,
                                           char **error);

// Load and configure tail sampler `id` from its block (the block of `sampler:` under a
// spanwise `tail_sampling` processor, as JSON: `plugin`, `sha256`, `limits`, `keys`,
// `config`). On success `*sampler` is the new sampler (free it with `spanwise_sampler_free`);
// otherwise the error names the key and the reason.
//
// # Safety
// `runtime` is a live runtime; `id` and `block_json` are NUL-terminated strings; `sampler`
// and `error` are null or point to writable pointers.
SpanwiseStatus spanwise_sampler_new(const SpanwiseRuntime *runtime,
                                    const char *id,
                                    const char *block_json,
                                    SpanwiseSampler **sampler,
                                    char **error);

// Decide on every trace of `request` (`len` bytes of a protobuf `ExportTraceServiceRequest`),
// taking each trace as complete: its spans are those of the request with its trace id. On
// success `*decisions_json` is a JSON array, one entry per trace in the order each trace
// first appears: `{"trace_id": "<32 hex digits>", "keep": bool, "probability": number,
// "policy": "<name>"}` (free it with `spanwise_string_free`). A sampler that fails (trap,
// deadline, error) fails the call, with the reason.
//
// # Safety
// `sampler` is a live sampler; `request` points to `len` readable bytes (or is null with
// `len` 0); `decisions_json` and `error` are null or point to writable pointers.
SpanwiseStatus spanwise_sampler_decide(const SpanwiseSampler *sampler,
                                       const uint8_t *request,
                                       size_t len,
                                       char **decisions_json,
                                       char **error);

// Free a sampler (null is allowed).
//
// # Safety
// `sampler` is null or from `spanwise_sampler_new`, not yet freed, with no call on it running.
void spanwise_sampler_free(SpanwiseSampler *sampler);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* SPANWISE_H */
