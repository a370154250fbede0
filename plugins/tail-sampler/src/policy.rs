//! The collector's policies (`tail_sampling`, contrib v0.161.0), built from their config and
//! evaluated on one trace with the collector's meaning, including its corners: an attribute of
//! another type reads as that type's zero, an empty string span attribute never matches, the
//! `latency` policy checks the duration of each prefix of the trace's spans, and an inverted
//! match needs every resource and every span to pass.

use crate::config::PolicyCfg;
use crate::limiter::{Clock, TokenBucket};
use crate::traces::{Kind, Needs, Read, Trace, status_bit};
use regex::Regex;
use spanwise_sdk::ConfigError;
use std::collections::HashSet;

/// The salt of `probabilistic` when none is configured.
pub const DEFAULT_HASH_SALT: &str = "default-hash-seed";

/// A policy's verdict on one trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Keep it, with this probability (1 unless the policy samples by chance).
    Sampled(f64),
    /// This policy does not keep it.
    NotSampled,
    /// Drop it whatever the other policies say (`drop`).
    Dropped,
}

/// A built policy.
#[derive(Debug)]
pub enum Policy {
    /// `always_sample`.
    Always,
    /// `latency`: `threshold_ms` and `upper_threshold_ms` (0 means none), each as the
    /// longest duration in nanoseconds that is still at most that many whole milliseconds
    /// (`ms_bound`), so no span's duration needs dividing.
    Latency {
        /// Longer than this many milliseconds: more nanoseconds than this.
        lower: i128,
        /// At most this many milliseconds (`None` for 0): at most this many nanoseconds.
        upper: Option<i128>,
    },
    /// `numeric_attribute`.
    Numeric {
        /// The attribute's slot.
        slot: usize,
        /// The least value.
        min: i64,
        /// The greatest value.
        max: i64,
        /// `invert_match`.
        invert: bool,
    },
    /// `probabilistic`.
    Probabilistic {
        /// Hashed before the trace id.
        salt: Vec<u8>,
        /// Keep iff the hash is at most this.
        threshold: u64,
        /// The configured ratio, as reported for kept traces.
        probability: f64,
    },
    /// `status_code`: codes as numbers (0 unset, 1 ok, 2 error).
    StatusCode(Vec<u8>),
    /// `string_attribute`.
    Str {
        /// The attribute's slot.
        slot: usize,
        /// Exact values or expressions.
        matcher: Matcher,
        /// `invert_match`.
        invert: bool,
    },
    /// `rate_limiting`.
    RateLimiting(TokenBucket),
    /// `span_count`; `max` 0 means none.
    SpanCount {
        /// The fewest spans.
        min: i64,
        /// The most, if not 0.
        max: i64,
    },
    /// `trace_state`.
    TraceState {
        /// The tracestate key.
        key: String,
        /// The values that match.
        values: HashSet<String>,
    },
    /// `boolean_attribute`.
    Bool {
        /// The attribute's slot.
        slot: usize,
        /// The value.
        value: bool,
        /// `invert_match`.
        invert: bool,
    },
    /// `trace_flags`: a span with the sampled flag.
    TraceFlags,
    /// `composite`.
    Composite(Composite),
    /// `and`.
    And(Vec<Policy>),
    /// `not`.
    Not(Box<Policy>),
    /// `drop`.
    Drop(Vec<Policy>),
}

/// How `string_attribute` compares values.
#[derive(Debug)]
pub enum Matcher {
    /// Equal to one of these, compared one by one (a short list; empty values are ignored, as
    /// the collector ignores them).
    Few(Vec<String>),
    /// Equal to one of these (a long list).
    Exact(HashSet<String>),
    /// Matched (anywhere in the value) by one of these.
    Regex(Vec<Regex>),
}

impl Matcher {
    fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Few(values) => values.iter().any(|v| v == value),
            Matcher::Exact(values) => values.contains(value),
            Matcher::Regex(list) => list.iter().any(|r| r.is_match(value)),
        }
    }
}

/// `composite`: sub-policies in order, each with its share of a spans-per-second budget.
#[derive(Debug)]
pub struct Composite {
    max_total: i64,
    /// Sub-policy, its allocation (spans per second) and what it sampled this second.
    subs: Vec<(Policy, i64, i64)>,
    second: Option<u64>,
    clock: Clock,
}

