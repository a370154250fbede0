//! The configuration: the collector `tail_sampling` processor's `policies` (same names, same
//! keys), `sample_on_first_match`, and the platform's `rates` table.

use serde::Deserialize;

/// The tail sampler's config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The collector's policies, evaluated as the collector evaluates them. With `rates`, only
    /// `drop` policies may be given here: they run first.
    #[serde(default)]
    pub policies: Vec<PolicyCfg>,
    /// Stop at the first policy that samples the trace (the collector's key).
    #[serde(default)]
    pub sample_on_first_match: bool,
    /// Rated categories: the first whose `when` matches decides, keeping the trace with its
    /// `percentage`, consistently by trace id.
    #[serde(default)]
    pub rates: Vec<RateCfg>,
}

/// One policy, in the collector's shape: `{name, type, <type>: {...}}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyCfg {
    /// Names the policy in decisions (`sampling.policy`) and errors.
    #[serde(default)]
    pub name: String,
    /// `always_sample`, `latency`, `status_code`, ... (see `README.md`).
    #[serde(rename = "type")]
    pub kind: String,
    /// `latency` policy.
    pub latency: Option<LatencyCfg>,
    /// `numeric_attribute` policy.
    pub numeric_attribute: Option<NumericAttributeCfg>,
    /// `probabilistic` policy.
    pub probabilistic: Option<ProbabilisticCfg>,
    /// `status_code` policy.
    pub status_code: Option<StatusCodeCfg>,
    /// `string_attribute` policy.
    pub string_attribute: Option<StringAttributeCfg>,
    /// `rate_limiting` policy.
    pub rate_limiting: Option<RateLimitingCfg>,
    /// `span_count` policy.
    pub span_count: Option<SpanCountCfg>,
    /// `trace_state` policy.
    pub trace_state: Option<TraceStateCfg>,
    /// `boolean_attribute` policy.
    pub boolean_attribute: Option<BooleanAttributeCfg>,
    /// `composite` policy.
    pub composite: Option<CompositeCfg>,
    /// `and` policy.
    pub and: Option<AndCfg>,
    /// `not` policy.
    pub not: Option<NotCfg>,
    /// `drop` policy.
    pub drop: Option<DropCfg>,
}

/// `latency`: trace duration (latest end minus earliest start) in milliseconds.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyCfg {
    /// Longer than this matches.
    #[serde(default)]
    pub threshold_ms: i64,
    /// If not 0, at most this.
    #[serde(default)]
    pub upper_threshold_ms: i64,
}

/// `numeric_attribute`: an attribute of a span or resource in `[min_value, max_value]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumericAttributeCfg {
    /// The attribute.
    pub key: String,
    /// The least value (0: no least).
    #[serde(default)]
    pub min_value: i64,
    /// The greatest value (0: no greatest).
    #[serde(default)]
    pub max_value: i64,
    /// Match traces where no span or resource has the attribute in range.
    #[serde(default)]
    pub invert_match: bool,
}

/// `probabilistic`: a share of traces by a salted hash of the trace id.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbabilisticCfg {
    /// Hashed before the trace id (default `default-hash-seed`).
    #[serde(default)]
    pub hash_salt: String,
    /// Percent kept; 100 or more keeps all.
    #[serde(default)]
    pub sampling_percentage: f64,
}

/// `status_code`: a span with one of these status codes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusCodeCfg {
    /// `OK`, `ERROR`, `UNSET`.
    #[serde(default)]
    pub status_codes: Vec<String>,
}

/// `string_attribute`: a span or resource attribute equal to (or matching) one of `values`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StringAttributeCfg {
    /// The attribute.
    pub key: String,
    /// Exact values, or regular expressions with `enabled_regex_matching`.
    #[serde(default)]
    pub values: Vec<String>,
    /// Treat `values` as regular expressions (unanchored, as Go's `MatchString`).
    #[serde(default)]
    pub enabled_regex_matching: bool,
    /// Accepted for compatibility; the plugin caches nothing.
    #[serde(default)]
    pub cache_max_size: i64,
    /// Match traces where no span or resource has a matching value.
    #[serde(default)]
    pub invert_match: bool,
}

