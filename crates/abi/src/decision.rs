//! A tail sampler's verdicts: [`TraceDecision`] on one trace (WIT `trace-decision`, 0.1.4),
//! [`TraceDecisions`] on many, as columns (WIT `trace-decisions`, 0.1.5).

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

/// A tail sampler's verdicts on complete traces, one entry per trace in each of `probability`
/// and `policy`, with each policy name held once. Build it with [`TraceDecisions::keep`] and
/// [`TraceDecisions::drop`]; read it with [`TraceDecisions::get`] or [`TraceDecisions::iter`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceDecisions {
    /// For each trace: 0 drops it; otherwise the probability it was kept with, in (0, 1].
    pub probability: Vec<f64>,
    /// For each trace, what decided it: an index into `policies`.
    pub policy: Vec<u32>,
    /// The names `policy` points at.
    pub policies: Vec<String>,
}

/// One entry of [`TraceDecisions`], borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decided<'a> {
    /// Export every span of the trace (`true`) or drop them all.
    pub keep: bool,
    /// For a kept trace, the probability it was kept with; 0 for a dropped one.
    pub probability: f64,
    /// What decided, or empty.
    pub policy: &'a str,
}

impl Decided<'_> {
    /// The same verdict, owned.
    pub fn to_owned(&self) -> TraceDecision {
        TraceDecision {
            keep: self.keep,
            probability: self.probability,
            policy: self.policy.to_owned(),
        }
    }
}

impl TraceDecisions {
    /// Room for `traces` verdicts.
    pub fn with_capacity(traces: usize) -> Self {
        Self {
            probability: Vec::with_capacity(traces),
            policy: Vec::with_capacity(traces),
            policies: Vec::new(),
        }
    }

    /// Keep the next trace, kept with `probability` (in (0, 1]), by `policy`. A probability
    /// of 0 would read as a drop: it is recorded as NaN, which the host refuses as it refuses
    /// any probability outside (0, 1] for a kept trace.
    pub fn keep(&mut self, probability: f64, policy: &str) {
        let probability = if probability == 0.0 {
            f64::NAN
        } else {
            probability
        };
        self.record(probability, policy);
    }

    /// Drop the next trace, by `policy`.
    pub fn drop(&mut self, policy: &str) {
        self.record(0.0, policy);
    }

    /// Add `decided` as the next trace's verdict.
    pub fn push(&mut self, decided: Decided<'_>) {
        match decided.keep {
            true => self.keep(decided.probability, decided.policy),
            false => self.drop(decided.policy),
        }
    }

    /// Add `decision` as the next trace's verdict.
    pub fn push_decision(&mut self, decision: &TraceDecision) {
        match decision.keep {
            true => self.keep(decision.probability, &decision.policy),
            false => self.drop(&decision.policy),
        }
    }

    /// How many verdicts.
    pub fn len(&self) -> usize {
        self.probability.len()
    }

    /// Whether there is no verdict.
    pub fn is_empty(&self) -> bool {
        self.probability.is_empty()
    }

    /// The verdict on trace `index`; a policy index past `policies` reads as the empty name.
    pub fn get(&self, index: usize) -> Option<Decided<'_>> {
        let probability = *self.probability.get(index)?;
        let policy = self
            .policy
            .get(index)
            .and_then(|&at| self.policies.get(at as usize))
            .map_or("", String::as_str);
        Some(Decided {
            keep: probability != 0.0,
            probability,
            policy,
        })
    }

    /// Every verdict, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Decided<'_>> + '_ {
        (0..self.len()).map(|index| self.get(index).expect("index below len"))
    }

    /// Check the answer for `traces` traces: one probability and one policy per trace, each
    /// probability in [0, 1], each policy index pointing into `policies`.
    pub fn check(&self, traces: usize) -> Result<(), String> {
        if self.probability.len() != traces || self.policy.len() != traces {
            return Err(format!(
                "the sampler gave {} probabilities and {} policies for {traces} traces",
                self.probability.len(),
                self.policy.len()
            ));
        }
        if let Some((index, p)) = self
            .probability
            .iter()
            .enumerate()
            .find(|(_, p)| !(0.0..=1.0).contains(*p))
        {
            return Err(format!(
                "the sampler kept trace {index} with probability {p}, outside (0, 1]"
            ));
        }
        if let Some((index, at)) = self
            .policy
            .iter()
            .enumerate()
            .find(|(_, at)| **at as usize >= self.policies.len())
        {
            return Err(format!(
                "the sampler named policy {at} for trace {index}, of {} policies",
                self.policies.len()
            ));
        }
        Ok(())
    }

    fn record(&mut self, probability: f64, policy: &str) {
        let at = self.index_of(policy);
        self.probability.push(probability);
        self.policy.push(at);
    }

    /// The index of `name` in `policies`, added if new. The last index used is tried first
    /// (verdicts in a row often share their policy), then every name in turn: a sampler names
    /// a handful of policies, not one per trace.
    fn index_of(&mut self, name: &str) -> u32 {
        if let Some(&last) = self.policy.last()
            && self
                .policies
                .get(last as usize)
                .is_some_and(|p| same(p, name))
        {
            return last;
        }
        match self.policies.iter().position(|p| same(p, name)) {
            Some(at) => at as u32,
            None => {
                self.policies.push(name.to_owned());
                (self.policies.len() - 1) as u32
            }
        }
    }
}