/// Where the policy sits: what its type may be depends on it, as in the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Top,
    CompositeSub,
    AndSub,
    NotSub,
}

/// Build `cfg` at `field` (`policies[2]`), adding what it reads to `needs`.
pub fn build(
    cfg: &PolicyCfg,
    field: &str,
    needs: &mut Needs,
    clock: &Clock,
) -> Result<Policy, ConfigError> {
    build_at(cfg, field, Place::Top, needs, clock)
}

fn build_at(
    cfg: &PolicyCfg,
    field: &str,
    place: Place,
    needs: &mut Needs,
    clock: &Clock,
) -> Result<Policy, ConfigError> {
    let error = |sub: &str, message: String| {
        let at = if sub.is_empty() {
            field.to_owned()
        } else {
            format!("{field}.{sub}")
        };
        ConfigError::new(at, message)
    };
    let allowed = match place {
        Place::Top => true,
        Place::CompositeSub => !matches!(cfg.kind.as_str(), "composite" | "not" | "drop"),
        Place::AndSub => !matches!(cfg.kind.as_str(), "composite" | "and" | "drop"),
        Place::NotSub => !matches!(cfg.kind.as_str(), "composite" | "and" | "not" | "drop"),
    };
    if !allowed {
        return Err(error(
            "type",
            format!("a `{}` policy cannot be nested here", cfg.kind),
        ));
    }
    let block = |name: &str| {
        error(
            name,
            format!("the `{name}` policy needs its `{name}` block"),
        )
    };
    Ok(match cfg.kind.as_str() {
        "always_sample" => Policy::Always,
        "latency" => {
            let c = cfg.latency.clone().unwrap_or_default();
            if c.upper_threshold_ms != 0 && c.upper_threshold_ms < c.threshold_ms {
                return Err(error(
                    "latency.upper_threshold_ms",
                    format!(
                        "upper_threshold_ms ({}) is below threshold_ms ({})",
                        c.upper_threshold_ms, c.threshold_ms
                    ),
                ));
            }
            Policy::Latency {
                lower: ms_bound(c.threshold_ms),
                upper: (c.upper_threshold_ms != 0).then(|| ms_bound(c.upper_threshold_ms)),
            }
        }
        "numeric_attribute" => {
            let c = cfg
                .numeric_attribute
                .as_ref()
                .ok_or_else(|| block("numeric_attribute"))?;
            if c.min_value == 0 && c.max_value == 0 {
                return Err(error(
                    "numeric_attribute",
                    "set min_value or max_value (0 means unset, as in the collector)".into(),
                ));
            }
            let min = if c.min_value == 0 {
                i64::MIN
            } else {
                c.min_value
            };
            let max = if c.max_value == 0 {
                i64::MAX
            } else {
                c.max_value
            };
            let zero = min <= 0 && 0 <= max;
            Policy::Numeric {
                slot: needs.slot(&c.key, Kind::Int, [zero, zero]),
                min,
                max,
                invert: c.invert_match,
            }
        }
        "probabilistic" => {
            let c = cfg.probabilistic.clone().unwrap_or_default();
            let pct = c.sampling_percentage;
            if !pct.is_finite() || pct < 0.0 {
                return Err(error(
                    "probabilistic.sampling_percentage",
                    format!("sampling_percentage must be between 0 and 100, not {pct}"),
                ));
            }
            let salt = if c.hash_salt.is_empty() {
                DEFAULT_HASH_SALT.to_owned()
            } else {
                c.hash_salt
            };
            let ratio = pct / 100.0;
            Policy::Probabilistic {
                salt: salt.into_bytes(),
                threshold: hash_threshold(ratio),
                probability: ratio.clamp(spanwise_sampling::threshold::MIN_PROBABILITY, 1.0),
            }
        }
        "status_code" => {
            let c = cfg
                .status_code
                .as_ref()
                .ok_or_else(|| block("status_code"))?;
            Policy::StatusCode(status_codes(&c.status_codes).map_err(|m| error("status_code", m))?)
        }
        "string_attribute" => {
            let c = cfg
                .string_attribute
                .as_ref()
                .ok_or_else(|| block("string_attribute"))?;
            let matcher = matcher(&c.values, c.enabled_regex_matching)
                .map_err(|m| error("string_attribute.values", m))?;
            // An empty span value never matches; a resource value of another type reads as "".
            let empty = matcher.matches("");
            Policy::Str {
                slot: needs.slot(&c.key, Kind::Str, [false, empty]),
                matcher,
                invert: c.invert_match,
            }
        }
        "rate_limiting" => {
            let c = cfg
                .rate_limiting
                .as_ref()
                .ok_or_else(|| block("rate_limiting"))?;
            if c.spans_per_second <= 0 {
                return Err(error(
                    "rate_limiting.spans_per_second",
                    "spans_per_second must be above 0".into(),
                ));
            }
            let burst = if c.burst_capacity > 0 {
                c.burst_capacity
            } else {
                c.spans_per_second * 2
            };
            Policy::RateLimiting(TokenBucket::new(c.spans_per_second, burst, clock.clone()))
        }
        "span_count" => {
            let c = cfg.span_count.clone().unwrap_or_default();
            if c.max_spans != 0 && c.max_spans < c.min_spans {
                return Err(error(
                    "span_count.max_spans",
                    format!(
                        "max_spans ({}) is below min_spans ({})",
                        c.max_spans, c.min_spans
                    ),
                ));
            }
            Policy::SpanCount {
                min: i64::from(c.min_spans),
                max: i64::from(c.max_spans),
            }
        }
        "trace_state" => {
            let c = cfg
                .trace_state
                .as_ref()
                .ok_or_else(|| block("trace_state"))?;
            Policy::TraceState {
                key: c.key.clone(),
                values: c
                    .values
                    .iter()
                    .filter(|v| !v.is_empty() && c.key.len() + v.len() < 256)
                    .cloned()
                    .collect(),
            }
        }
        "boolean_attribute" => {
            let c = cfg
                .boolean_attribute
                .as_ref()
                .ok_or_else(|| block("boolean_attribute"))?;
            Policy::Bool {
                slot: needs.slot(&c.key, Kind::Bool, [!c.value, !c.value]),
                value: c.value,
                invert: c.invert_match,
            }
        }
        "trace_flags" => {
            needs.flags = true;
            Policy::TraceFlags
        }
        "composite" => {
            let c = cfg.composite.as_ref().ok_or_else(|| block("composite"))?;
            let total = c.max_total_spans_per_second as f64;
            let share = total / c.composite_sub_policy.len().max(1) as f64;
            let mut subs = Vec::new();
            for (i, sub) in c.composite_sub_policy.iter().enumerate() {
                let at = format!("{field}.composite.composite_sub_policy[{i}]");
                let policy = build_at(sub, &at, Place::CompositeSub, needs, clock)?;
                // The last allocation naming the sub-policy counts, if its percent is above
                // 0; the budget is truncated to whole spans, as the collector truncates it.
                let allocation = match c
                    .rate_allocation
                    .iter()
                    .rev()
                    .find(|a| a.policy == sub.name)
                {
                    Some(a) if a.percent > 0 => a.percent as f64 / 100.0 * total,
                    _ => share,
                };
                subs.push((policy, allocation as i64, 0));
            }
            Policy::Composite(Composite {
                max_total: c.max_total_spans_per_second,
                subs,
                second: None,
                clock: clock.clone(),
            })
        }
        "and" => {
            let c = cfg.and.as_ref().ok_or_else(|| block("and"))?;
            Policy::And(subs(
                &c.and_sub_policy,
                field,
                "and.and_sub_policy",
                Place::AndSub,
                needs,
                clock,
            )?)
        }
        "not" => {
            let c = cfg.not.as_ref().ok_or_else(|| block("not"))?;
            let at = format!("{field}.not.not_sub_policy");
            Policy::Not(Box::new(build_at(
                &c.not_sub_policy,
                &at,
                Place::NotSub,
                needs,
                clock,
            )?))
        }
        "drop" => {
            let c = cfg.drop.as_ref().ok_or_else(|| block("drop"))?;
            Policy::Drop(subs(
                &c.drop_sub_policy,
                field,
                "drop.drop_sub_policy",
                Place::AndSub,
                needs,
                clock,
            )?)
        }
        "bytes_limiting" | "ottl_condition" => {
            return Err(error(
                "type",
                format!(
                    "the `{}` policy is not supported by this sampler (use the filter plugin for OTTL conditions)",
                    cfg.kind
                ),
            ));
        }
        other => {
            return Err(error(
                "type",
                format!(
                    "unknown policy type {other:?}; expected one of always_sample, latency, \
                     numeric_attribute, probabilistic, status_code, string_attribute, \
                     rate_limiting, span_count, trace_state, boolean_attribute, trace_flags, \
                     composite, and, not, drop"
                ),
            ));
        }
    })
}