/// `rate_limiting`: keep traces while their spans fit a token bucket.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitingCfg {
    /// Tokens (spans) added per second.
    #[serde(default)]
    pub spans_per_second: i64,
    /// The bucket's size (default twice `spans_per_second`).
    #[serde(default)]
    pub burst_capacity: i64,
}

/// `span_count`: at least `min_spans` and (if not 0) at most `max_spans` spans.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpanCountCfg {
    /// The fewest spans.
    #[serde(default)]
    pub min_spans: i32,
    /// The most spans (0: no most).
    #[serde(default)]
    pub max_spans: i32,
}

/// `trace_state`: a span whose W3C tracestate has `key` with one of `values`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceStateCfg {
    /// The tracestate key.
    pub key: String,
    /// The values.
    #[serde(default)]
    pub values: Vec<String>,
}

/// `boolean_attribute`: a span or resource attribute equal to `value`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BooleanAttributeCfg {
    /// The attribute.
    pub key: String,
    /// The value.
    #[serde(default)]
    pub value: bool,
    /// Match traces where no span or resource has the value.
    #[serde(default)]
    pub invert_match: bool,
}

/// `composite`: sub-policies in order, each with a share of a spans-per-second budget.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompositeCfg {
    /// The budget of sampled spans per second, over all sub-policies.
    #[serde(default)]
    pub max_total_spans_per_second: i64,
    /// Accepted for compatibility; the order is that of `composite_sub_policy`.
    #[serde(default)]
    pub policy_order: Vec<String>,
    /// The sub-policies.
    #[serde(default)]
    pub composite_sub_policy: Vec<PolicyCfg>,
    /// Each sub-policy's percent of the budget (default: an equal share).
    #[serde(default)]
    pub rate_allocation: Vec<RateAllocationCfg>,
}

/// One sub-policy's share of a composite budget.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateAllocationCfg {
    /// The sub-policy's name.
    pub policy: String,
    /// Its percent of `max_total_spans_per_second`.
    #[serde(default)]
    pub percent: i64,
}

/// `and`: every sub-policy samples.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AndCfg {
    /// The sub-policies.
    #[serde(default)]
    pub and_sub_policy: Vec<PolicyCfg>,
}

/// `not`: the sub-policy's decision inverted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotCfg {
    /// The sub-policy.
    pub not_sub_policy: Box<PolicyCfg>,
}

/// `drop`: drop the trace when every sub-policy samples it; wins over every other policy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropCfg {
    /// The sub-policies.
    #[serde(default)]
    pub drop_sub_policy: Vec<PolicyCfg>,
}

/// One rated category.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateCfg {
    /// The category, written as `sampling.policy` with `record_policy`.
    pub name: String,
    /// What the trace must match; absent matches every trace (the default category).
    #[serde(default)]
    pub when: Option<WhenCfg>,
    /// Percent of the category's traces kept, 0 to 100.
    pub percentage: f64,
}

/// A category's condition: every matcher given must match.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhenCfg {
    /// `ERROR`, a list of codes, or `{status_codes: [...]}`.
    pub status_code: Option<StatusCodes>,
    /// As the `latency` policy.
    pub latency: Option<LatencyCfg>,
    /// As the `string_attribute` policy.
    pub string_attribute: Option<StringAttributeCfg>,
    /// As the `numeric_attribute` policy.
    pub numeric_attribute: Option<NumericAttributeCfg>,
    /// As the `boolean_attribute` policy.
    pub boolean_attribute: Option<BooleanAttributeCfg>,
    /// As the `span_count` policy.
    pub span_count: Option<SpanCountCfg>,
    /// As the `trace_state` policy.
    pub trace_state: Option<TraceStateCfg>,
}

/// The status codes of a `when`, in any of three spellings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StatusCodes {
    /// `status_code: ERROR`.
    One(String),
    /// `status_code: [ERROR, UNSET]`.
    Many(Vec<String>),
    /// `status_code: {status_codes: [ERROR]}`, as the policy.
    Block(StatusCodeCfg),
}

impl StatusCodes {
    /// The codes, however spelled.
    pub fn codes(&self) -> Vec<String> {
        match self {
            StatusCodes::One(code) => vec![code.clone()],
            StatusCodes::Many(codes) => codes.clone(),
            StatusCodes::Block(block) => block.status_codes.clone(),
        }
    }
}
