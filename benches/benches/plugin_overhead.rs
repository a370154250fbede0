//! What WebAssembly costs: every plugin run natively (through the SDK's native batch) and as a
//! component (through the host), side by side on the same batches of 1,000 spans of the shared
//! workloads W1 (the OpenTelemetry benchmark shape) and W2 (API traffic), with the platform's
//! configs. Groups are `PLUGIN_WORKLOAD` (`url_w1`, `redact_w2`, ...), each with a `native` and
//! a `wasm` function and a throughput in spans; the pairs are `spanwise_benches::pairs`'s.
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
//! These figures are the report; the overhead gate (`overhead-gate`, run by `make bench` after
//! this) times the same pairs in alternating rounds and judges those.

// The allocator of the `spanwise` binary, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use criterion::{Criterion, criterion_group, criterion_main};
use spanwise_benches::pairs::{Setup, bench};
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let setup = Setup::new();
    for pair in setup.plugin_pairs() {
        bench(c, pair);
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
