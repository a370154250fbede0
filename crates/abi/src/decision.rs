//! [`TraceDecision`]: a tail sampler's verdict on one trace (WIT `trace-decision`, 0.1.4).

/// A tail sampler's verdict on one complete trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceDecision {
    /// Export every span of the trace (`true`) or drop them all.
    pub keep: bool,
    /// For a kept trace, the probability it was kept with, in (0, 1]; the host writes its
    /// threshold into each kept span's tracestate (`ot=th:`). Not read for a dropped trace.
    pub probability: f64,
    /// What decided (a policy or rate category name), or empty.
    pub policy: String,
}

impl TraceDecision {
    /// Keep the trace, kept with `probability`, by `policy`.
    pub fn keep(probability: f64, policy: impl Into<String>) -> Self {
        Self {
            keep: true,
            probability,
            policy: policy.into(),
        }
    }

    /// Drop the trace, by `policy`.
    pub fn drop(policy: impl Into<String>) -> Self {
        Self {
            keep: false,
            probability: 0.0,
            policy: policy.into(),
        }
    }
}
