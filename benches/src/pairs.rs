//! The measured pairs: the same work done two ways, side by side on the same input. The
//! criterion benches time each side as a function of a group; the overhead gate times the two
//! sides in alternating rounds (see [`crate::interleave`]).
//!
//! - Plugin groups `PLUGIN_WORKLOAD` (`url_w1`, `redact_w2`, ...): `native` (through the SDK's
//!   native batch) and `wasm` (the component, through the host), over 1,000 spans of W1 or W2
//!   with the platform's configs; `empty_call` is one call into a processor that does nothing;
//!   `redact_hashed` is the masking plugin hashing ten of the twenty attributes of each of
//!   1,000 spans (issue 6's shape, [`crate::identifier_batch`]).
//! - Pipeline groups `pipeline_w1`, `pipeline_w2`: `pass_through` (decode and encode the OTLP
//!   request) and `platform` (decode, filter, masking, head sampler, URL as components, encode).
//!
//! Setting `SPANWISE_BENCH_SLOW=GROUP` makes that group's second side run eight times per
//! iteration (over the same batch): the gate's self-test checks that the gate fails on it.

use crate::{
    HASHED_REDACT_CONFIG, HEAD_SAMPLER_CONFIG, PLATFORM_FILTER_CONFIG, PLATFORM_KEY,
    PLATFORM_REDACT_CONFIG, TAIL_SAMPLER_CONFIG, URL_CONFIG, Workload, http_batch,
    identifier_batch, trace_rows, workload_batch, workload_request,
};
use bytes::Bytes;
use prost::Message;
use spanwise::runtime::{Limits, PluginContext, PluginInstance, Runtime, RuntimeSettings};
use spanwise_batch::Batch;
use spanwise_filter::Filter;
use spanwise_head_sampler::HeadSampler;
use spanwise_redact::Redact;
use spanwise_sdk::{ConfigError, ProcessError, Processor, Sampler, SpanBatch, native};
use spanwise_tail_sampler::TailSampler;
use spanwise_url::UrlProcessor;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One side of a pair: run `n` iterations, return the time they took, leaving out the making
/// of each iteration's input (criterion's `iter_custom` contract).
pub type Side = Box<dyn FnMut(u64) -> Duration>;

/// Two ways of doing the same work, named as the bench group and its two functions.
pub struct Pair {
    /// The bench group (`url_w1`, `pipeline_w2`, ...).
    pub group: String,
    /// Spans per iteration (the group's throughput).
    pub spans: u64,
    /// The functions' names: (`native`, `wasm`) or (`pass_through`, `platform`).
    pub names: (&'static str, &'static str),
    /// The first side (the reference).
    pub first: Side,
    /// The second side (the one judged against the reference).
    pub second: Side,
}

