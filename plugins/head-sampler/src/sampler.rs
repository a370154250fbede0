//! One sampling decision, made as the collector's `probabilistic_sampler` (contrib v0.161.0)
//! makes it for a span: find the randomness and read the tracestate, check them, take the
//! mode's threshold (or the error's), let `sampling.priority` override it, keep the span when
//! the threshold is at most the randomness, and write the threshold a kept span was sampled
//! with into its tracestate.

use crate::priority::Priority;
use serde::Deserialize;
use spanwise_sampling::threshold::{MIN_PROBABILITY, fnv1a, hash_randomness};
use spanwise_sampling::{Randomness, Text, Threshold, TraceState};

/// How the rate becomes a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The collector's original sampler: an FNV hash of the seed and the trace id against 14
    /// bits of rate. Refuses spans that already carry `rv` or `th`.
    HashSeed,
    /// Consistent sampling that multiplies its ratio into the probability the span arrived
    /// with.
    Proportional,
    /// Consistent sampling that lowers the probability to its own unless it is lower already.
    Equalizing,
}

/// The configured sampler of one rate.
#[derive(Debug, Clone, PartialEq)]
pub enum Sampler {
    /// A rate of 0 (or one the hash cannot express): keeps only what priority keeps.
    Never,
    /// `hash_seed` mode.
    Hash {
        /// The seed hashed before the trace id.
        seed: u32,
        /// `(16384 - scaled rate) << 42`.
        threshold: Threshold,
    },
    /// `equalizing` mode.
    Equalizing {
        /// The threshold of the configured rate.
        threshold: Threshold,
        /// The tracestate a span that arrives without one is kept with.
        fresh: String,
    },
    /// `proportional` mode.
    Proportional {
        /// The configured rate as a fraction.
        ratio: f64,
        /// Hex digits of the thresholds it writes.
        precision: u32,
        /// The threshold of `ratio` alone: a span that arrives without `th` gets it (worked
        /// out once instead of once per span).
        own: Threshold,
        /// The tracestate a span that arrives without one is kept with.
        fresh: String,
    },
}

/// The tracestate the general path of [`Sampler::decide`] writes for a kept span that
/// arrived without one: `ot=th:` and `threshold`.
fn fresh(threshold: Threshold) -> String {
    let mut state = TraceState::default();
    state.ot.th = Some(Text::Set(threshold));
    let mut out = String::new();
    state.write(&mut out);
    out
}

/// Why a span's decision was not the rate's: each is counted, and the span is dropped under
/// `fail_closed` and kept otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanError {
    /// The tracestate is not valid W3C / OpenTelemetry tracestate.
    Tracestate,
    /// `hash_seed` mode and the span carries `rv`.
    RandomnessInUse,
    /// `hash_seed` mode and the span carries `th`.
    ThresholdInUse,
    /// A zero trace id and no `rv`: nothing to decide on.
    MissingRandomness,
    /// The span's `th` says it should not have been sampled at all; the `th` is removed.
    InconsistentThreshold,
}

impl SpanError {
    /// The collector's words for it.
    pub fn message(self) -> &'static str {
        match self {
            SpanError::Tracestate => "invalid tracestate",
            SpanError::RandomnessInUse => {
                "item has sampling randomness, equalizing or proportional mode recommended"
            }
            SpanError::ThresholdInUse => {
                "item has sampling threshold, equalizing or proportional mode recommended"
            }
            SpanError::MissingRandomness => "missing randomness",
            SpanError::InconsistentThreshold => {
                "inconsistent arriving threshold: item should not have been sampled"
            }
        }
    }
}

/// What one span needs for a decision.
#[derive(Debug, Clone, Copy)]
pub struct SpanInput<'a> {
    /// The trace id.
    pub trace_id: &'a [u8; 16],
    /// The span's tracestate as it arrived.
    pub trace_state: &'a str,
    /// Its `sampling.priority`.
    pub priority: Priority,
}

/// The decision on one span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the span stays.
    pub keep: bool,
    /// The error that decided instead of the rate, if any.
    pub error: Option<SpanError>,
    /// Whether the kept span's new tracestate was written to the output buffer.
    pub rewritten: bool,
}

impl Sampler {
    /// The sampler of `percentage` in `mode`, as the collector's `makeSampler` builds it: the
    /// rate is read as a 32-bit float and capped at 100; `hash_seed` scales it to 14 bits
    /// (`percentage * 163.84` in 32-bit float, truncated), the consistent modes to a threshold
    /// of `precision` hex digits.
    pub fn new(mode: Mode, percentage: f32, seed: u32, precision: u32) -> Sampler {
        let percentage = percentage.min(100.0);
        if percentage == 0.0 {
            return Sampler::Never;
        }
        let ratio = (f64::from(percentage) / 100.0).max(MIN_PROBABILITY);
        match mode {
            Mode::Equalizing => {
                let threshold =
                    Threshold::from_probability(ratio, precision).unwrap_or(Threshold::ALWAYS);
                Sampler::Equalizing {
                    threshold,
                    fresh: fresh(threshold),
                }
            }
            Mode::Proportional => {
                let own = Threshold::from_probability(ratio, precision).unwrap_or(Threshold::NEVER);
                Sampler::Proportional {
                    ratio,
                    precision,
                    own,
                    fresh: fresh(own),
                }
            }
            Mode::HashSeed => {
                let scaled = (percentage * (16384.0f32 / 100.0)) as u32;
                if scaled == 0 {
                    return Sampler::Never;
                }
                Sampler::Hash {
                    seed,
                    threshold: Threshold(u64::from(16384 - scaled) << 42),
                }
            }
        }
    }

