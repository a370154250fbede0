//! What running plugins without signal handlers costs: each plugin over 1,000 spans of W2, as
//! compiled for a process whose signals wasmtime may own (`signals`: guard pages catch
//! out-of-bounds accesses, hardware traps catch the rest) and as compiled for the C ABI inside
//! the OpenTelemetry Collector, whose Go runtime owns the signals (`explicit`: every access and
//! divisor checked by the generated code, no handler installed). Group `signals_PLUGIN`.

// The allocator of the `spanwise` binary, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use spanwise::runtime::{Runtime, RuntimeSettings};
use spanwise_benches::pairs::instance;
use spanwise_benches::{
    HEAD_SAMPLER_CONFIG, PLATFORM_FILTER_CONFIG, PLATFORM_REDACT_CONFIG, URL_CONFIG, Workload,
    workload_batch,
};
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let runtime = |signals_based_traps| {
        Runtime::new(RuntimeSettings {
            cache_dir: None,
            signals_based_traps,
            ..Default::default()
        })
        .expect("the engine starts")
    };
    let (signals, explicit) = (runtime(true), runtime(false));
    let batch = workload_batch(Workload::W2, 1000);
    for (name, config) in [
        ("url", URL_CONFIG),
        ("redact", PLATFORM_REDACT_CONFIG),
        ("filter", PLATFORM_FILTER_CONFIG),
        ("head_sampler", HEAD_SAMPLER_CONFIG),
    ] {
        let mut group = c.benchmark_group(format!("signals_{name}"));
        group.throughput(Throughput::Elements(batch.len() as u64));
        for (side, runtime) in [("signals", &signals), ("explicit", &explicit)] {
            let mut plugin = instance(runtime, name, config);
            group.bench_function(side, |b| {
                b.iter_batched_ref(
                    || batch.clone(),
                    |batch| plugin.process(batch).expect("the plugin runs"),
                    BatchSize::LargeInput,
                )
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = signals;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = benches
}
criterion_main!(signals);
