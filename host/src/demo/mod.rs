//! `spanwise demo`: realistic traces through the shipped example pipeline, with a report of what
//! each processor did.

mod traces;

pub use traces::demo_batches;

use crate::config::Config;
use anyhow::Context;
use spanwise_batch::{Level, StrField};
use std::fmt::Write as _;
use std::path::Path;

/// The example config shipped in `examples/pipeline.yaml`, built into the binary.
pub const EXAMPLE_CONFIG: &str = include_str!("../../../examples/pipeline.yaml");

/// Run the demo: `config_text` (from `file`, for errors) with its file exporter writing to
/// `output`. Returns the report to print.
pub async fn run(config_text: &str, file: &Path, output: &Path) -> anyhow::Result<String> {
    let output_text = output.display().to_string();
    let config = Config::parse(config_text, file, &|name| match name {
        "SPANWISE_OUTPUT" => Some(output_text.clone()),
        other => std::env::var(other).ok(),
    })?;
    // A demo run starts its result file afresh.
    if output.exists() {
        std::fs::remove_file(output)
            .with_context(|| format!("cannot replace {}", output.display()))?;
    }
    // Everything `spanwise run` checks, but nothing listens: the demo feeds the pipeline itself.
    let prepared = crate::service::prepare(&config).await?;
    let pipeline = prepared
        .pipelines()
        .first()
        .context("the config has no pipeline")?;

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let mut report = String::new();
    writeln!(
        report,
        "spanwise demo: pipeline `{}` from {}",
        pipeline.id(),
        file.display()
    )?;
    writeln!(report)?;
    writeln!(report, "traffic sent:")?;
    let mut spans_sent = 0;
    let mut sample = None;
    for (what, batch) in demo_batches(now) {
        spans_sent += batch.len();
        writeln!(report, "  {:<26} {} spans", what, batch.len())?;
        if sample.is_none() {
            sample = Some(batch.clone());
        }
        let result = pipeline.consume(batch).await?;
        for dropped in result.dropped {
            writeln!(
                report,
                "    {} dropped {} spans: {}",
                dropped.processor, dropped.spans, dropped.reason
            )?;
        }
    }
    let pipeline = pipeline.clone();
    prepared.shutdown().await;

    writeln!(report)?;
    writeln!(report, "what each processor did:")?;
    for stage in pipeline.summaries() {
        let get = |name: &str| stage.stats.get(name).copied().unwrap_or(0);
        if stage.is_plugin {
            writeln!(
                report,
                "  {:<12} spans in {:>3}, out {:>3}, dropped {}, errors {}, {}",
                stage.id,
                get("spans_in"),
                get("spans_out"),
                get("spans_dropped") + get("spans_dropped_on_error"),
                get("errors"),
                call_times(&get)
            )?;
            for (name, value) in &stage.plugin_counters {
                writeln!(report, "  {:<12}   {name}: {value}", "")?;
            }
        } else {
            writeln!(
                report,
                "  {:<12} batches sent {}, spans out {}",
                stage.id,
                get("batches_sent"),
                get("spans_out")
            )?;
        }
    }

    if let Some(before) = sample {
        let after = read_first_request(output)?;
        writeln!(report)?;
        writeln!(report, "one span before and after:")?;
        let show = |b: &spanwise_batch::Batch, key: &str| match key {
            "name" => b.str_field(StrField::Name).get(0).map(String::from),
            key => b.str_attribute(Level::Span, key).get(0).map(String::from),
        };
        for key in ["name", "url.full", "enduser.id", "patient.id"] {
            let (was, now) = (show(&before, key), show(&after, key));
            if was.is_none() && now.is_none() {
                continue;
            }
            let was = was.unwrap_or_else(|| "(none)".into());
            let now = now.unwrap_or_else(|| "(removed)".into());
            writeln!(report, "  {key:<10} {was}\n          -> {now}")?;
        }
    }

    let written = count_spans(output)?;
    writeln!(report)?;
    writeln!(
        report,
        "spans sent {spans_sent}, spans written {written} to {}",
        output.display()
    )?;
    Ok(report)
}

fn read_lines(output: &Path) -> anyhow::Result<Vec<spanwise_batch::ExportTraceServiceRequest>> {
    let text = std::fs::read_to_string(output)
        .with_context(|| format!("cannot read {}", output.display()))?;
    text.lines()
        .map(|line| {
            serde_json::from_str(line)
                .context("the file exporter wrote a line that is not OTLP JSON")
        })
        .collect()
}

fn read_first_request(output: &Path) -> anyhow::Result<spanwise_batch::Batch> {
    let first = read_lines(output)?
        .into_iter()
        .next()
        .context("nothing was written")?;
    Ok(spanwise_batch::Batch::from_request(first))
}

fn count_spans(output: &Path) -> anyhow::Result<usize> {
    Ok(read_lines(output)?
        .iter()
        .flat_map(|request| &request.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum())
}

/// How long calls took: the first call of each instance apart from the others, since it warms
/// the instance up (its memory's pages are touched for the first time, the plugin's lazily built
/// state is built) and costs several times a later call.
fn call_times(get: &dyn Fn(&str) -> u64) -> String {
    let (calls, nanos) = (get("batches"), get("call_nanos"));
    let (first, first_nanos) = (get("first_calls"), get("first_call_nanos"));
    let micros = |nanos: u64, calls: u64| nanos as f64 / calls.max(1) as f64 / 1e3;
    if calls > first {
        format!(
            "{:.0} µs per call after the first ({:.0} µs for the first, warming the instance up)",
            micros(nanos - first_nanos, calls - first),
            micros(first_nanos, first)
        )
    } else {
        format!(
            "{:.0} µs per call (first calls, warming the instance up)",
            micros(nanos, calls)
        )
    }
}
