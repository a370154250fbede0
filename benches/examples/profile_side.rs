//! `cargo run --release -p spanwise-benches --example profile_side -- GROUP SIDE SECONDS`: run
//! one side of a measured pair (`url_w2 wasm`, `pipeline_w1 platform`, ...) in a loop for
//! SECONDS after the set-up, for a profiler to attach to, e.g.
//! `SPANWISE_PERFMAP=1 perf record -g -D 15000 target/release/examples/profile_side url_w2 wasm 10`
//! (the set-up compiles every component first: `-D` skips it; `SPANWISE_BENCH_CACHE=DIR` keeps
//! the compiled code in DIR, where `perf report` finds its function names).

#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use spanwise_benches::pairs::Setup;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [group, side, seconds] = args.as_slice() else {
        eprintln!("usage: profile_side GROUP SIDE SECONDS");
        std::process::exit(2);
    };
    let seconds: f64 = seconds.parse().expect("SECONDS is a number");
    let setup = Setup::new();
    let mut pairs = setup.plugin_pairs();
    pairs.extend(setup.pipeline_pairs());
    let Some(pair) = pairs.iter_mut().find(|p| &p.group == group) else {
        eprintln!("no group {group:?}");
        std::process::exit(2);
    };
    let run = if side == pair.names.0 {
        &mut pair.first
    } else if side == pair.names.1 {
        &mut pair.second
    } else {
        eprintln!("{group} has sides {} and {}", pair.names.0, pair.names.1);
        std::process::exit(2);
    };
    eprintln!("set up; running {group}/{side} for {seconds} s");
    let started = Instant::now();
    let (mut spent, mut iterations) = (Duration::ZERO, 0u64);
    while started.elapsed().as_secs_f64() < seconds {
        spent += run(1);
        iterations += 1;
    }
    println!(
        "{group}/{side}: {iterations} iterations, {:.1} µs each",
        spent.as_secs_f64() * 1e6 / iterations as f64
    );
}
