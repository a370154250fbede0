//! What WebAssembly costs: every plugin run natively (through the SDK's native batch) and as a
//! component (through the host), side by side on the same batches of 1,000 spans of the shared
//! workloads W1 (the OpenTelemetry benchmark shape) and W2 (API traffic), with the platform's
//! configs. Groups are `PLUGIN_WORKLOAD` (`url_w1`, `redact_w2`, ...), each with a `native` and
//! a `wasm` function and a throughput in spans.
//!
//! - `empty_call`: one call into a processor that does nothing, over a one-span batch.
//! - `url_*`: the URL plugin, every feature on.
//! - `redact_*`: the platform's masking (user ids keyed-hashed, patient ids deleted, e-mail
//!   addresses and patient ids masked in every string value).
//! - `filter_*`: the platform's filter (health checks, spans under 1 ms).
//! - `head_sampler_*`: the head sampler at 30% (proportional mode).
//! - `tail_sampler_*`: one decision of the tail sampler with the platform's categories (a `drop`
//!   of health checks, then errors 50%, slow 30%, the rest 10%) on the batch's traces.
//!
//! `make bench` runs this and then `overhead-gate` with `benches/gate.txt`. Setting
//! `SPANWISE_BENCH_SLOW=GROUP` makes that group's WebAssembly side run eight times per iteration
//! (over the same batch): the gate's self-test (`benches/gate-selftest.sh`) checks that the gate fails on it.

// The allocator of the `spanwise` binary, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use spanwise::runtime::{Limits, PluginContext, PluginInstance, Runtime, RuntimeSettings};
use spanwise_batch::Batch;
use spanwise_benches::{
    HEAD_SAMPLER_CONFIG, PLATFORM_FILTER_CONFIG, PLATFORM_KEY, PLATFORM_REDACT_CONFIG,
    TAIL_SAMPLER_CONFIG, URL_CONFIG, Workload, http_batch, trace_rows, workload_batch,
};
use spanwise_filter::Filter;
use spanwise_head_sampler::HeadSampler;
use spanwise_redact::Redact;
use spanwise_sdk::{ConfigError, ProcessError, Processor, Sampler, SpanBatch, native};
use spanwise_tail_sampler::TailSampler;
use spanwise_url::UrlProcessor;
use std::sync::Arc;
use std::time::Duration;

struct Noop;

impl Processor for Noop {
    fn configure(_: &str) -> Result<Self, ConfigError> {
        Ok(Noop)
    }
    fn process<B: SpanBatch + ?Sized>(&mut self, _: &mut B) -> Result<(), ProcessError> {
        Ok(())
    }
}

fn wasm_instance(runtime: &Runtime, name: &str, config: &str) -> PluginInstance {
    let path = spanwise_test_components::path(name);
    let plugin = runtime.load(&path, None).unwrap_or_else(|e| panic!("{e}"));
    let mut context = PluginContext::new(name);
    context
        .keys
        .insert(PLATFORM_KEY.0.to_owned(), PLATFORM_KEY.1.to_vec());
    plugin
        .instantiate(Arc::new(context), Limits::default(), config)
        .expect("the plugin accepts its config")
}

/// How many times the WebAssembly side of `group` runs per iteration: 8 for the group named by
/// `SPANWISE_BENCH_SLOW` (the gate's self-test), else 1.
fn passes(group: &str) -> usize {
    match std::env::var("SPANWISE_BENCH_SLOW") {
        Ok(slow) if slow == group => 8,
        _ => 1,
    }
}

/// Bench `native` and `wasm` over clones of `batch` as group `name`.
fn pair(
    c: &mut Criterion,
    name: &str,
    batch: &Batch,
    mut native: impl FnMut(&mut Batch),
    mut wasm: impl FnMut(&mut Batch),
) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(batch.len() as u64));
    let size = if batch.len() > 1 {
        BatchSize::LargeInput
    } else {
        BatchSize::SmallInput
    };
    group.bench_function("native", |b| {
        b.iter_batched_ref(|| batch.clone(), &mut native, size)
    });
    let passes = passes(name);
    group.bench_function("wasm", |b| {
        b.iter_batched_ref(
            || batch.clone(),
            |batch| {
                for _ in 0..passes {
                    wasm(batch);
                }
            },
            size,
        )
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let cache = tempfile::tempdir().expect("a temporary folder");
    let runtime = Runtime::new(RuntimeSettings {
        cache_dir: Some(cache.path().to_owned()),
        ..Default::default()
    })
    .expect("the engine starts");
    native::with_context(|context| {
        context
            .keys
            .insert(PLATFORM_KEY.0.to_owned(), PLATFORM_KEY.1.to_vec());
    });

    let mut noop = Noop;
    let mut wasm_noop = wasm_instance(&runtime, "noop", "{}");
    pair(
        c,
        "empty_call",
        &http_batch(1),
        |batch| native::process(&mut noop, batch).unwrap(),
        |batch| wasm_noop.process(batch).unwrap(),
    );

    for workload in [Workload::W1, Workload::W2] {
        let batch = workload_batch(workload, 1000);

        let mut url = UrlProcessor::configure(URL_CONFIG).expect("valid config");
        let mut wasm_url = wasm_instance(&runtime, "url", URL_CONFIG);
        pair(
            c,
            &format!("url_{workload}"),
            &batch,
            |batch| native::process(&mut url, batch).unwrap(),
            |batch| wasm_url.process(batch).unwrap(),
        );

        let mut redact = Redact::configure(PLATFORM_REDACT_CONFIG).expect("valid config");
        let mut wasm_redact = wasm_instance(&runtime, "redact", PLATFORM_REDACT_CONFIG);
        pair(
            c,
            &format!("redact_{workload}"),
            &batch,
            |batch| native::process(&mut redact, batch).unwrap(),
            |batch| wasm_redact.process(batch).unwrap(),
        );

        let mut filter = Filter::configure(PLATFORM_FILTER_CONFIG).expect("valid config");
        let mut wasm_filter = wasm_instance(&runtime, "filter", PLATFORM_FILTER_CONFIG);
        pair(
            c,
            &format!("filter_{workload}"),
            &batch,
            |batch| native::process(&mut filter, batch).unwrap(),
            |batch| wasm_filter.process(batch).unwrap(),
        );

        let mut head = HeadSampler::configure(HEAD_SAMPLER_CONFIG).expect("valid config");
        let mut wasm_head = wasm_instance(&runtime, "head_sampler", HEAD_SAMPLER_CONFIG);
        pair(
            c,
            &format!("head_sampler_{workload}"),
            &batch,
            |batch| native::process(&mut head, batch).unwrap(),
            |batch| wasm_head.process(batch).unwrap(),
        );

        let traces = trace_rows(&batch);
        let mut tail = TailSampler::configure(TAIL_SAMPLER_CONFIG).expect("valid config");
        let mut wasm_tail = wasm_instance(&runtime, "tail_sampler", TAIL_SAMPLER_CONFIG);
        pair(
            c,
            &format!("tail_sampler_{workload}"),
            &batch,
            |batch| {
                native::decide(&mut tail, batch, &traces).unwrap();
            },
            |batch| {
                wasm_tail.decide(batch, &traces).unwrap();
            },
        );
    }
}

criterion_group! {
    name = overhead;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = benches
}
criterion_main!(overhead);
