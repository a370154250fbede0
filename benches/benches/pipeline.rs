//! The platform pipeline from OTLP request bytes in to OTLP request bytes out, beside the
//! pass-through pipeline (decode and encode only) as its floor, on 1,000 spans of W1 and of W2:
//! `pipeline_w1/pass_through`, `pipeline_w1/platform`. The platform pipeline is the filter, the
//! masking, the head sampler (30%) and the URL plugin as components, with the platform's configs
//! (`benches/load/platform.yaml`). The overhead gate times the same pairs in alternating rounds
//! and judges the platform's throughput as a fraction of the pass-through's.

// The allocator of the `spanwise` binary, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use criterion::{Criterion, criterion_group, criterion_main};
use spanwise_benches::pairs::{Setup, bench};
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let setup = Setup::new();
    for pair in setup.pipeline_pairs() {
        bench(c, pair);
    }
}

criterion_group! {
    name = pipeline;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = benches
}
criterion_main!(pipeline);
