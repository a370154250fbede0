//! The `debug` exporter: what went out, on stderr.

use super::{BoxFuture, ExportError, Exporter, span_count};
use crate::config::Verbosity;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use spanwise_batch::Batch;
use std::io::Write;

/// Writes a summary of every batch to stderr.
pub struct DebugExporter {
    id: String,
    verbosity: Verbosity,
}

impl DebugExporter {
    /// A debug exporter at `verbosity`.
    pub fn new(id: &str, verbosity: Verbosity) -> Self {
        Self {
            id: id.to_owned(),
            verbosity,
        }
    }

    /// The text written for `request`.
    pub fn render(&self, request: &Batch) -> String {
        let mut out = format!(
            "{}: {} spans from {} resources\n",
            self.id,
            span_count(request),
            request.resource_count()
        );
        if self.verbosity == Verbosity::Basic {
            return out;
        }
        for resource in request.resource_spans() {
            for span in resource.scope_spans.iter().flat_map(|s| &s.spans) {
                let status = span.status.as_ref().map_or(0, |s| s.code);
                let millis = span
                    .end_time_unix_nano
                    .saturating_sub(span.start_time_unix_nano) as f64
                    / 1e6;
                out.push_str(&format!(
                    "  {} {:.1}ms status={} trace={}\n",
                    span.name,
                    millis,
                    status,
                    hex::encode(&span.trace_id)
                ));
                if self.verbosity == Verbosity::Detailed {
                    for kv in &span.attributes {
                        out.push_str(&format!("      {}={}\n", kv.key, show(kv.value.as_ref())));
                    }
                }
            }
        }
        out
    }
}

fn show(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => format!("{s:?}"),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(other) => format!("{other:?}"),
        None => "(empty)".into(),
    }
}

impl Exporter for DebugExporter {
    fn id(&self) -> &str {
        &self.id
    }

    fn export<'a>(&'a self, request: &'a Batch) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            let text = self.render(request);
            // A closed stderr must not fail the pipeline.
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spanwise_batch::{BatchBuilder, kv};

    #[test]
    fn verbosity_decides_how_much_is_shown() {
        let request = BatchBuilder::new()
            .span("GET /health", vec![kv("http.route", "/health")])
            .status(2, "down")
            .build();
        let basic = DebugExporter::new("debug", Verbosity::Basic).render(&request);
        assert_eq!(basic, "debug: 1 spans from 1 resources\n");
        let normal = DebugExporter::new("debug", Verbosity::Normal).render(&request);
        assert!(normal.contains("GET /health 5.0ms status=2"), "{normal}");
        assert!(!normal.contains("http.route"));
        let detailed = DebugExporter::new("debug", Verbosity::Detailed).render(&request);
        assert!(detailed.contains("http.route=\"/health\""), "{detailed}");
    }
}