/// A configured instance of test component `name` (`url`, `noop`, ...) in `runtime`, given the
/// platform's hashing key.
pub fn instance(runtime: &Runtime, name: &str, config: &str) -> PluginInstance {
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

/// The runtime every pair's components are loaded into, with its compile cache.
pub struct Setup {
    runtime: Runtime,
    _cache: tempfile::TempDir,
}

impl Setup {
    /// An engine with a compile cache in a temporary folder (or in `SPANWISE_BENCH_CACHE` when
    /// set: kept, so that `perf report` can name the compiled functions after the run), and the
    /// platform's hashing key set for native plugins of this thread.
    pub fn new() -> Self {
        let cache = tempfile::tempdir().expect("a temporary folder");
        let cache_dir = std::env::var_os("SPANWISE_BENCH_CACHE")
            .filter(|dir| !dir.is_empty())
            .map_or_else(|| cache.path().to_owned(), Into::into);
        let runtime = Runtime::new(RuntimeSettings {
            cache_dir: Some(cache_dir),
            ..Default::default()
        })
        .expect("the engine starts");
        native::with_context(|context| {
            context
                .keys
                .insert(PLATFORM_KEY.0.to_owned(), PLATFORM_KEY.1.to_vec());
        });
        Setup {
            runtime,
            _cache: cache,
        }
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// A configured instance of test component `name` (`url`, `noop`, ...), given the
    /// platform's hashing key.
    pub fn instance(&self, name: &str, config: &str) -> PluginInstance {
        instance(&self.runtime, name, config)
    }

    /// Every plugin pair: `empty_call`, `redact_hashed`, then each plugin on W1, then on W2.
    pub fn plugin_pairs(&self) -> Vec<Pair> {
        let mut noop = Noop;
        let mut wasm_noop = self.instance("noop", "{}");
        let mut pairs = vec![pair(
            "empty_call".to_owned(),
            http_batch(1),
            Reuse::Yes,
            move |batch| native::process(&mut noop, batch).unwrap(),
            move |batch| wasm_noop.process(batch).unwrap(),
        )];
        // Issue 6's shape: twenty attributes per span, ten hashed.
        let mut redact = Redact::configure(HASHED_REDACT_CONFIG).expect("valid config");
        let mut wasm_redact = self.instance("redact", HASHED_REDACT_CONFIG);
        pairs.push(pair(
            "redact_hashed".to_owned(),
            identifier_batch(1000),
            Reuse::No,
            move |batch| native::process(&mut redact, batch).unwrap(),
            move |batch| wasm_redact.process(batch).unwrap(),
        ));
        for workload in [Workload::W1, Workload::W2] {
            let batch = workload_batch(workload, 1000);

            pairs.push(self.processor_pair::<UrlProcessor>("url", URL_CONFIG, workload, &batch));
            pairs.push(self.processor_pair::<Redact>(
                "redact",
                PLATFORM_REDACT_CONFIG,
                workload,
                &batch,
            ));
            pairs.push(self.processor_pair::<Filter>(
                "filter",
                PLATFORM_FILTER_CONFIG,
                workload,
                &batch,
            ));
            // As the receiver hands it to a pipeline whose first reader is the head sampler:
            // the request's bytes, indexed by the scan.
            let wire = Batch::from_encoded_indexed(
                workload_request(workload, 1000).encode_to_vec().into(),
            )
            .expect("a valid request");
            pairs.push(self.processor_pair::<HeadSampler>(
                "head_sampler",
                HEAD_SAMPLER_CONFIG,
                workload,
                &wire,
            ));

            // The tail sampler reads the batch in indexed wire form, as the buffer hands its due
            // traces over.
            let traces = trace_rows(&batch);
            let native_traces = traces.clone();
            let batch = wire.clone();
            let mut tail = TailSampler::configure(TAIL_SAMPLER_CONFIG).expect("valid config");
            let mut wasm_tail = self.instance("tail_sampler", TAIL_SAMPLER_CONFIG);
            pairs.push(pair(
                format!("tail_sampler_{workload}"),
                batch,
                Reuse::No,
                move |batch| {
                    native::decide(&mut tail, batch, &native_traces).unwrap();
                },
                move |batch| {
                    wasm_tail.decide(batch, &traces).unwrap();
                },
            ));
        }
        pairs
    }

    /// Processor `P` natively and as component `component`, both with `config`, over `batch`:
    /// group `COMPONENT_WORKLOAD`.
    fn processor_pair<P: Processor + 'static>(
        &self,
        component: &str,
        config: &str,
        workload: Workload,
        batch: &Batch,
    ) -> Pair {
        let mut processor = P::configure(config).expect("valid config");
        let mut instance = self.instance(component, config);
        pair(
            format!("{component}_{workload}"),
            batch.clone(),
            Reuse::No,
            move |batch| native::process(&mut processor, batch).unwrap(),
            move |batch| instance.process(batch).unwrap(),
        )
    }

    /// The pipeline pairs, `pipeline_w1` and `pipeline_w2`: OTLP request bytes in, bytes out.
    pub fn pipeline_pairs(&self) -> Vec<Pair> {
        [Workload::W1, Workload::W2]
            .into_iter()
            .map(|workload| {
                let group = format!("pipeline_{workload}");
                let bytes = Bytes::from(workload_request(workload, 1000).encode_to_vec());
                let mut stages = [
                    self.instance("filter", PLATFORM_FILTER_CONFIG),
                    self.instance("redact", PLATFORM_REDACT_CONFIG),
                    self.instance("head_sampler", HEAD_SAMPLER_CONFIG),
                    self.instance("url", URL_CONFIG),
                ];
                let passes = passes(&group);
                let input = bytes.clone();
                Pair {
                    group,
                    spans: 1000,
                    names: ("pass_through", "platform"),
                    first: timed_loop(move || {
                        std::hint::black_box(wire(&input).to_bytes());
                    }),
                    second: timed_loop(move || {
                        for _ in 0..passes {
                            let mut batch = decode(&bytes);
                            for stage in &mut stages {
                                stage.process(&mut batch).expect("the stage succeeds");
                            }
                            std::hint::black_box(batch.to_bytes());
                        }
                    }),
                }
            })
            .collect()
    }
}

impl Default for Setup {
    fn default() -> Self {
        Self::new()
    }
}

/// Bench both sides of `pair` as one criterion group, with its throughput in spans.
pub fn bench(c: &mut criterion::Criterion, mut pair: Pair) {
    let mut group = c.benchmark_group(&pair.group);
    group.throughput(criterion::Throughput::Elements(pair.spans));
    group.bench_function(pair.names.0, |b| b.iter_custom(&mut pair.first));
    group.bench_function(pair.names.1, |b| b.iter_custom(&mut pair.second));
    group.finish();
}

/// A processor that does nothing: the native side of `empty_call`.
struct Noop;

impl Processor for Noop {
    fn configure(_: &str) -> Result<Self, ConfigError> {
        Ok(Noop)
    }
    fn process<B: SpanBatch + ?Sized>(&mut self, _: &mut B) -> Result<(), ProcessError> {
        Ok(())
    }
}

/// Whether one batch may serve every iteration (the side leaves it as it was).
#[derive(Clone, Copy, PartialEq)]
enum Reuse {
    Yes,
    No,
}

/// A pair of sides over `batch`; a side that edits its batch gets a fresh clone each
/// iteration, made outside the timed part.
fn pair(
    group: String,
    batch: Batch,
    reuse: Reuse,
    native: impl FnMut(&mut Batch) + 'static,
    wasm: impl FnMut(&mut Batch) + 'static,
) -> Pair {
    let passes = passes(&group);
    let batch = Arc::new(batch);
    let mut wasm = wasm;
    Pair {
        spans: batch.len() as u64,
        names: ("native", "wasm"),
        first: batch_side(batch.clone(), reuse, native),
        second: batch_side(batch, reuse, move |batch| {
            for _ in 0..passes {
                wasm(batch);
            }
        }),
        group,
    }
}

fn batch_side(batch: Arc<Batch>, reuse: Reuse, mut run: impl FnMut(&mut Batch) + 'static) -> Side {
    match reuse {
        Reuse::Yes => {
            let mut batch = (*batch).clone();
            timed_loop(move || run(&mut batch))
        }
        Reuse::No => Box::new(move |n| {
            let mut spent = Duration::ZERO;
            for _ in 0..n {
                let mut input = (*batch).clone();
                let started = Instant::now();
                run(&mut input);
                spent += started.elapsed();
                drop(input);
            }
            spent
        }),
    }
}

/// A side whose iterations need no input made for them: the whole loop is timed.
fn timed_loop(mut run: impl FnMut() + 'static) -> Side {
    Box::new(move |n| {
        let started = Instant::now();
        for _ in 0..n {
            run();
        }
        started.elapsed()
    })
}

/// Request bytes as the receivers take them for a pipeline whose stages read the spans:
/// decoded at once.
fn decode(bytes: &Bytes) -> Batch {
    Batch::from_request(spanwise_batch::decode_request(bytes).expect("a valid request"))
}

/// Request bytes as the receivers take them for a pipeline that only batches and exports:
/// kept in wire form.
fn wire(bytes: &Bytes) -> Batch {
    Batch::from_encoded(bytes.clone()).expect("a valid request")
}

/// How many times the second side of `group` runs per iteration: 8 for the group named by
/// `SPANWISE_BENCH_SLOW` (the gate's self-test), else 1.
fn passes(group: &str) -> usize {
    match std::env::var("SPANWISE_BENCH_SLOW") {
        Ok(slow) if slow == group => 8,
        _ => 1,
    }
}
