//! A test-only tail sampler (the SDK's `flat-tail-sampler` world), to test the host's side of
//! the contract:
//! a trace with an error span is kept with probability 1 (`errors`); of the others, those whose
//! trace id ends in an even byte are kept with probability 0.5 (`default`), the rest dropped.
//! Every span it sees gets `sampler.seen = true` (an edit). With `{"short": true}` it answers
//! one decision too few.

use spanwise_sdk::{
    ConfigError, Level, ProcessError, Sampler, SpanBatch, TraceDecisions, TraceRows, Value,
    parse_config,
};

/// The config.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Answer one decision too few.
    #[serde(default)]
    pub short: bool,
}

/// The sampler.
pub struct TestSampler(Config);

impl Sampler for TestSampler {
    fn configure(config: &str) -> Result<Self, ConfigError> {
        Ok(TestSampler(parse_config(config)?))
    }

    fn decide<B: SpanBatch + ?Sized>(
        &mut self,
        batch: &mut B,
        traces: &TraceRows,
    ) -> Result<TraceDecisions, ProcessError> {
        let status = batch.status_codes();
        let trace_ids = batch.trace_ids();
        let rows = batch.all_rows();
        batch.set_attribute(
            Level::Span,
            "sampler.seen",
            &rows,
            &vec![Value::Bool(true); rows.len()],
        );
        let mut decisions = TraceDecisions::with_capacity(traces.len());
        for rows in traces.iter() {
            match rows.first() {
                None => decisions.drop("empty"),
                Some(_) if rows.iter().any(|&row| status[row as usize] == 2) => {
                    decisions.keep(1.0, "errors")
                }
                Some(&first) if trace_ids[first as usize * 16 + 15].is_multiple_of(2) => {
                    decisions.keep(0.5, "default")
                }
                Some(_) => decisions.drop("default"),
            }
        }
        if self.0.short {
            decisions.probability.pop();
            decisions.policy.pop();
        }
        Ok(decisions)
    }
}

spanwise_sdk::export_sampler!(TestSampler);
