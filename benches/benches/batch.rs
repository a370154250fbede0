//! The host's batch without any plugin: how long the batch processor takes to cut 40,000 spans
//! into batches of 1,000 (`split_40000_spans/into_chunks_1000`), next to one deep copy of the
//! same batch (`split_40000_spans/clone`), which is what each cut cost when splits cloned.

// The allocator of the `spanwise` binary, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use spanwise_benches::http_batch;
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let batch = http_batch(40_000);
    let mut group = c.benchmark_group("split_40000_spans");
    group.bench_function("into_chunks_1000", |b| {
        b.iter_batched(
            || batch.clone(),
            |batch| batch.into_chunks(1_000),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("clone", |b| b.iter(|| batch.clone()));
    group.finish();
}

criterion_group! {
    name = batch;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    targets = benches
}
criterion_main!(batch);
