//! `cargo run --release -p spanwise-benches --example cached_loads [N]`: load the URL component
//! N times (default 300) with its compiled code in the cache and print the mean and the median:
//! what each plugin costs a restart, in a loop a profiler can attach to.

#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use spanwise_benches::pairs::Setup;
use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(300, |n| n.parse().expect("N is a number"));
    let setup = Setup::new();
    let url = spanwise_test_components::path("url");
    setup.runtime().load(&url, None).expect("it compiles");
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let started = Instant::now();
            let plugin = setup.runtime().load(&url, None).expect("it loads");
            let spent = started.elapsed();
            drop(plugin);
            spent
        })
        .collect();
    let mean = times.iter().sum::<Duration>() / n as u32;
    times.sort();
    println!(
        "{n} cached loads of the URL component: mean {:.2} ms, median {:.2} ms",
        mean.as_secs_f64() * 1e3,
        times[n / 2].as_secs_f64() * 1e3
    );
}
