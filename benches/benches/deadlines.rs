//! What call deadlines cost: each plugin over 1,000 spans of W1 and W2, compiled with
//! wasmtime's epoch interruption (`deadline`: what ships, a check of the engine's epoch at every
//! function entry and loop header) and without it (`none`: no deadline, measured here only).
//! Group `deadlines_PLUGIN_WORKLOAD`; the tail sampler's side is its decision over the batch's
//! traces.

// The allocator of the `spanwise` binary, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use criterion::{Criterion, criterion_group, criterion_main};
use spanwise_benches::Workload;
use spanwise_benches::engines::{compare, runtime};
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let deadline = runtime(|_| {});
    let none = runtime(|settings| settings.epoch_deadlines = false);
    compare(
        c,
        "deadlines",
        [("deadline", &deadline), ("none", &none)],
        &[Workload::W1, Workload::W2],
        true,
    );
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
