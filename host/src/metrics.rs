//! spanwise's own telemetry over HTTP: `/metrics` in the Prometheus text format (the
//! `prometheus-client` crate encodes it) and the `health_check` extension's endpoint.
//!
//! `/metrics` reads the counters the pipelines already keep at each scrape, so nothing is
//! counted twice: per processor `spanwise_processor_*_total` (spans in and out, dropped, errors,
//! traps, ...), the plugins' own `spanwise_plugin_*_total`, per exporter
//! `spanwise_exporter_*_total` (sent, retried, lost, refused) with the sending queue's
//! `spanwise_exporter_queue_size` and `_capacity`, and each plugin's call time as the histogram
//! `spanwise_plugin_call_duration_seconds`. Labels: `pipeline`, and `processor` or `exporter`.

use crate::pipeline::{Live, Pipeline, Stage};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The collector `/metrics` encodes: the pipelines' counters, read at each scrape.
#[derive(Debug)]
struct Scrape {
    pipelines: Vec<Pipeline>,
    /// `reloads`, `reloads_failed`.
    reloads: BTreeMap<String, u64>,
    /// Each receiver's counters: `spans_accepted`, `spans_refused`.
    receivers: Vec<(String, BTreeMap<String, u64>)>,
}

/// A metric name from a counter's: what Prometheus allows, every other character `_`.
fn metric_name(prefix: &str, counter: &str) -> String {
    let mut name = String::from(prefix);
    name.extend(
        counter
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
    );
    name
}

