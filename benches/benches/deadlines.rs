//! What call deadlines cost: each plugin over 1,000 spans of W1 and W2, compiled with
//! wasmtime's epoch interruption (`deadline`: what ships, a check of the engine's epoch at every
//! function entry and loop header) and without it (`none`: no deadline, measured here only).
//! Group `deadlines_PLUGIN_WORKLOAD`; the tail sampler's side is its decision over the batch's
//! traces.

// The allocator of the `spanwise` binary, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use spanwise::runtime::{Runtime, RuntimeSettings};
use spanwise_benches::pairs::instance;
use spanwise_benches::{
    HEAD_SAMPLER_CONFIG, PLATFORM_FILTER_CONFIG, PLATFORM_REDACT_CONFIG, TAIL_SAMPLER_CONFIG,
    URL_CONFIG, Workload, trace_rows, workload_batch,
};
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let runtime = |epoch_deadlines| {
        Runtime::new(RuntimeSettings {
            cache_dir: None,
            epoch_deadlines,
            ..Default::default()
        })
        .expect("the engine starts")
    };
    let (deadline, none) = (runtime(true), runtime(false));
    for workload in [Workload::W1, Workload::W2] {
        let batch = workload_batch(workload, 1000);
        let traces = trace_rows(&batch);
        for (name, config) in [
            ("url", URL_CONFIG),
            ("redact", PLATFORM_REDACT_CONFIG),
            ("filter", PLATFORM_FILTER_CONFIG),
            ("head_sampler", HEAD_SAMPLER_CONFIG),
            ("tail_sampler", TAIL_SAMPLER_CONFIG),
        ] {
            let mut group = c.benchmark_group(format!("deadlines_{name}_{workload}"));
            group.throughput(Throughput::Elements(batch.len() as u64));
            for (side, runtime) in [("deadline", &deadline), ("none", &none)] {
                let mut plugin = instance(runtime, name, config);
                group.bench_function(side, |b| {
                    b.iter_batched_ref(
                        || batch.clone(),
                        |batch| {
                            if name == "tail_sampler" {
                                plugin.decide(batch, &traces).map(drop)
                            } else {
                                plugin.process(batch)
                            }
                            .expect("the plugin runs")
                        },
                        BatchSize::LargeInput,
                    )
                });
            }
            group.finish();
        }
    }
}

criterion_group! {
    name = deadlines;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = benches
}
criterion_main!(deadlines);
