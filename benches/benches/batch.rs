//! The host's batch without any plugin: how long the batch processor takes to cut 40,000 spans
//! into batches of 1,000 (`split_40000_spans/into_chunks_1000`), next to one deep copy of the
//! same batch (`split_40000_spans/clone`), which is what each cut cost when splits cloned; and
//! what the tail sampler's buffer costs: holding 1,000 spans of 200 traces that arrive in wire
//! form (`tail_buffer_1000_spans/add`: what a receiver gives a pipeline whose first reader is the
//! tail sampler) or decoded (`add_decoded`: after a plugin, encoded again to be held), and
//! giving them back as one batch of due traces (`add_and_drain`, from wire form).

// The allocator of the `spanwise` binary, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use spanwise::pipeline::tail::buffer::{BufferLimits, TraceBuffer};
use spanwise_batch::Batch;
use spanwise_benches::{http_batch, traced_batch};
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

    let decoded = traced_batch(1_000);
    let traced = Batch::from_encoded(decoded.to_bytes()).expect("a valid request");
    let limits = BufferLimits {
        decision_wait: Duration::from_secs(30),
        num_traces: 50_000,
        max_bytes: 256 << 20,
        sampled_cache_size: 50_000,
        non_sampled_cache_size: 50_000,
    };
    let mut group = c.benchmark_group("tail_buffer_1000_spans");
    group.bench_function("add", |b| {
        b.iter_batched(
            || (traced.clone(), TraceBuffer::new(limits.clone())),
            |(batch, mut buffer)| {
                buffer.add(batch, Duration::ZERO);
                buffer
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("add_decoded", |b| {
        b.iter_batched(
            || (decoded.clone(), TraceBuffer::new(limits.clone())),
            |(batch, mut buffer)| {
                buffer.add(batch, Duration::ZERO);
                buffer
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("add_and_drain", |b| {
        b.iter_batched(
            || (traced.clone(), TraceBuffer::new(limits.clone())),
            |(batch, mut buffer)| {
                buffer.add(batch, Duration::ZERO);
                buffer.drain()
            },
            BatchSize::LargeInput,
        )
    });
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
