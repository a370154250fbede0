//! Benches that price one engine setting: the same plugins over the same batches, run by two
//! runtimes that differ only in that setting (`benches/signals.rs`, `benches/deadlines.rs`).

use crate::pairs::instance;
use crate::{
    HEAD_SAMPLER_CONFIG, PLATFORM_FILTER_CONFIG, PLATFORM_REDACT_CONFIG, TAIL_SAMPLER_CONFIG,
    URL_CONFIG, Workload, trace_rows, workload_batch, workload_request,
};
use criterion::{BatchSize, Criterion, Throughput};
use prost::Message;
use spanwise::runtime::{Runtime, RuntimeSettings};
use spanwise_batch::Batch;

/// A runtime without a compile cache, `change` applied to the default settings.
pub fn runtime(change: impl FnOnce(&mut RuntimeSettings)) -> Runtime {
    let mut settings = RuntimeSettings {
        cache_dir: None,
        ..Default::default()
    };
    change(&mut settings);
    Runtime::new(settings).expect("the engine starts")
}

/// For each workload and plugin (URL, masking, filter, head sampler with the platform's
/// configs; the tail sampler's decision over the batch's traces when `tail` is set), group
/// `PREFIX_PLUGIN_WORKLOAD` with one function per side, over 1,000 spans. The head sampler's
/// batch is the request's bytes indexed, as the gate's pair and a receiver give it.
pub fn compare(
    c: &mut Criterion,
    prefix: &str,
    sides: [(&str, &Runtime); 2],
    workloads: &[Workload],
    tail: bool,
) {
    let mut plugins = vec![
        ("url", URL_CONFIG),
        ("redact", PLATFORM_REDACT_CONFIG),
        ("filter", PLATFORM_FILTER_CONFIG),
        ("head_sampler", HEAD_SAMPLER_CONFIG),
    ];
    if tail {
        plugins.push(("tail_sampler", TAIL_SAMPLER_CONFIG));
    }
    for &workload in workloads {
        let decoded = workload_batch(workload, 1000);
        let traces = trace_rows(&decoded);
        let wire =
            Batch::from_encoded_indexed(workload_request(workload, 1000).encode_to_vec().into())
                .expect("a valid request");
        for &(name, config) in &plugins {
            let batch = if name == "head_sampler" {
                &wire
            } else {
                &decoded
            };
            let mut group = c.benchmark_group(format!("{prefix}_{name}_{workload}"));
            group.throughput(Throughput::Elements(batch.len() as u64));
            for (side, runtime) in sides {
                let mut plugin = instance(runtime, name, config);
                group.bench_function(side, |b| {
                    b.iter_batched_ref(
                        || batch.clone(),
                        |batch| {
                            if name == "tail_sampler" {
                                plugin.decide(batch, &traces).map(drop)
                            } else {
                                plugin.process(batch)
                            }
                            .expect("the plugin runs")
                        },
                        BatchSize::LargeInput,
                    )
                });
            }
            group.finish();
        }
    }
}
