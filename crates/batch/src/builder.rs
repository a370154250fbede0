//! [`BatchBuilder`]: a terse way to build batches in tests, benches and the demo.

use crate::Batch;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::Event;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

/// A string, integer, float or boolean attribute value for the builder.
#[derive(Debug, Clone)]
pub enum Attr {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Double(f64),
    /// A boolean.
    Bool(bool),
}

impl From<&str> for Attr {
    fn from(v: &str) -> Self {
        Attr::Str(v.to_owned())
    }
}
impl From<String> for Attr {
    fn from(v: String) -> Self {
        Attr::Str(v)
    }
}
impl From<i64> for Attr {
    fn from(v: i64) -> Self {
        Attr::Int(v)
    }
}
impl From<f64> for Attr {
    fn from(v: f64) -> Self {
        Attr::Double(v)
    }
}
impl From<bool> for Attr {
    fn from(v: bool) -> Self {
        Attr::Bool(v)
    }
}

/// An OTLP key-value pair.
pub fn kv(key: &str, value: impl Into<Attr>) -> KeyValue {
    let value = match value.into() {
        Attr::Str(s) => any_value::Value::StringValue(s),
        Attr::Int(i) => any_value::Value::IntValue(i),
        Attr::Double(d) => any_value::Value::DoubleValue(d),
        Attr::Bool(b) => any_value::Value::BoolValue(b),
    };
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// Builds a batch one resource and one span at a time. Each `resource` call starts a new
/// resource with one scope; spans go to the latest resource.
#[derive(Debug, Default)]
pub struct BatchBuilder {
    resource_spans: Vec<ResourceSpans>,
    next_id: u64,
}

impl BatchBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Start a resource with these attributes.
    pub fn resource(mut self, attributes: Vec<KeyValue>) -> Self {
        self.resource_spans.push(ResourceSpans {
            resource: Some(Resource {
                attributes,
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "spanwise.builder".into(),
                    version: "1".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        });
        self
    }

    /// Add a span named `name` with these attributes to the latest resource, starting one if
    /// there is none. Ids are made up but unique within the builder.
    pub fn span(self, name: &str, attributes: Vec<KeyValue>) -> Self {
        let id = self.next_id + 1;
        let span = Span {
            trace_id: trace_id(id),
            span_id: id.to_be_bytes().to_vec(),
            name: name.to_owned(),
            kind: 2,
            start_time_unix_nano: 1_700_000_000_000_000_000 + id * 1_000,
            end_time_unix_nano: 1_700_000_000_000_000_000 + id * 1_000 + 5_000_000,
            attributes,
            ..Default::default()
        };
        self.push_span(span)
    }

    /// Add a fully built span to the latest resource.
    pub fn push_span(mut self, span: Span) -> Self {
        if self.resource_spans.is_empty() {
            self = self.resource(vec![]);
        }
        self.next_id += 1;
        let resource = self.resource_spans.last_mut().expect("a resource exists");
        resource.scope_spans[0].spans.push(span);
        self
    }

    /// Give the latest span an event with these attributes.
    pub fn event(mut self, name: &str, attributes: Vec<KeyValue>) -> Self {
        if let Some(span) = self.last_span() {
            span.events.push(Event {
                time_unix_nano: span.start_time_unix_nano + 1,
                name: name.to_owned(),
                attributes,
                ..Default::default()
            });
        }
        self
    }

    /// Give the latest span a status.
    pub fn status(mut self, code: i32, message: &str) -> Self {
        if let Some(span) = self.last_span() {
            span.status = Some(Status {
                code,
                message: message.to_owned(),
            });
        }
        self
    }

    fn last_span(&mut self) -> Option<&mut Span> {
        self.resource_spans.last_mut()?.scope_spans[0]
            .spans
            .last_mut()
    }

    /// The finished batch.
    pub fn build(self) -> Batch {
        Batch::from_resource_spans(self.resource_spans)
    }
}

fn trace_id(id: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    out.extend_from_slice(&0x5157_u64.to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    out
}