/// `a == b`, for the short names policies have, as at most two compares of 8 bytes (or 4, or
/// single bytes): `==` on strings calls `memcmp`, a byte loop in WebAssembly and a call per
/// verdict. Longer names compare as `==` does.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8"));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4"));
    match n {
        17.. => a == b,
        8.. => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4.. => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => (0..n).all(|i| a[i] == b[i]),
    }
}

impl From<Vec<TraceDecision>> for TraceDecisions {
    fn from(decisions: Vec<TraceDecision>) -> Self {
        let mut columns = Self::with_capacity(decisions.len());
        for decision in &decisions {
            columns.push_decision(decision);
        }
        columns
    }
}

impl FromIterator<TraceDecision> for TraceDecisions {
    fn from_iter<I: IntoIterator<Item = TraceDecision>>(decisions: I) -> Self {
        let mut columns = Self::default();
        for decision in decisions {
            columns.push_decision(&decision);
        }
        columns
    }
}

#[cfg(test)]
mod tests {
    use super::{TraceDecision, TraceDecisions, same};

    #[test]
    fn names_compare_as_strings_do() {
        let names: Vec<String> = (0..=24)
            .flat_map(|n| {
                let base = "abcdefghijklmnopqrstuvwxy"[..n].to_owned();
                // The name itself and, for each position, one byte changed there.
                let changed = (0..n).map(move |i| {
                    let mut bytes = base.clone().into_bytes();
                    bytes[i] = b'Z';
                    String::from_utf8(bytes).unwrap()
                });
                std::iter::once("abcdefghijklmnopqrstuvwxy"[..n].to_owned()).chain(changed)
            })
            .collect();
        for a in &names {
            for b in &names {
                assert_eq!(same(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn names_are_held_once_and_verdicts_read_back() {
        let mut decisions = TraceDecisions::default();
        decisions.keep(1.0, "errors");
        decisions.drop("");
        decisions.keep(0.3, "slow");
        decisions.keep(1.0, "errors");
        decisions.drop("");
        assert_eq!(decisions.policies, ["errors", "", "slow"]);
        assert_eq!(decisions.policy, [0, 1, 2, 0, 1]);
        assert_eq!(decisions.check(5), Ok(()));
        let owned: Vec<TraceDecision> = decisions.iter().map(|d| d.to_owned()).collect();
        assert_eq!(
            owned,
            [
                TraceDecision::keep(1.0, "errors"),
                TraceDecision::drop(""),
                TraceDecision::keep(0.3, "slow"),
                TraceDecision::keep(1.0, "errors"),
                TraceDecision::drop(""),
            ]
        );
        assert_eq!(TraceDecisions::from(owned.clone()), decisions);
        assert_eq!(owned.into_iter().collect::<TraceDecisions>(), decisions);
    }

    #[test]
    fn a_bad_answer_is_named() {
        let mut decisions = TraceDecisions::default();
        decisions.keep(0.5, "a");
        assert!(
            decisions
                .check(2)
                .unwrap_err()
                .contains("1 probabilities and 1 policies for 2")
        );
        decisions.keep(0.0, "a");
        // Kept with 0 is not a drop: it stays a kept trace, which the check refuses.
        assert!(decisions.get(1).unwrap().keep);
        assert_eq!(
            decisions.check(2).unwrap_err(),
            "the sampler kept trace 1 with probability NaN, outside (0, 1]"
        );
        let mut decisions = TraceDecisions::default();
        decisions.keep(1.5, "a");
        assert!(decisions.check(1).unwrap_err().contains("probability 1.5"));
        let pointing_past = TraceDecisions {
            probability: vec![1.0],
            policy: vec![3],
            policies: vec!["a".into()],
        };
        assert_eq!(
            pointing_past.check(1).unwrap_err(),
            "the sampler named policy 3 for trace 0, of 1 policies"
        );
        assert_eq!(pointing_past.get(0).unwrap().policy, "");
    }
}