fn subs(
    list: &[PolicyCfg],
    field: &str,
    key: &str,
    place: Place,
    needs: &mut Needs,
    clock: &Clock,
) -> Result<Vec<Policy>, ConfigError> {
    list.iter()
        .enumerate()
        .map(|(i, sub)| build_at(sub, &format!("{field}.{key}[{i}]"), place, needs, clock))
        .collect()
}

/// Status code names as numbers, with the collector's messages.
pub fn status_codes(names: &[String]) -> Result<Vec<u8>, String> {
    if names.is_empty() {
        return Err("expected at least one status code to filter on".into());
    }
    names
        .iter()
        .map(|name| match name.as_str() {
            "UNSET" => Ok(0),
            "OK" => Ok(1),
            "ERROR" => Ok(2),
            other => Err(format!(
                "unknown status code {other:?}, supported: OK, ERROR, UNSET"
            )),
        })
        .collect()
}

/// `string_attribute`'s matcher.
pub fn matcher(values: &[String], regex: bool) -> Result<Matcher, String> {
    if regex {
        values
            .iter()
            .map(|v| spanwise_goregex::compile(v).map_err(|e| format!("invalid regex `{v}`: {e}")))
            .collect::<Result<_, _>>()
            .map(Matcher::Regex)
    } else {
        let values: Vec<String> = values.iter().filter(|v| !v.is_empty()).cloned().collect();
        // A few comparisons (most fail on the length) beat hashing the value.
        Ok(if values.len() <= 8 {
            Matcher::Few(values)
        } else {
            Matcher::Exact(values.into_iter().collect())
        })
    }
}

