//! The fixed costs of running a plugin, apart from what it does with a batch:
//! `fixed_costs/instantiate` (a new instance of the URL plugin, configured),
//! `fixed_costs/load_cached` (loading the URL component when its compiled code is in the cache:
//! what a restart pays per plugin), `fixed_costs/compile_uncached` (compiling it with no cache).
//! The empty call is in `plugin_overhead` (`empty_call`).

// The allocator of the `spanwise` binary, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use criterion::{Criterion, criterion_group, criterion_main};
use spanwise::runtime::{Limits, PluginContext, Runtime, RuntimeSettings};
use spanwise_benches::URL_CONFIG;
use std::sync::Arc;
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let url = spanwise_test_components::path("url");
    let cache = tempfile::tempdir().expect("a temporary folder");
    let cached = Runtime::new(RuntimeSettings {
        cache_dir: Some(cache.path().to_owned()),
        ..Default::default()
    })
    .expect("the engine starts");
    let plugin = cached.load(&url, None).expect("it loads");
    let mut group = c.benchmark_group("fixed_costs");
    group.bench_function("instantiate", |b| {
        b.iter(|| {
            plugin
                .instantiate(
                    Arc::new(PluginContext::new("wasm/url")),
                    Limits::default(),
                    URL_CONFIG,
                )
                .expect("it instantiates")
        })
    });
    group.bench_function("load_cached", |b| {
        b.iter(|| cached.load(&url, None).expect("it loads"))
    });
    let uncached = Runtime::new(RuntimeSettings {
        cache_dir: None,
        ..Default::default()
    })
    .expect("the engine starts");
    group.sample_size(10);
    group.bench_function("compile_uncached", |b| {
        b.iter(|| uncached.load(&url, None).expect("it compiles"))
    });
    group.finish();
}

criterion_group! {
    name = fixed;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = benches
}
criterion_main!(fixed);
