//! Tail samplers through the C ABI: hand a sampler complete traces, get one decision per trace.
//! The buffering that makes traces complete is the caller's (spanwise's own `tail_sampling`
//! processor does it in the host); the collector's tests use this to compare the sampler with
//! the collector's `tail_sampling` processor on the same traces.

use crate::block::{self, keyed};
use crate::guard::{self, Failure, bytes, guarded, owned_c_string, put, text};
use crate::{SpanwiseRuntime, SpanwiseStatus};
use spanwise::batch::Batch;
use spanwise::batch::TraceRows;
use spanwise::pipeline::sampler_instance;
use spanwise::runtime::PluginInstance;
use spanwise::telemetry::Counters;
use std::collections::HashMap;
use std::ffi::c_char;
use std::sync::{Arc, Mutex};

/// A tail sampler: one configured instance, deciding one request at a time.
pub struct SpanwiseSampler {
    instance: Mutex<PluginInstance>,
}

/// Load and configure tail sampler `id` from its block (the block of `sampler:` under a
/// spanwise `tail_sampling` processor, as JSON: `plugin`, `sha256`, `limits`, `keys`,
/// `config`). On success `*sampler` is the new sampler (free it with `spanwise_sampler_free`);
/// otherwise the error names the key and the reason.
///
/// # Safety
/// `runtime` is a live runtime; `id` and `block_json` are NUL-terminated strings; `sampler`
/// and `error` are null or point to writable pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spanwise_sampler_new(
    runtime: *const SpanwiseRuntime,
    id: *const c_char,
    block_json: *const c_char,
    sampler: *mut *mut SpanwiseSampler,
    error: *mut *mut c_char,
) -> SpanwiseStatus {
    guarded(error, || {
        // SAFETY: a live runtime from `spanwise_runtime_new`, or null.
        let runtime = &unsafe { guard::live(runtime, "runtime") }?.runtime;
        let id = text(id, "id")?;
        let mut links = block::parse(id, text(block_json, "block_json")?)?;
        if links.len() != 1 {
            return Err(Failure::invalid(keyed(
                &links[0].key,
                "a tail sampler is one plugin, not a chain",
            )));
        }
        let block::Link { key, config, .. } = links.remove(0);
        let config_json = config
            .config_json()
            .map_err(|reason| Failure::invalid(keyed(&format!("{key}.config"), &reason)))?;
        let instance = sampler_instance(
            runtime,
            id,
            &key,
            &config,
            &config_json,
            Arc::new(Counters::default()),
        )
        .map_err(|(key, reason)| Failure::load(keyed(&key, &reason)))?;
        put(
            sampler,
            Box::into_raw(Box::new(SpanwiseSampler {
                instance: Mutex::new(instance),
            })),
            "sampler",
        )
    })
}

/// Decide on every trace of `request` (`len` bytes of a protobuf `ExportTraceServiceRequest`),
/// taking each trace as complete: its spans are those of the request with its trace id. On
/// success `*decisions_json` is a JSON array, one entry per trace in the order each trace
/// first appears: `{"trace_id": "<32 hex digits>", "keep": bool, "probability": number,
/// "policy": "<name>"}` (free it with `spanwise_string_free`). A sampler that fails (trap,
/// deadline, error) fails the call, with the reason.
///
/// # Safety
/// `sampler` is a live sampler; `request` points to `len` readable bytes (or is null with
/// `len` 0); `decisions_json` and `error` are null or point to writable pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spanwise_sampler_decide(
    sampler: *const SpanwiseSampler,
    request: *const u8,
    len: usize,
    decisions_json: *mut *mut c_char,
    error: *mut *mut c_char,
) -> SpanwiseStatus {
    guarded(error, || {
        // SAFETY: a live sampler from `spanwise_sampler_new`, or null.
        let sampler = unsafe { guard::live(sampler, "sampler") }?;
        let request =
            spanwise::batch::decode_request(bytes(request, len, "request")?).map_err(|e| {
                Failure::invalid(format!(
                    "the request is not an OTLP ExportTraceServiceRequest: {e}"
                ))
            })?;
        let mut batch = Batch::from_request(request);
        let mut order: Vec<[u8; 16]> = Vec::new();
        let mut rows: HashMap<[u8; 16], Vec<u32>> = HashMap::new();
        for (row, id) in batch.trace_ids().chunks_exact(16).enumerate() {
            let id: [u8; 16] = id.try_into().expect("16 bytes");
            rows.entry(id)
                .or_insert_with(|| {
                    order.push(id);
                    Vec::new()
                })
                .push(row as u32);
        }
        let lists: Vec<&[u32]> = order.iter().map(|id| rows[id].as_slice()).collect();
        let traces = TraceRows::from_lists(&lists);
        let decisions = sampler
            .instance
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .decide(&mut batch, &traces)
            .map_err(|e| Failure {
                status: SpanwiseStatus::PluginFailed,
                message: e.to_string(),
            })?;
        let json: Vec<_> = order
            .iter()
            .zip(decisions.iter())
            .map(|(id, d)| {
                serde_json::json!({
                    "trace_id": hex(id),
                    "keep": d.keep,
                    "probability": d.probability,
                    "policy": d.policy,
                })
            })
            .collect();
        put(
            decisions_json,
            owned_c_string(&serde_json::Value::Array(json).to_string()),
            "decisions_json",
        )
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Free a sampler (null is allowed).
///
/// # Safety
/// `sampler` is null or from `spanwise_sampler_new`, not yet freed, with no call on it running.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spanwise_sampler_free(sampler: *mut SpanwiseSampler) {
    // SAFETY: made by `spanwise_sampler_new` and, as documented, freed once.
    unsafe { guard::free_box(sampler) }
}