/// `2^64 - 1` times `ratio`, rounded to 64 significant bits (to nearest, ties to even) and then
/// truncated to an integer, saturating: what the collector computes with `big.Float`.
pub fn hash_threshold(ratio: f64) -> u64 {
    if ratio.is_nan() || ratio <= 0.0 {
        return 0;
    }
    if ratio >= 1.0 {
        return u64::MAX;
    }
    // ratio = mantissa * 2^exponent, exactly.
    let bits = ratio.to_bits();
    let raw_exponent = ((bits >> 52) & 0x7FF) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exponent) = if raw_exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), raw_exponent - 1075)
    };
    let product = u128::from(mantissa) * u128::from(u64::MAX);
    let width = 128 - product.leading_zeros() as i32;
    let (rounded, shift) = if width > 64 {
        let drop = (width - 64) as u32;
        let kept = product >> drop;
        let rest = product & ((1u128 << drop) - 1);
        let half = 1u128 << (drop - 1);
        let up = rest > half || (rest == half && kept & 1 == 1);
        (kept + u128::from(up), exponent + drop as i32)
    } else {
        (product, exponent)
    };
    let value = if shift >= 0 {
        rounded.checked_shl(shift as u32).unwrap_or(u128::MAX)
    } else if shift <= -128 {
        0
    } else {
        rounded >> (-shift) as u32
    };
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// 64-bit FNV-1a over the salt and then the trace id, as the collector hashes.
pub fn hash_trace_id(salt: &[u8], id: &[u8; 16]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    salt.iter().chain(id.iter()).fold(OFFSET, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

impl Policy {
    /// Whether this is a `drop` policy (the collector evaluates them first).
    pub fn is_drop(&self) -> bool {
        matches!(self, Policy::Drop(_))
    }

    /// The verdict on `trace`. Stateful policies (`rate_limiting`, `composite`) spend their
    /// budget here.
    pub fn evaluate(&mut self, trace: &Trace<'_>) -> Verdict {
        let sampled = |hit: bool| {
            if hit {
                Verdict::Sampled(1.0)
            } else {
                Verdict::NotSampled
            }
        };
        match self {
            Policy::Always => Verdict::Sampled(1.0),
            Policy::Latency { lower, upper } => sampled(latency(trace, *lower, *upper)),
            Policy::Numeric {
                slot,
                min,
                max,
                invert,
            } => {
                let hit = |v: Option<Read<'_>>| match v {
                    Some(Read::Int(n)) => n >= *min && n <= *max,
                    Some(_) => 0 >= *min && 0 <= *max,
                    None => false,
                };
                sampled(any_or_all(trace, *slot, *invert, hit, hit))
            }
            Policy::Probabilistic {
                salt,
                threshold,
                probability,
            } => sampled(hash_trace_id(salt, &trace.trace_id()) <= *threshold)
                .with_probability(*probability),
            Policy::StatusCode(codes) => {
                let wanted = codes.iter().fold(0, |set, &c| set | status_bit(c));
                sampled(trace.summary().status & wanted != 0)
            }
            Policy::Str {
                slot,
                matcher,
                invert,
            } => {
                let resource = |v: Option<Read<'_>>| text(v).is_some_and(|s| matcher.matches(s));
                // An empty string span attribute is skipped, as the collector skips it.
                let span = |v: Option<Read<'_>>| {
                    text(v).is_some_and(|s| !s.is_empty() && matcher.matches(s))
                };
                sampled(any_or_all(trace, *slot, *invert, resource, span))
            }
            Policy::RateLimiting(bucket) => sampled(bucket.allow(trace.span_count())),
            Policy::SpanCount { min, max } => {
                let n = trace.span_count();
                sampled(n >= *min && (*max == 0 || n <= *max))
            }
            Policy::TraceState { key, values } => sampled(
                trace
                    .tracestates()
                    .any(|state| tracestate_value(state, key).is_some_and(|v| values.contains(v))),
            ),
            Policy::Bool {
                slot,
                value,
                invert,
            } => {
                let hit = |v: Option<Read<'_>>| match v {
                    Some(Read::Bool(b)) => b == *value,
                    Some(_) => !*value,
                    None => false,
                };
                sampled(any_or_all(trace, *slot, *invert, hit, hit))
            }
            Policy::TraceFlags => sampled(trace.flags().any(|f| f & 1 != 0)),
            Policy::Composite(composite) => composite.evaluate(trace),
            Policy::And(subs) => {
                let mut probability = 1.0f64;
                for sub in subs {
                    match sub.evaluate(trace) {
                        Verdict::NotSampled => return Verdict::NotSampled,
                        Verdict::Sampled(p) => probability = probability.min(p),
                        Verdict::Dropped => {}
                    }
                }
                Verdict::Sampled(probability)
            }
            Policy::Not(sub) => match sub.evaluate(trace) {
                Verdict::Sampled(_) => Verdict::NotSampled,
                Verdict::NotSampled => Verdict::Sampled(1.0),
                Verdict::Dropped => Verdict::Dropped,
            },
            Policy::Drop(subs) => {
                for sub in subs {
                    if sub.evaluate(trace) == Verdict::NotSampled {
                        return Verdict::NotSampled;
                    }
                }
                Verdict::Dropped
            }
        }
    }
}

