//! Applying a sampler's decisions to the batch of due traces: the spans of dropped traces go,
//! and each kept span gets the threshold of the probability its trace was kept with written into
//! its tracestate (`ot=th:`, the other entries kept as the collector keeps them) unless it
//! arrived with a higher one (thresholds of consistent samplers in a row only rise) and, with
//! `record_policy`, the policy that decided as its `sampling.policy` attribute. All of it is one
//! journal, applied whole or not at all.

use super::buffer::Due;
use spanwise_abi::{Level, StrColumn, StrField, TraceDecisions};
use spanwise_batch::{Batch, Journal};
use spanwise_sampling::{Text, Threshold, TraceState};

/// The span attribute that names the policy that kept a trace, with `record_policy`.
pub const POLICY_ATTRIBUTE: &str = "sampling.policy";

/// Hex digits of the thresholds written, as the collector's samplers write by default.
pub const THRESHOLD_PRECISION: u32 = 4;

/// What applying the decisions did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Traces kept.
    pub traces_kept: u64,
    /// Traces dropped.
    pub traces_dropped: u64,
    /// Spans dropped with their traces.
    pub spans_dropped: u64,
    /// Kept spans whose tracestate could not be read, left as it was (no `th` written).
    pub unreadable_tracestates: u64,
}

/// Apply `decisions` (one per trace of `due`) to `due.batch`. An answer that fails
/// [`TraceDecisions::check`] (a kept trace's probability outside (0, 1], say) is refused whole,
/// and nothing is applied.
pub fn apply(
    due: &mut Due,
    decisions: &TraceDecisions,
    record_policy: bool,
) -> Result<Outcome, String> {
    decisions.check(due.traces.len())?;
    let mut outcome = Outcome::default();
    let states = due.batch.str_field(StrField::TraceState);
    let mut dropped = Vec::new();
    let (mut state_rows, mut states_out) = (Vec::new(), StrColumn::default());
    let (mut policy_rows, mut policies) = (Vec::new(), StrColumn::default());
    let mut text = String::new();
    for (rows, decision) in due.traces.iter().zip(decisions.iter()) {
        if !decision.keep {
            outcome.traces_dropped += 1;
            outcome.spans_dropped += rows.len() as u64;
            dropped.extend_from_slice(rows);
            continue;
        }
        let p = decision.probability;
        let threshold =
            Threshold::from_probability(p, THRESHOLD_PRECISION).unwrap_or(Threshold::ALWAYS);
        outcome.traces_kept += 1;
        for &row in rows {
            let (mut state, read) = TraceState::parse(states.get(row as usize).unwrap_or(""));
            if read.is_err() {
                outcome.unreadable_tracestates += 1;
            } else {
                // A threshold only rises: a span that arrived sampled at a lower probability
                // than its trace was kept with (a sibling of an error span that a head sampler
                // kept at every rate) was kept with that lower probability.
                let arrived = state.ot.th.map(|th| th.value());
                if arrived.is_none_or(|arrived| arrived < threshold) {
                    state.ot.th = Some(Text::Set(threshold));
                }
                text.clear();
                state.write(&mut text);
                state_rows.push(row);
                states_out.push(Some(&text));
            }
            if record_policy && !decision.policy.is_empty() {
                policy_rows.push(row);
                policies.push(Some(decision.policy));
            }
        }
    }
    let mut journal = Journal::new(&due.batch, usize::MAX);
    let recorded = (|| {
        if !state_rows.is_empty() {
            journal.set_str_field(StrField::TraceState, state_rows, states_out)?;
        }
        if !policy_rows.is_empty() {
            journal.set_str_attribute(Level::Span, POLICY_ATTRIBUTE, policy_rows, policies)?;
        }
        if !dropped.is_empty() {
            dropped.sort_unstable();
            journal.drop_spans(dropped)?;
        }
        Ok::<_, spanwise_batch::EditError>(())
    })();
    recorded.map_err(|e| format!("cannot apply the decisions: {e}"))?;
    due.batch
        .apply(journal)
        .map_err(|e| format!("cannot apply the decisions: {e}"))?;
    Ok(outcome)
}

/// Keep every trace of `due` as it is: what `on_error: pass` does when the sampler fails.
pub fn keep_all(due: &Due) -> Outcome {
    Outcome {
        traces_kept: due.traces.len() as u64,
        ..Outcome::default()
    }
}

/// Drop every trace of `due`: what `on_error: drop` does when the sampler fails.
pub fn drop_all(due: &mut Due) -> Outcome {
    let outcome = Outcome {
        traces_dropped: due.traces.len() as u64,
        spans_dropped: due.batch.len() as u64,
        ..Outcome::default()
    };
    due.batch = Batch::default();
    outcome
}