    /// Decide on one span. A kept span whose tracestate the collector would write is written
    /// to `out` (`Decision::rewritten`).
    #[inline]
    pub fn decide(&self, span: &SpanInput<'_>, fail_closed: bool, out: &mut String) -> Decision {
        let zero_id = *span.trace_id == [0; 16];
        // Most spans: no tracestate, no priority, a trace id. A consistent mode's decision is
        // then its own threshold against the trace id, and the tracestate it writes the same
        // for every kept span (what the general path below writes, worked out once).
        if span.trace_state.is_empty()
            && span.priority == Priority::Defer
            && !zero_id
            && let Some((threshold, fresh)) = self.fresh()
        {
            let keep = threshold.keeps(Randomness::from_trace_id(span.trace_id));
            if keep {
                out.push_str(fresh);
            }
            return Decision {
                keep,
                error: None,
                rewritten: keep,
            };
        }
        self.decide_in_general(span, zero_id, fail_closed, out)
    }

    /// For a consistent mode: the threshold a span that arrives without tracestate or priority
    /// is sampled with, and the tracestate it is kept with.
    pub fn fresh(&self) -> Option<(Threshold, &str)> {
        match self {
            Sampler::Equalizing { threshold, fresh } => Some((*threshold, fresh)),
            Sampler::Proportional { own, fresh, .. } => Some((*own, fresh)),
            Sampler::Hash { .. } | Sampler::Never => None,
        }
    }

    /// [`Sampler::decide`] for any span.
    #[inline(never)]
    fn decide_in_general(
        &self,
        span: &SpanInput<'_>,
        zero_id: bool,
        fail_closed: bool,
        out: &mut String,
    ) -> Decision {
        // The randomness (`None`: missing), the tracestate to write back, and an early error.
        let (randomness, mut carrier, mut error) = match self {
            Sampler::Hash { seed, .. } => {
                let randomness = (!zero_id).then(|| hash_randomness(fnv1a(*seed, span.trace_id)));
                let (mut state, read) = TraceState::parse(span.trace_state);
                if read.is_err() {
                    (randomness, None, Some(SpanError::Tracestate))
                } else if state.ot.rv.is_some() {
                    (randomness, None, Some(SpanError::RandomnessInUse))
                } else if state.ot.th.is_some() {
                    (randomness, None, Some(SpanError::ThresholdInUse))
                } else {
                    state.ot.rv = Some(Text::Set(randomness.unwrap_or(Randomness::ALL)));
                    (randomness, Some(state), None)
                }
            }
            Sampler::Equalizing { .. } | Sampler::Proportional { .. } => {
                let (state, read) = TraceState::parse(span.trace_state);
                if read.is_err() {
                    (None, None, Some(SpanError::Tracestate))
                } else {
                    let randomness = match state.ot.rv {
                        Some(rv) => Some(rv.value()),
                        None => (!zero_id).then(|| Randomness::from_trace_id(span.trace_id)),
                    };
                    (randomness, Some(state), None)
                }
            }
            // The collector keeps what it read of a bad tracestate here, and writes it back
            // if priority keeps the span.
            Sampler::Never => {
                let (state, read) = TraceState::parse(span.trace_state);
                (
                    Some(Randomness::ALL),
                    Some(state),
                    read.err().map(|_| SpanError::Tracestate),
                )
            }
        };
        if error.is_none() {
            match (randomness, carrier.as_mut()) {
                (None, _) => error = Some(SpanError::MissingRandomness),
                (Some(r), Some(state)) => {
                    if state.ot.th.is_some_and(|th| !th.value().keeps(r)) {
                        state.ot.th = None;
                        error = Some(SpanError::InconsistentThreshold);
                    }
                }
                (Some(_), None) => {}
            }
        }
        let threshold = match (error, span.priority) {
            (_, Priority::Keep) => Threshold::ALWAYS,
            (_, Priority::Drop) => Threshold::NEVER,
            (Some(_), Priority::Defer) if fail_closed => Threshold::NEVER,
            (Some(_), Priority::Defer) => Threshold::ALWAYS,
            (None, Priority::Defer) => self.threshold(carrier.as_ref()),
        };
        let keep = threshold.keeps(randomness.unwrap_or(Randomness::ALL));
        let mut rewritten = false;
        if let (true, Some(mut state)) = (keep, carrier) {
            // A threshold may only rise: a span sampled at a lower probability keeps its `th`.
            let lower = state.ot.th.is_some_and(|th| th.value() > threshold);
            if !lower {
                state.ot.th = Some(Text::Set(threshold));
            }
            state.write(out);
            rewritten = true;
        }
        Decision {
            keep,
            error,
            rewritten,
        }
    }

    /// The mode's threshold for a span whose tracestate is `carrier`.
    fn threshold(&self, carrier: Option<&TraceState<'_>>) -> Threshold {
        let arriving = carrier.and_then(|state| state.ot.th).map(|th| th.value());
        match self {
            Sampler::Never => Threshold::NEVER,
            Sampler::Hash { threshold, .. } => *threshold,
            Sampler::Equalizing { threshold, .. } => match arriving {
                Some(arriving) if *threshold < arriving => arriving,
                _ => *threshold,
            },
            Sampler::Proportional {
                ratio,
                precision,
                own,
                ..
            } => match arriving {
                None => *own,
                Some(arriving) => {
                    Threshold::from_probability(arriving.probability() * ratio, *precision)
                        .unwrap_or(Threshold::NEVER)
                }
            },
        }
    }
}
