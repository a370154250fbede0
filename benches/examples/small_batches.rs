//! `cargo run --release -p spanwise-benches --example small_batches -- [url|redact] [SPANS]
//! [CALLS]`: the median time of one call on a batch of SPANS spans (default 2, the size of the
//! demo's batches) of the URL or masking plugin, as WebAssembly and natively, over CALLS calls
//! each (default 5,000) of warm instances. The spans are [`http_batch`]'s: every one has URLs
//! to rewrite and identifiers to mask, unlike the gate's W1. What a call costs at the batch
//! sizes a quiet service's exporter sends, where the fixed costs of the call and of each call
//! to the host weigh most.

#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use spanwise_batch::Batch;
use spanwise_benches::pairs::Setup;
use spanwise_benches::{PLATFORM_REDACT_CONFIG, URL_CONFIG, http_batch};
use spanwise_redact::Redact;
use spanwise_sdk::{Processor, native};
use spanwise_url::UrlProcessor;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let plugin = args.first().map_or("url", String::as_str);
    let spans = args
        .get(1)
        .map_or(2, |s| s.parse().expect("SPANS is a number"));
    let calls = args
        .get(2)
        .map_or(5_000, |s| s.parse().expect("CALLS is a number"));
    let batch = http_batch(spans);
    let setup = Setup::new();
    let (wasm, native) = match plugin {
        "url" => (
            wasm_median(&setup, "url", URL_CONFIG, &batch, calls),
            native_median::<UrlProcessor>(URL_CONFIG, &batch, calls),
        ),
        "redact" => (
            wasm_median(&setup, "redact", PLATFORM_REDACT_CONFIG, &batch, calls),
            native_median::<Redact>(PLATFORM_REDACT_CONFIG, &batch, calls),
        ),
        other => panic!("no plugin {other:?} here: url or redact"),
    };
    println!(
        "{plugin} on {spans} span(s), median of {calls} calls: WebAssembly {:.1} µs, native {:.1} µs",
        wasm * 1e6,
        native * 1e6
    );
}

fn wasm_median(setup: &Setup, name: &str, config: &str, batch: &Batch, calls: usize) -> f64 {
    let mut instance = setup.instance(name, config);
    median(calls, batch, |batch| {
        instance.process(batch).expect("the call succeeds")
    })
}

fn native_median<P: Processor>(config: &str, batch: &Batch, calls: usize) -> f64 {
    let mut processor = P::configure(config).expect("valid config");
    median(calls, batch, |batch| {
        native::process(&mut processor, batch).expect("the call succeeds")
    })
}

/// The median time of `call` on a fresh copy of `batch`, `calls` times (the copy untimed).
fn median<R>(calls: usize, batch: &Batch, mut call: impl FnMut(&mut Batch) -> R) -> f64 {
    let mut times: Vec<Duration> = (0..calls.max(1))
        .map(|_| {
            let mut batch = batch.clone();
            let started = Instant::now();
            call(&mut batch);
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2].as_secs_f64()
}