/// The labels of a series: `pipeline`, and `processor` or `exporter`.
type Labels = [(&'static str, String); 2];

/// Two gauge families read from the same rows: the first value of each row under the first
/// name, the second under the second (a queue's size and capacity, a pool's size and busy
/// instances).
fn encode_gauge_pair(
    encoder: &mut DescriptorEncoder,
    families: [(&str, &str); 2],
    rows: &[(Labels, (usize, usize))],
) -> Result<(), std::fmt::Error> {
    for (pick, (name, help)) in families.into_iter().enumerate() {
        let mut family = encoder.encode_descriptor(
            name,
            help,
            None,
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        for (labels, (first, second)) in rows {
            let value = if pick == 0 { *first } else { *second };
            ConstGauge::new(value as i64).encode(family.encode_family(labels)?)?;
        }
    }
    Ok(())
}

/// Series of one family: labels and value.
type Series = Vec<(Labels, u64)>;

impl Scrape {
    /// Every counter as `(metric name, help, series)`, in name order.
    fn counters(&self) -> BTreeMap<String, (&'static str, Series)> {
        let mut families: BTreeMap<String, (&'static str, Series)> = BTreeMap::new();
        let mut add = |name: String, help, labels, value| {
            families
                .entry(name)
                .or_insert_with(|| (help, Vec::new()))
                .1
                .push((labels, value));
        };
        for pipeline in &self.pipelines {
            let id = pipeline.id().to_owned();
            for stage in pipeline.summaries() {
                let labels = [("pipeline", id.clone()), ("processor", stage.id.clone())];
                for (counter, value) in &stage.stats {
                    let help = "What a processor did, as its shutdown summary counts it.";
                    add(
                        metric_name("spanwise_processor_", counter),
                        help,
                        labels.clone(),
                        *value,
                    );
                }
                for (counter, value) in &stage.plugin_counters {
                    let help = "A plugin's own counter.";
                    add(
                        metric_name("spanwise_plugin_", counter),
                        help,
                        labels.clone(),
                        *value,
                    );
                }
            }
            for exporter in pipeline.exporter_summaries() {
                let labels = [("pipeline", id.clone()), ("exporter", exporter.id.clone())];
                for (counter, value) in &exporter.stats {
                    let help = "What an exporter with a sending queue or retries did.";
                    add(
                        metric_name("spanwise_exporter_", counter),
                        help,
                        labels.clone(),
                        *value,
                    );
                }
            }
        }
        families
    }
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut families: BTreeMap<String, Vec<(&str, u64)>> = BTreeMap::new();
        for (receiver, stats) in &self.receivers {
            for (counter, value) in stats {
                families
                    .entry(metric_name("spanwise_receiver_", counter))
                    .or_default()
                    .push((receiver, *value));
            }
        }
        for (name, series) in families {
            let mut family = encoder.encode_descriptor(
                &name,
                "Spans a receiver took (accepted: every pipeline took them) or answered with a retryable error (refused).",
                None,
                prometheus_client::metrics::MetricType::Counter,
            )?;
            for (receiver, value) in series {
                ConstCounter::new(value)
                    .encode(family.encode_family(&[("receiver", receiver)])?)?;
            }
        }
        for (counter, value) in &self.reloads {
            let name = metric_name("spanwise_", counter);
            let help = "Config reloads (SIGHUP or a changed file), done or refused.";
            let family = encoder.encode_descriptor(
                &name,
                help,
                None,
                prometheus_client::metrics::MetricType::Counter,
            )?;
            ConstCounter::new(*value).encode(family)?;
        }
        for (name, (help, series)) in self.counters() {
            let mut family = encoder.encode_descriptor(
                &name,
                help,
                None,
                prometheus_client::metrics::MetricType::Counter,
            )?;
            for (labels, value) in series {
                ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
            }
        }
        let queues: Vec<(Labels, (usize, usize))> = self
            .pipelines
            .iter()
            .flat_map(|pipeline| {
                pipeline.exporters().iter().filter_map(|exporter| {
                    let labels = [
                        ("pipeline", pipeline.id().to_owned()),
                        ("exporter", exporter.id().to_owned()),
                    ];
                    exporter.queue_size().map(|size| (labels, size))
                })
            })
            .collect();
        encode_gauge_pair(
            &mut encoder,
            [
                (
                    "spanwise_exporter_queue_size",
                    "Batches waiting in an exporter's sending queue.",
                ),
                (
                    "spanwise_exporter_queue_capacity",
                    "Batches an exporter's sending queue may hold.",
                ),
            ],
            &queues,
        )?;
        let pools: Vec<(Labels, (usize, usize))> = self
            .pipelines
            .iter()
            .flat_map(|pipeline| {
                pipeline.stages().iter().filter_map(|stage| match stage {
                    Stage::Wasm(wasm) => Some((
                        [
                            ("pipeline", pipeline.id().to_owned()),
                            ("processor", wasm.id().to_owned()),
                        ],
                        (wasm.pool_size(), wasm.busy()),
                    )),
                    _ => None,
                })
            })
            .collect();
        encode_gauge_pair(
            &mut encoder,
            [
                (
                    "spanwise_processor_instances",
                    "Instances in a plugin processor's pool.",
                ),
                (
                    "spanwise_processor_instances_busy",
                    "Instances of a plugin processor's pool running a call now.",
                ),
            ],
            &pools,
        )?;
        let mut family = encoder.encode_descriptor(
            "spanwise_plugin_call_duration_seconds",
            "How long each call of a plugin took.",
            None,
            prometheus_client::metrics::MetricType::Histogram,
        )?;
        for pipeline in &self.pipelines {
            for stage in pipeline.stages() {
                if let Stage::Wasm(wasm) = stage {
                    let labels = [
                        ("pipeline", pipeline.id().to_owned()),
                        ("processor", wasm.id().to_owned()),
                    ];
                    wasm.latency.encode(family.encode_family(&labels)?)?;
                }
            }
        }
        Ok(())
    }
}

/// The text `/metrics` answers for `pipelines` now.
pub fn render(live: &Live) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Scrape {
        pipelines: live.get().to_vec(),
        reloads: live.reloads.snapshot(),
        receivers: live
            .receivers
            .iter()
            .map(|(id, stats)| (id.clone(), stats.snapshot()))
            .collect(),
    }));
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
    text
}

