//! What running plugins without signal handlers costs: each plugin over 1,000 spans of W2, as
//! compiled for a process whose signals wasmtime may own (`signals`: guard pages catch
//! out-of-bounds accesses, hardware traps catch the rest) and as compiled for the C ABI inside
//! the OpenTelemetry Collector, whose Go runtime owns the signals (`explicit`: every access and
//! divisor checked by the generated code, no handler installed). Group `signals_PLUGIN_w2`.

// The allocator of the `spanwise` binary, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use criterion::{Criterion, criterion_group, criterion_main};
use spanwise_benches::Workload;
use spanwise_benches::engines::{compare, runtime};
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let signals = runtime(|_| {});
    let explicit = runtime(|settings| settings.signals_based_traps = false);
    compare(
        c,
        "signals",
        [("signals", &signals), ("explicit", &explicit)],
        &[Workload::W2],
        false,
    );
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
