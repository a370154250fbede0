//! The platform pipeline from OTLP request bytes in to OTLP request bytes out, beside the
//! pass-through pipeline (decode and encode only) as its floor, on 1,000 spans of W1 and of W2:
//! `pipeline_w1/pass_through`, `pipeline_w1/platform`. The platform pipeline is the filter, the
//! masking, the head sampler (30%) and the URL plugin as components, with the platform's configs
//! (`benches/load/platform.yaml`). `overhead-gate` reads the platform's throughput as a fraction
//! of the pass-through's.

// The allocator of the `spanwise` binary, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use spanwise::runtime::{Limits, PluginContext, PluginInstance, Runtime, RuntimeSettings};
use spanwise_batch::Batch;
use spanwise_benches::{
    HEAD_SAMPLER_CONFIG, PLATFORM_FILTER_CONFIG, PLATFORM_KEY, PLATFORM_REDACT_CONFIG, URL_CONFIG,
    Workload, workload_request,
};
use std::sync::Arc;
use std::time::Duration;

fn instance(runtime: &Runtime, name: &str, config: &str) -> PluginInstance {
    let plugin = runtime
        .load(&spanwise_test_components::path(name), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut context = PluginContext::new(name);
    context
        .keys
        .insert(PLATFORM_KEY.0.to_owned(), PLATFORM_KEY.1.to_vec());
    plugin
        .instantiate(Arc::new(context), Limits::default(), config)
        .expect("the plugin accepts its config")
}

fn decode(bytes: &[u8]) -> Batch {
    Batch::from_request(ExportTraceServiceRequest::decode(bytes).expect("a valid request"))
}

fn benches(c: &mut Criterion) {
    let cache = tempfile::tempdir().expect("a temporary folder");
    let runtime = Runtime::new(RuntimeSettings {
        cache_dir: Some(cache.path().to_owned()),
        ..Default::default()
    })
    .expect("the engine starts");
    let mut stages = [
        instance(&runtime, "filter", PLATFORM_FILTER_CONFIG),
        instance(&runtime, "redact", PLATFORM_REDACT_CONFIG),
        instance(&runtime, "head_sampler", HEAD_SAMPLER_CONFIG),
        instance(&runtime, "url", URL_CONFIG),
    ];
    for workload in [Workload::W1, Workload::W2] {
        let bytes = workload_request(workload, 1000).encode_to_vec();
        let mut group = c.benchmark_group(format!("pipeline_{workload}"));
        group.throughput(Throughput::Elements(1000));
        group.bench_function("pass_through", |b| {
            b.iter(|| decode(&bytes).into_request().encode_to_vec())
        });
        group.bench_function("platform", |b| {
            b.iter(|| {
                let mut batch = decode(&bytes);
                for stage in &mut stages {
                    stage.process(&mut batch).expect("the stage succeeds");
                }
                batch.into_request().encode_to_vec()
            })
        });
        group.finish();
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