impl Verdict {
    fn with_probability(self, p: f64) -> Verdict {
        match self {
            Verdict::Sampled(_) => Verdict::Sampled(p),
            other => other,
        }
    }
}

impl Composite {
    fn evaluate(&mut self, trace: &Trace<'_>) -> Verdict {
        let second = self.clock.now().as_secs();
        if self.second != Some(second) {
            self.second = Some(second);
            for sub in &mut self.subs {
                sub.2 = 0;
            }
        }
        let spans = trace.span_count();
        for (policy, allocation, used) in &mut self.subs {
            if let Verdict::Sampled(_) = policy.evaluate(trace) {
                let would = *used + spans;
                if would <= *allocation && would <= self.max_total {
                    *used = would;
                    return Verdict::Sampled(1.0);
                }
                return Verdict::NotSampled;
            }
        }
        Verdict::NotSampled
    }
}

/// The `latency` policy: the duration of the spans so far (latest end minus earliest start,
/// in whole milliseconds), checked after each span, as the collector checks it. The bounds are
/// in nanoseconds ([`ms_bound`]), which gives the same answer as dividing each duration.
pub(crate) fn latency(trace: &Trace<'_>, lower: i128, upper: Option<i128>) -> bool {
    // Without an upper bound, and with plain timestamps, the whole trace's duration decides
    // (see [`latency_of`]): the trace's summary has it.
    if upper.is_none()
        && let Some((min, max)) = trace.summary().times
    {
        return i128::from(max as i64 - min as i64) > lower;
    }
    latency_of(|| trace.times(), lower, upper)
}