/// The router of `/metrics` for `pipelines`.
pub fn metrics_router(live: Live) -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let pipelines = live.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    render(&pipelines),
                )
            }
        }),
    )
}

/// Whether spanwise is serving: true once its receivers listen, false from the start of a
/// shutdown.
#[derive(Debug, Clone, Default)]
pub struct Health(Arc<AtomicBool>);

impl Health {
    /// Say whether spanwise is serving.
    pub fn set(&self, serving: bool) {
        self.0.store(serving, Ordering::SeqCst);
    }

    /// Whether it is.
    pub fn serving(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// `check_collector_pipeline`: counts the failed export attempts (`retries` and
/// `batches_lost` of every exporter with a sending queue or retries) within a sliding window,
/// sampled at each health request.
pub struct ExporterCheck {
    pipelines: Live,
    interval: std::time::Duration,
    threshold: u64,
    /// (when, failures so far), oldest first; the oldest is the window's baseline.
    samples: std::sync::Mutex<std::collections::VecDeque<(std::time::Instant, u64)>>,
}

impl ExporterCheck {
    /// A check of the exporters of `pipelines`.
    pub fn new(pipelines: Live, interval: std::time::Duration, threshold: u64) -> Self {
        let check = Self {
            pipelines,
            interval,
            threshold,
            samples: Default::default(),
        };
        let now = check.failures_so_far();
        check
            .samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back((std::time::Instant::now(), now));
        check
    }

    fn failures_so_far(&self) -> u64 {
        let mut seen = std::collections::HashSet::new();
        self.pipelines
            .get()
            .iter()
            .flat_map(|p| p.exporters())
            .filter(|e| seen.insert(e.id().to_owned()))
            .filter_map(|e| e.stats())
            .map(|stats| stats.get("retries") + stats.get("batches_lost"))
            .sum()
    }

    /// Why the exporters are unhealthy now, if they are.
    pub fn failing(&self) -> Option<String> {
        let now = std::time::Instant::now();
        let total = self.failures_so_far();
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        samples.push_back((now, total));
        // Keep one sample at or before the window's start as the baseline.
        while samples.len() > 2 && now.duration_since(samples[1].0) >= self.interval {
            samples.pop_front();
        }
        let failures = total - samples.front().map_or(total, |&(_, n)| n);
        (failures > self.threshold).then(|| {
            format!(
                "exporters failed {failures} times in the last {:?} (threshold {})",
                self.interval, self.threshold
            )
        })
    }
}

/// The router of the `health_check` extension on `path`: 200 and `{"status":"Server
/// available"}` while serving, 503 and `Server not available` otherwise, as the collector's
/// extension answers; with `exporters`, also 503 (with the reason) while they keep failing.
pub fn health_router(
    path: &str,
    health: Health,
    exporters: Option<Arc<ExporterCheck>>,
) -> axum::Router {
    axum::Router::new().route(
        path,
        axum::routing::get(move || {
            let serving = health.serving();
            let failing = exporters.as_ref().and_then(|check| check.failing());
            async move {
                let body = match (serving, failing) {
                    (true, None) => serde_json::json!({"status": "Server available"}),
                    (false, _) => serde_json::json!({"status": "Server not available"}),
                    (true, Some(reason)) => {
                        serde_json::json!({"status": "Server not available", "reason": reason})
                    }
                };
                let status = if body["status"] == "Server available" {
                    axum::http::StatusCode::OK
                } else {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                };
                (
                    status,
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body.to_string(),
                )
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::metric_name;

    #[test]
    fn counter_names_become_prometheus_names() {
        assert_eq!(
            metric_name("spanwise_plugin_", "urls.stripped"),
            "spanwise_plugin_urls_stripped"
        );
        assert_eq!(
            metric_name("spanwise_processor_", "spans_in"),
            "spanwise_processor_spans_in"
        );
    }
}
