//! Swapping the tail sampler while spans flow, and a shadow sampler beside the active one, with
//! the real `tail_sampler.wasm`: a swap loses no span and changes decisions only for traces
//! decided after it; a bad reload changes nothing; a shadow counts exactly the traces two rate
//! tables decide differently, without changing what is sent on.

use opentelemetry_proto::tonic::trace::v1::Span;
use spanwise::config::Config;
use spanwise::pipeline::Pipeline;
use spanwise_batch::{Batch, BatchBuilder};
use spanwise_sampling::{Randomness, Threshold};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A pipeline config: `tail_sampling` with the tail sampler plugin, `rates` as its config, and
/// `extra` keys, exporting to a file.
fn config(dir: &Path, rates: &str, extra: &str) -> Config {
    spanwise_tests::tail_config(
        dir,
        &spanwise_tests::plugin("tail_sampler"),
        &format!("        rates: {rates}"),
        extra,
    )
}

/// Trace `n`'s id: random-looking, so its randomness spreads over the thresholds.
fn trace_id(n: usize) -> [u8; 16] {
    let mut x = (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut id = [0u8; 16];
    for chunk in id.chunks_mut(8) {
        x ^= x >> 31;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        chunk.copy_from_slice(&x.to_be_bytes());
    }
    id
}

/// Traces `from..to`, two spans each (`t<n>.0`, `t<n>.1`).
fn traces(from: usize, to: usize) -> Batch {
    let mut builder = BatchBuilder::new();
    for n in from..to {
        for k in 0..2 {
            builder = builder.span(&format!("t{n}.{k}"), vec![]);
        }
    }
    let mut request = builder.build().into_request();
    for span in request.resource_spans[0].scope_spans[0].spans.iter_mut() {
        let n: usize = span.name[1..span.name.find('.').unwrap()].parse().unwrap();
        span.trace_id = trace_id(n).to_vec();
    }
    Batch::from_request(request)
}

/// Exported spans: trace number → the `sampling.policy` of each of its spans.
fn exported(dir: &Path) -> BTreeMap<usize, Vec<String>> {
    let mut out: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let spans: Vec<Span> = spanwise_tests::read_jsonl(&dir.join("traces.jsonl"))
        .into_iter()
        .flat_map(|r| r.resource_spans)
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .collect();
    for span in spans {
        let n: usize = span.name[1..span.name.find('.').unwrap()].parse().unwrap();
        let policy = span
            .attributes
            .iter()
            .find(|kv| kv.key == "sampling.policy")
            .and_then(|kv| kv.value.as_ref()?.value.as_ref().cloned())
            .map(|v| format!("{v:?}"))
            .unwrap_or_default();
        out.entry(n).or_default().push(policy);
    }
    out
}

fn build(dir: &Path, config: &Config) -> (Vec<Pipeline>, Arc<spanwise::runtime::Runtime>) {
    let runtime = Arc::new(spanwise_tests::runtime(&dir.join("cache")));
    let pipelines = spanwise::pipeline::build_pipelines(config, &runtime).expect("it builds");
    (pipelines, runtime)
}

const KEEP_AS_A: &str = r#"[{ name: a, percentage: 100 }]"#;
const KEEP_AS_B: &str = r#"[{ name: b, percentage: 100 }]"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_under_load_loses_no_span_and_changes_only_later_decisions() {
    let dir = tempfile::tempdir().unwrap();
    // 50 traces held at most: under load, the oldest are decided all the time.
    let (pipelines, runtime) = build(
        dir.path(),
        &config(dir.path(), KEEP_AS_A, "    num_traces: 50"),
    );
    let pipeline = pipelines[0].clone();
    const BATCHES: usize = 200;
    const PER_BATCH: usize = 10;
    let sent = Arc::new(AtomicUsize::new(0));
    let swapped_flag = Arc::new(tokio::sync::Notify::new());
    let sender = {
        let (pipeline, sent, swapped_flag) = (pipeline.clone(), sent.clone(), swapped_flag.clone());
        tokio::spawn(async move {
            for b in 0..BATCHES {
                // The last quarter goes after the swap, however long loading the new sampler
                // takes on a busy machine, so both samplers have traces to decide.
                if b == BATCHES * 3 / 4 {
                    swapped_flag.notified().await;
                }
                pipeline
                    .consume(traces(b * PER_BATCH, (b + 1) * PER_BATCH))
                    .await
                    .unwrap();
                sent.store((b + 1) * PER_BATCH, Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
        })
    };
    // Swap once the sampler has taken in half the traces. What `consume` returned for may
    // still wait in the pipeline's queue (64 batches), so `sent` alone says too little.
    let taken_in = || {
        pipeline.summaries()[0]
            .stats
            .get("spans_in")
            .copied()
            .unwrap_or(0)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while taken_in() < (BATCHES * PER_BATCH) as u64 {
        assert!(
            std::time::Instant::now() < deadline,
            "the sampler took in {} spans in 60 s",
            taken_in()
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let swapped = spanwise::pipeline::tail::reload_samplers(
        &pipelines,
        &config(dir.path(), KEEP_AS_B, "    num_traces: 50"),
        runtime,
    )
    .await
    .unwrap();
    assert_eq!(swapped, ["traces/tail_sampling"]);
    let sent_after_swap = sent.load(Ordering::SeqCst);
    swapped_flag.notify_one();
    sender.await.unwrap();
    pipeline.shutdown().await;

    let out = exported(dir.path());
    assert_eq!(out.len(), BATCHES * PER_BATCH, "every trace exported");
    let (mut a, mut b) = (0, 0);
    let (mut last_a, mut first_b) = (0, usize::MAX);
    for (n, policies) in &out {
        assert_eq!(policies.len(), 2, "trace {n} whole");
        assert_eq!(policies[0], policies[1], "trace {n} decided once");
        match policies[0].as_str() {
            "StringValue(\"a\")" => {
                a += 1;
                last_a = last_a.max(*n);
                assert!(
                    *n < sent_after_swap,
                    "trace {n}, sent after the swap, decided before it"
                );
            }
            "StringValue(\"b\")" => {
                b += 1;
                first_b = first_b.min(*n);
            }
            other => panic!("trace {n}: {other}"),
        }
    }
    // The buffer decides its oldest trace first, and traces arrive in number order: the swap
    // splits them in two, a before, b after.
    assert!(
        last_a < first_b,
        "a decided up to trace {last_a}, b from trace {first_b}"
    );
    // The swap came once the sampler had taken in half the traces (it holds at most 50
    // undecided), and the last quarter was sent after it.
    assert!(a >= BATCHES * PER_BATCH / 4, "a decided {a}");
    assert!(b >= BATCHES * PER_BATCH / 4, "b decided {b}");
    let stats = &pipeline.summaries()[0].stats;
    assert_eq!(stats["swaps"], 1);
    assert_eq!(stats["spans_in"], 2 * (BATCHES * PER_BATCH) as u64);
    assert_eq!(stats.get("spans_lost"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_reload_changes_nothing_and_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let (pipelines, runtime) = build(dir.path(), &config(dir.path(), KEEP_AS_A, ""));
    pipelines[0].consume(traces(0, 5)).await.unwrap();
    let bad = config(dir.path(), r#"[{ name: b, percentage: 250 }]"#, "");
    let error = spanwise::pipeline::tail::reload_samplers(&pipelines, &bad, runtime)
        .await
        .unwrap_err();
    assert!(
        error.key.starts_with("processors.tail_sampling.sampler"),
        "{error}"
    );
    assert!(error.to_string().contains("rates[0].percentage"), "{error}");
    pipelines[0].consume(traces(5, 10)).await.unwrap();
    pipelines[0].shutdown().await;
    let out = exported(dir.path());
    assert_eq!(out.len(), 10);
    assert!(out.values().flatten().all(|p| p == "StringValue(\"a\")"));
    assert_eq!(pipelines[0].summaries()[0].stats.get("swaps"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadow_counts_exactly_the_traces_two_rate_tables_disagree_on() {
    let dir = tempfile::tempdir().unwrap();
    let shadow = format!(
        "    shadow:\n      plugin: {}\n      config:\n        rates: [{{ name: ten, percentage: 10 }}]",
        spanwise_tests::plugin("tail_sampler").display()
    );
    let half = r#"[{ name: half, percentage: 50 }]"#;
    let (pipelines, _runtime) = build(dir.path(), &config(dir.path(), half, &shadow));
    const TRACES: usize = 2000;
    for start in (0..TRACES).step_by(100) {
        pipelines[0]
            .consume(traces(start, start + 100))
            .await
            .unwrap();
    }
    pipelines[0].shutdown().await;

    // Both keep by the trace id's randomness: they disagree where 50% keeps and 10% does not.
    let keeps = |p: f64, n: usize| {
        Threshold::from_probability(p, 4)
            .unwrap()
            .keeps(Randomness::from_trace_id(&trace_id(n)))
    };
    let expected_kept: Vec<usize> = (0..TRACES).filter(|&n| keeps(0.5, n)).collect();
    let disagree = (0..TRACES)
        .filter(|&n| keeps(0.5, n) != keeps(0.1, n))
        .count();
    assert!(disagree > 600 && disagree < 1000, "about 40%: {disagree}");

    let out = exported(dir.path());
    assert_eq!(
        out.keys().copied().collect::<Vec<_>>(),
        expected_kept,
        "the shadow changes nothing"
    );
    let stats = &pipelines[0].summaries()[0].stats;
    assert_eq!(stats["shadow_traces"], TRACES as u64);
    assert_eq!(stats["shadow_disagreements"], disagree as u64);
}

#[test]
fn sample_on_first_match_goes_to_the_sampler_and_may_not_contradict_it() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = spanwise_tests::plugin("tail_sampler");
    let yaml = |processor_level: &str, sampler_level: &str| {
        format!(
            r#"
receivers:
  otlp: {{ protocols: {{ http: {{ endpoint: "127.0.0.1:0" }} }} }}
processors:
  tail_sampling:
    {processor_level}
    sampler:
      plugin: {plugin}
      config:
        {sampler_level}
        policies: [{{ name: all, type: always_sample }}]
exporters:
  file: {{ path: {out} }}
service:
  pipelines:
    traces: {{ receivers: [otlp], processors: [tail_sampling], exporters: [file] }}
"#,
            plugin = plugin.display(),
            out = dir.path().join("t.jsonl").display()
        )
    };
    let parse = |text: String| Config::parse(&text, Path::new("tail.yaml"), &|_| None);
    let config = parse(yaml("sample_on_first_match: true", "")).unwrap();
    let spanwise::config::ProcessorConfig::TailSampling(tail) = &config.processors["tail_sampling"]
    else {
        panic!("a tail_sampling processor");
    };
    let json: serde_json::Value =
        serde_json::from_str(&tail.sampler_config_json(&tail.sampler).unwrap()).unwrap();
    assert_eq!(json["sample_on_first_match"], true);
    assert!(
        parse(yaml(
            "sample_on_first_match: true",
            "sample_on_first_match: true"
        ))
        .is_ok()
    );
    let error = parse(yaml(
        "sample_on_first_match: true",
        "sample_on_first_match: false",
    ))
    .unwrap_err();
    assert_eq!(error.key, "processors.tail_sampling.sampler.config");
    assert!(error.to_string().contains("set it in one place"), "{error}");
}
