//! `tail-sampler`: a spanwise tail sampler (the `tail-sampler` world). It decides on complete
//! traces with the OpenTelemetry Collector `tail_sampling` processor's policies (contrib
//! v0.161.0: same names, keys and meaning, `drop` first, then any policy that samples keeps the
//! trace), or with a table of rated categories (`rates`: the first category whose `when`
//! matches keeps the trace with its percentage, consistently by trace id). See `README.md`.
//!
//! Each call reads the columns its policies need once for all its traces (trace ids, times,
//! status codes, tracestates, and each attribute a policy names) and records no edits: the host
//! writes the reported probability as `th` and the category as `sampling.policy`.

#[cfg(any(test, feature = "cases"))]
#[doc(hidden)]
pub mod cases;
pub mod config;
pub mod limiter;
pub mod policy;
pub mod rules;
pub mod traces;

#[cfg(test)]
mod tests;

use config::Config;
use limiter::Clock;
use rules::Rules;
use spanwise_sdk::{ConfigError, ProcessError, Sampler, SpanBatch, TraceDecisions, TraceRows};
use traces::Data;

/// The tail sampler.
#[derive(Debug)]
pub struct TailSampler {
    rules: Rules,
}

impl TailSampler {
    /// Build from a JSON config with `clock` as the time of the stateful policies.
    pub fn with_clock(json: &str, clock: &Clock) -> Result<Self, ConfigError> {
        let config: Config = spanwise_sdk::parse_config(json)?;
        Ok(TailSampler {
            rules: Rules::build(&config, clock)?,
        })
    }
}

impl Sampler for TailSampler {
    fn configure(json: &str) -> Result<Self, ConfigError> {
        Self::with_clock(json, &Clock::monotonic())
    }

    fn decide<B: SpanBatch + ?Sized>(
        &mut self,
        batch: &mut B,
        traces: &TraceRows,
    ) -> Result<TraceDecisions, ProcessError> {
        let data = Data::load(batch, &self.rules.needs);
        let mut decisions = TraceDecisions::with_capacity(traces.len());
        for rows in traces.iter() {
            decisions.push(self.rules.decide(&data.trace(rows)));
        }
        Ok(decisions)
    }
}

spanwise_sdk::export_sampler!(TailSampler);
