//! Deterministic OTLP trace workloads, shared by the benches, the tests and `spanwise gen`.
//!
//! A [`Generator`] made from a [`Workload`] and a seed produces the same requests, byte for byte,
//! on every machine and every run:
//!
//! - [`Workload::W1`], the OpenTelemetry benchmark shape: ten attributes per span, keys and
//!   values of 20 characters, the standard resource attributes; traces of ten spans.
//! - [`Workload::W2`], API traffic as the platform sees it: 15 to 25 attributes per span, URLs
//!   of 80 to 2,048 characters with query strings, user ids, e-mail addresses and patient ids;
//!   one trace in ten a health check, one in twenty an error, one in ten slow.
//! - [`Workload::W3`], long traces for tail sampling: 5 to 200 spans each, spread over several
//!   requests (a request carries spans of many open traces), 5% with an error, 10% slow.

mod api;
mod long;
mod resource;
mod text;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use std::fmt;
use std::str::FromStr;

/// One of the three workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// The OpenTelemetry benchmark shape.
    W1,
    /// Realistic API traffic.
    W2,
    /// Long traces spread over several requests.
    W3,
}

impl Workload {
    /// Every workload, in order.
    pub const ALL: [Workload; 3] = [Workload::W1, Workload::W2, Workload::W3];
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Workload::W1 => "w1",
            Workload::W2 => "w2",
            Workload::W3 => "w3",
        })
    }
}

impl FromStr for Workload {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "w1" => Ok(Workload::W1),
            "w2" => Ok(Workload::W2),
            "w3" => Ok(Workload::W3),
            _ => Err(format!("unknown workload {s:?} (known: w1, w2, w3)")),
        }
    }
}

/// 2026-01-01T00:00:00Z, where a generator's clock starts unless told otherwise.
pub const DEFAULT_START_UNIX_NANO: u64 = 1_767_225_600_000_000_000;

/// A span of a generated request, before it is grouped under its resource.
pub(crate) struct Emitted {
    pub service: usize,
    pub span: Span,
}

/// Makes the requests of one workload from one seed.
pub struct Generator {
    workload: Workload,
    rng: fastrand::Rng,
    now: u64,
    services: Vec<resource::Service>,
    long: long::OpenTraces,
}

impl Generator {
    /// A generator of `workload` seeded with `seed`, its clock at [`DEFAULT_START_UNIX_NANO`].
    pub fn new(workload: Workload, seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let services = resource::services(&mut rng);
        Self {
            workload,
            rng,
            now: DEFAULT_START_UNIX_NANO,
            services,
            long: long::OpenTraces::default(),
        }
    }

    /// Start the clock at `unix_nano` instead (`spanwise gen` starts it at the wall clock, so
    /// that a receiver sees current spans).
    pub fn starting_at(mut self, unix_nano: u64) -> Self {
        self.now = unix_nano;
        self
    }

    /// The workload this generator makes.
    pub fn workload(&self) -> Workload {
        self.workload
    }

    /// The next request, of exactly `spans` spans.
    pub fn request(&mut self, spans: usize) -> ExportTraceServiceRequest {
        let mut emitted = Vec::with_capacity(spans);
        while emitted.len() < spans {
            let room = spans - emitted.len();
            match self.workload {
                Workload::W1 => api::benchmark_trace(self, room, &mut emitted),
                Workload::W2 => api::api_trace(self, room, &mut emitted),
                Workload::W3 => long::next_spans(self, room, &mut emitted),
            }
        }
        self.group(emitted)
    }

    /// Group spans under their service's resource, in the order the services first appear.
    fn group(&self, emitted: Vec<Emitted>) -> ExportTraceServiceRequest {
        let mut by_service: Vec<Option<Vec<Span>>> = vec![None; self.services.len()];
        let mut order = Vec::new();
        for Emitted { service, span } in emitted {
            by_service[service]
                .get_or_insert_with(|| {
                    order.push(service);
                    Vec::new()
                })
                .push(span);
        }
        let resource_spans = order
            .into_iter()
            .map(|service| {
                let spans = by_service[service].take().unwrap_or_default();
                let description = &self.services[service];
                ResourceSpans {
                    resource: Some(description.resource.clone()),
                    scope_spans: vec![ScopeSpans {
                        scope: Some(InstrumentationScope {
                            name: description.scope.into(),
                            version: "1.38.0".into(),
                            ..Default::default()
                        }),
                        spans,
                        schema_url: String::new(),
                    }],
                    schema_url: "https://opentelemetry.io/schemas/1.37.0".into(),
                }
            })
            .collect();
        ExportTraceServiceRequest { resource_spans }
    }

    fn trace_id(&mut self) -> Vec<u8> {
        self.rng.u128(1..).to_be_bytes().to_vec()
    }

    fn span_id(&mut self) -> Vec<u8> {
        self.rng.u64(1..).to_be_bytes().to_vec()
    }

    /// The clock, moved on by a few microseconds per trace so start times increase.
    fn tick(&mut self) -> u64 {
        self.now += self.rng.u64(1_000..50_000);
        self.now
    }
}

#[cfg(test)]
mod tests;
