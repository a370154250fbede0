//! `cargo run --release -p spanwise-benches --example warm_up`: what the first call of an
//! instance costs next to later ones, for the URL plugin over two spans (the size of the demo's
//! batches): the first instance of the process, a second instance, and the median of 1,000
//! later calls. The figures behind the README's note on `spanwise demo`'s call times.

#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use spanwise::runtime::{Limits, PluginContext};
use spanwise_benches::pairs::Setup;
use spanwise_benches::{URL_CONFIG, http_batch};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let setup = Setup::new();
    let plugin = setup
        .runtime()
        .load(&spanwise_test_components::path("url"), None)
        .expect("the URL plugin loads");
    let batch = http_batch(2);
    for which in ["first instance", "second instance"] {
        let mut instance = plugin
            .instantiate(
                Arc::new(PluginContext::new("wasm/url")),
                Limits::default(),
                URL_CONFIG,
            )
            .expect("it accepts its config");
        let mut times: Vec<Duration> = (0..1001)
            .map(|_| {
                let mut batch = batch.clone();
                let started = Instant::now();
                instance.process(&mut batch).expect("the call succeeds");
                started.elapsed()
            })
            .collect();
        let first = times.remove(0);
        times.sort();
        println!(
            "{which}: first call {:.1} µs, later calls {:.1} µs (median of 1,000)",
            first.as_secs_f64() * 1e6,
            times[times.len() / 2].as_secs_f64() * 1e6
        );
    }
}
