//! `cargo run --release -p spanwise-benches --example empty_calls`: the mean time of 2,000,000
//! calls into a plugin that does nothing, over a one-span batch lent and taken back each time
//! (no clone in the loop), five rounds; a steadier figure of the fixed cost of a call than a
//! criterion group on a noisy machine.

#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use spanwise_benches::http_batch;
use spanwise_benches::pairs::Setup;
use std::time::Instant;

fn main() {
    let mut instance = Setup::new().instance("noop", "{}");
    let mut batch = http_batch(1);
    const CALLS: u32 = 2_000_000;
    for round in 1..=5 {
        let started = Instant::now();
        for _ in 0..CALLS {
            instance.process(&mut batch).expect("the call succeeds");
        }
        println!(
            "round {round}: {:.0} ns per empty call",
            started.elapsed().as_nanos() as f64 / f64::from(CALLS)
        );
    }
}