/// [`latency`] over the (start, end) times `times` gives, span by span.
pub(crate) fn latency_of<I: Iterator<Item = (u64, u64)>>(
    times: impl Fn() -> I,
    lower: i128,
    upper: Option<i128>,
) -> bool {
    if upper.is_none() {
        // With timestamps that are neither 0 (which the check reads as "none yet") nor past
        // `i64::MAX` (negative once converted), the earliest start only moves earlier and the
        // latest end later, span by span: the duration never shrinks, so some prefix is
        // longer than `lower` exactly when the whole trace is. One pass of `min` and `max`.
        let (mut min, mut max, mut odd, mut any) = (u64::MAX, 0u64, false, false);
        for (start, end) in times() {
            min = min.min(start);
            max = max.max(end);
            odd |= odd_times(start, end);
            any = true;
        }
        if !odd {
            return any && i128::from(max as i64 - min as i64) > lower;
        }
    }
    let (mut min, mut max) = (0u64, 0u64);
    times().any(|(start, end)| {
        if min == 0 || start < min {
            min = start;
        }
        if max == 0 || end > max {
            max = end;
        }
        // Go converts the timestamps to times and subtracts them, saturating.
        let nanos = i128::from((max as i64).saturating_sub(min as i64));
        nanos > lower && upper.is_none_or(|upper| nanos <= upper)
    })
}

/// Whether a span's start or end is 0 (which the latency check reads as "none yet") or past
/// `i64::MAX` (negative once converted): with such a timestamp the check goes span by span.
pub(crate) fn odd_times(start: u64, end: u64) -> bool {
    start.wrapping_sub(1) >= i64::MAX as u64 || end.wrapping_sub(1) >= i64::MAX as u64
}

/// The longest duration in nanoseconds whose whole milliseconds, truncated toward zero as
/// Go's `Duration.Milliseconds` truncates, are at most `ms`: `d / 1_000_000 <= ms` exactly when
/// `d <= ms_bound(ms)`, for every `i64` duration `d`.
pub(crate) fn ms_bound(ms: i64) -> i128 {
    let nanos = i128::from(ms) * 1_000_000;
    // A positive duration truncates down, so the whole next millisecond but one nanosecond
    // still counts as `ms`; a negative one truncates up, so nothing past `ms` itself does.
    if ms >= 0 { nanos + 999_999 } else { nanos }
}

/// The collector's attribute match: some resource or span matches, or, inverted, every
/// resource and every span passes (`resource`/`span` say whether one matches; an absent value
/// never does, so a level where the attribute exists on no row of the call is not read).
fn any_or_all(
    trace: &Trace<'_>,
    slot: usize,
    invert: bool,
    resource: impl Fn(Option<Read<'_>>) -> bool,
    span: impl Fn(Option<Read<'_>>) -> bool,
) -> bool {
    let (on_spans, on_resources) = trace.exists(slot);
    if invert {
        (!on_resources || trace.resource_values(slot).all(|v| !resource(v)))
            && (!on_spans || trace.span_values(slot).all(|v| !span(v)))
    } else {
        (on_resources && trace.resource_values(slot).any(resource))
            || (on_spans && trace.span_values(slot).any(span))
    }
}

/// A string attribute as `Str()` reads it: `""` for a value of another type.
fn text<'a>(value: Option<Read<'a>>) -> Option<&'a str> {
    match value {
        Some(Read::Str(s)) => Some(s),
        Some(_) => Some(""),
        None => None,
    }
}

/// The value of `key` in a W3C tracestate, or `None` when it is absent or the tracestate cannot
/// be read.
fn tracestate_value<'a>(state: &'a str, key: &str) -> Option<&'a str> {
    if state.is_empty() || spanwise_sampling::TraceState::parse(state).1.is_err() {
        return None;
    }
    state.split(',').find_map(|member| {
        let (k, v) = member.trim_matches([' ', '\t']).split_once('=')?;
        (k == key).then_some(v)
    })
}
