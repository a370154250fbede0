//! What WebAssembly costs: the same processors run natively (through the SDK's native batch) and
//! as components (through the host), on the same batches.
//!
//! - `empty_call/*`: one call into a processor that does nothing, over a one-span batch.
//! - `url_1000_spans/*`: one pass of the URL plugin over 1,000 realistic spans.
//! - `redact_1000_spans/*`: one pass of the masking plugin over 1,000 spans of twenty
//!   attributes, ten of them hashed with the collector's `hash` action.
//! - `filter_1000_spans/*`: one pass of the filter plugin with two conditions like the
//!   platform's (an attribute equal to a string, a duration under 1 ms) over 1,000 spans of ten
//!   attributes, a fifth of which it drops.
//! - `head_sampler_1000_spans/*`: one pass of the head sampler at 30% (proportional mode) over
//!   200 traces of five spans: it keeps about 30% and writes their thresholds into tracestate.
//! - `tail_sampler_1000_traces/*`: one decision call of the tail sampler with the platform's
//!   categories (a `drop` of health checks, then errors 50%, slow 30%, the rest 10%) on 1,000
//!   traces of five spans (5% with an error, 5% slow).
//!
//! `make bench` runs this and then `overhead-gate`, which fails when WebAssembly costs more than
//! the allowed ratio of native.

// The allocator of the `spanwise` binary, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use spanwise::runtime::{Limits, PluginContext, PluginInstance, Runtime, RuntimeSettings};
use spanwise_benches::{
    FILTER_CONFIG, HEAD_SAMPLER_CONFIG, REDACT_CONFIG, TAIL_SAMPLER_CONFIG, URL_CONFIG,
    health_batch, http_batch, identifier_batch, tail_batch, traced_batch,
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
    let context = Arc::new(PluginContext::new(name));
    plugin
        .instantiate(context, Limits::default(), config)
        .expect("the plugin accepts its config")
}

fn benches(c: &mut Criterion) {
    let cache = tempfile::tempdir().expect("a temporary folder");
    let runtime = Runtime::new(RuntimeSettings {
        cache_dir: Some(cache.path().to_owned()),
        ..Default::default()
    })
    .expect("the engine starts");

    let one = http_batch(1);
    let mut group = c.benchmark_group("empty_call");
    let mut noop = Noop;
    group.bench_function("native", |b| {
        b.iter_batched_ref(
            || one.clone(),
            |batch| native::process(&mut noop, batch).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let mut wasm_noop = wasm_instance(&runtime, "noop", "{}");
    group.bench_function("wasm", |b| {
        b.iter_batched_ref(
            || one.clone(),
            |batch| wasm_noop.process(batch).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();

    let thousand = http_batch(1000);
    let mut group = c.benchmark_group("url_1000_spans");
    let mut url = UrlProcessor::configure(URL_CONFIG).expect("valid config");
    group.bench_function("native", |b| {
        b.iter_batched_ref(
            || thousand.clone(),
            |batch| native::process(&mut url, batch).unwrap(),
            BatchSize::LargeInput,
        )
    });
    let mut wasm_url = wasm_instance(&runtime, "url", URL_CONFIG);
    group.bench_function("wasm", |b| {
        b.iter_batched_ref(
            || thousand.clone(),
            |batch| wasm_url.process(batch).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.finish();

    let identifiers = identifier_batch(1000);
    let mut group = c.benchmark_group("redact_1000_spans");
    let mut redact = Redact::configure(REDACT_CONFIG).expect("valid config");
    group.bench_function("native", |b| {
        b.iter_batched_ref(
            || identifiers.clone(),
            |batch| native::process(&mut redact, batch).unwrap(),
            BatchSize::LargeInput,
        )
    });
    let mut wasm_redact = wasm_instance(&runtime, "redact", REDACT_CONFIG);
    group.bench_function("wasm", |b| {
        b.iter_batched_ref(
            || identifiers.clone(),
            |batch| wasm_redact.process(batch).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.finish();

    let health = health_batch(1000);
    let mut group = c.benchmark_group("filter_1000_spans");
    let mut filter = Filter::configure(FILTER_CONFIG).expect("valid config");
    group.bench_function("native", |b| {
        b.iter_batched_ref(
            || health.clone(),
            |batch| native::process(&mut filter, batch).unwrap(),
            BatchSize::LargeInput,
        )
    });
    let mut wasm_filter = wasm_instance(&runtime, "filter", FILTER_CONFIG);
    group.bench_function("wasm", |b| {
        b.iter_batched_ref(
            || health.clone(),
            |batch| wasm_filter.process(batch).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.finish();

    let traced = traced_batch(1000);
    let mut group = c.benchmark_group("head_sampler_1000_spans");
    let mut head = HeadSampler::configure(HEAD_SAMPLER_CONFIG).expect("valid config");
    group.bench_function("native", |b| {
        b.iter_batched_ref(
            || traced.clone(),
            |batch| native::process(&mut head, batch).unwrap(),
            BatchSize::LargeInput,
        )
    });
    let mut wasm_head = wasm_instance(&runtime, "head_sampler", HEAD_SAMPLER_CONFIG);
    group.bench_function("wasm", |b| {
        b.iter_batched_ref(
            || traced.clone(),
            |batch| wasm_head.process(batch).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.finish();

    let (batch, traces) = tail_batch(1000);
    let mut group = c.benchmark_group("tail_sampler_1000_traces");
    let mut tail = TailSampler::configure(TAIL_SAMPLER_CONFIG).expect("valid config");
    group.bench_function("native", |b| {
        b.iter_batched_ref(
            || batch.clone(),
            |batch| native::decide(&mut tail, batch, &traces).unwrap(),
            BatchSize::LargeInput,
        )
    });
    let mut wasm_tail = wasm_instance(&runtime, "tail_sampler", TAIL_SAMPLER_CONFIG);
    group.bench_function("wasm", |b| {
        b.iter_batched_ref(
            || batch.clone(),
            |batch| wasm_tail.decide(batch, &traces).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.finish();
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
