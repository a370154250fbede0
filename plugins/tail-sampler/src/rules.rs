//! The whole decision for one trace: `drop` policies first (any that drops the trace wins),
//! then either the collector's other policies (any that samples keeps the trace; the first to
//! sample names it) or the rated categories (the first that matches decides, by the trace's
//! randomness against the category's threshold).
//!
//! The probability reported for a kept trace: a rated category keeps a trace consistently, so it
//! reports its own probability, and the host composes it with what each span arrived with (a
//! span's threshold only rises: a span head-sampled at 10% in a trace kept at 50% stays at 10%,
//! the error span a head rule kept at 100% gets 50%). A policy's keep is independent of earlier
//! sampling, so it reports its probability times the lowest the trace's spans arrived with
//! (policies that match deterministically keep with probability 1).

use crate::config::{Config, PolicyCfg, RateCfg, WhenCfg};
use crate::limiter::Clock;
use crate::policy::{self, Policy, Verdict};
use crate::traces::{Needs, Trace};
use spanwise_sampling::Threshold;
use spanwise_sampling::threshold::MIN_PROBABILITY;
use spanwise_sdk::{ConfigError, Decided};

/// Hex digits of the thresholds the rated categories decide with: the precision the host writes
/// `th` with, so that the `th` on a kept span is the threshold it passed.
pub const THRESHOLD_PRECISION: u32 = 4;

/// A named policy.
#[derive(Debug)]
struct Named {
    name: String,
    policy: Policy,
}

/// One rated category.
#[derive(Debug)]
pub struct Rate {
    /// Its name.
    pub name: String,
    /// What a trace must match (`None`: every trace).
    when: Option<Policy>,
    /// The configured probability, 0 to 1.
    pub probability: f64,
    /// The threshold a trace's randomness must reach (`None` for 0%).
    pub threshold: Option<Threshold>,
}

/// The configured decision.
#[derive(Debug)]
pub struct Rules {
    drops: Vec<Named>,
    policies: Vec<Named>,
    sample_on_first_match: bool,
    rates: Vec<Rate>,
    /// What the policies read.
    pub needs: Needs,
}

impl Rules {
    /// Build from `config`, with `clock` for the stateful policies.
    pub fn build(config: &Config, clock: &Clock) -> Result<Rules, ConfigError> {
        let mut needs = Needs::default();
        let mut drops = Vec::new();
        let mut policies = Vec::new();
        if config.policies.is_empty() && config.rates.is_empty() {
            return Err(ConfigError::new(
                "",
                "give `policies` (the collector's) or `rates` (rated categories): with neither, \
                 every trace would be dropped",
            ));
        }
        let mut names = std::collections::HashSet::new();
        for (i, cfg) in config.policies.iter().enumerate() {
            let field = format!("policies[{i}]");
            check_name(&cfg.name, &format!("{field}.name"), &mut names)?;
            if !config.rates.is_empty() && cfg.kind != "drop" {
                return Err(ConfigError::new(
                    format!("{field}.type"),
                    format!(
                        "with `rates`, `policies` may hold only `drop` policies (run before the \
                         categories), not `{}`",
                        cfg.kind
                    ),
                ));
            }
            let policy = policy::build(cfg, &field, &mut needs, clock)?;
            let named = Named {
                name: cfg.name.clone(),
                policy,
            };
            if named.policy.is_drop() {
                drops.push(named);
            } else {
                policies.push(named);
            }
        }
        let mut rates = Vec::new();
        let mut rate_names = std::collections::HashSet::new();
        for (i, cfg) in config.rates.iter().enumerate() {
            rates.push(rate(
                cfg,
                &format!("rates[{i}]"),
                &mut rate_names,
                &mut needs,
                clock,
            )?);
        }
        Ok(Rules {
            drops,
            policies,
            sample_on_first_match: config.sample_on_first_match,
            rates,
            needs,
        })
    }

    /// The decision on `trace`, naming a policy of these rules.
    pub fn decide(&mut self, trace: &Trace<'_>) -> Decided<'_> {
        for at in 0..self.drops.len() {
            if self.drops[at].policy.evaluate(trace) == Verdict::Dropped {
                return dropped(&self.drops[at].name);
            }
        }
        if !self.rates.is_empty() {
            return self.rated(trace);
        }
        let mut kept: Option<(&str, f64)> = None;
        for named in &mut self.policies {
            if let Verdict::Sampled(p) = named.policy.evaluate(trace) {
                let best = kept.map_or(p, |(_, q)| q.max(p));
                let name = kept.map_or(named.name.as_str(), |(n, _)| n);
                kept = Some((name, best));
                if self.sample_on_first_match {
                    break;
                }
            }
        }
        match kept {
            Some((name, p)) => Decided {
                keep: true,
                probability: (p * trace.arrival_probability()).max(MIN_PROBABILITY),
                policy: name,
            },
            None => dropped(""),
        }
    }

    fn rated(&mut self, trace: &Trace<'_>) -> Decided<'_> {
        for rate in &mut self.rates {
            let matches = match &mut rate.when {
                None => true,
                Some(when) => matches!(when.evaluate(trace), Verdict::Sampled(_)),
            };
            if !matches {
                continue;
            }
            return match rate.threshold {
                Some(threshold) if threshold.keeps(trace.randomness()) => Decided {
                    keep: true,
                    probability: rate.probability.max(MIN_PROBABILITY),
                    policy: &rate.name,
                },
                _ => dropped(&rate.name),
            };
        }
        dropped("")
    }

    /// The rated categories, in order.
    pub fn rates(&self) -> &[Rate] {
        &self.rates
    }
}

/// A drop, by `policy`.
fn dropped(policy: &str) -> Decided<'_> {
    Decided {
        keep: false,
        probability: 0.0,
        policy,
    }
}

fn check_name(
    name: &str,
    field: &str,
    names: &mut std::collections::HashSet<String>,
) -> Result<(), ConfigError> {
    if name.is_empty() {
        return Err(ConfigError::new(field, "every policy needs a name"));
    }
    if !names.insert(name.to_owned()) {
        return Err(ConfigError::new(
            field,
            format!("duplicate policy name {name:?}"),
        ));
    }
    Ok(())
}

fn rate(
    cfg: &RateCfg,
    field: &str,
    names: &mut std::collections::HashSet<String>,
    needs: &mut Needs,
    clock: &Clock,
) -> Result<Rate, ConfigError> {
    check_name(&cfg.name, &format!("{field}.name"), names)?;
    let pct = cfg.percentage;
    if !(0.0..=100.0).contains(&pct) {
        return Err(ConfigError::new(
            format!("{field}.percentage"),
            format!("percentage must be between 0 and 100, not {pct}"),
        ));
    }
    let probability = pct / 100.0;
    if probability > 0.0 && probability < MIN_PROBABILITY {
        return Err(ConfigError::new(
            format!("{field}.percentage"),
            format!("percentage {pct} is below the smallest probability, 2^-56"),
        ));
    }
    let when = match &cfg.when {
        None => None,
        Some(when) => Some(when_policy(when, &format!("{field}.when"), needs, clock)?),
    };
    Ok(Rate {
        name: cfg.name.clone(),
        when,
        probability,
        threshold: Threshold::from_probability(probability, THRESHOLD_PRECISION),
    })
}

/// A `when` block as an `and` of the policies it names.
fn when_policy(
    when: &WhenCfg,
    field: &str,
    needs: &mut Needs,
    clock: &Clock,
) -> Result<Policy, ConfigError> {
    let mut parts = Vec::new();
    if let Some(codes) = &when.status_code {
        let codes = policy::status_codes(&codes.codes())
            .map_err(|m| ConfigError::new(format!("{field}.status_code"), m))?;
        parts.push(Policy::StatusCode(codes));
    }
    let mut add = |kind: &str, cfg: PolicyCfg| -> Result<(), ConfigError> {
        let cfg = PolicyCfg {
            name: kind.to_owned(),
            kind: kind.to_owned(),
            ..cfg
        };
        parts.push(policy::build(&cfg, field, needs, clock)?);
        Ok(())
    };
    if let Some(c) = &when.latency {
        add(
            "latency",
            PolicyCfg {
                latency: Some(c.clone()),
                ..PolicyCfg::default()
            },
        )?;
    }
    if let Some(c) = &when.string_attribute {
        add(
            "string_attribute",
            PolicyCfg {
                string_attribute: Some(c.clone()),
                ..PolicyCfg::default()
            },
        )?;
    }
    if let Some(c) = &when.numeric_attribute {
        add(
            "numeric_attribute",
            PolicyCfg {
                numeric_attribute: Some(c.clone()),
                ..PolicyCfg::default()
            },
        )?;
    }
    if let Some(c) = &when.boolean_attribute {
        add(
            "boolean_attribute",
            PolicyCfg {
                boolean_attribute: Some(c.clone()),
                ..PolicyCfg::default()
            },
        )?;
    }
    if let Some(c) = &when.span_count {
        add(
            "span_count",
            PolicyCfg {
                span_count: Some(c.clone()),
                ..PolicyCfg::default()
            },
        )?;
    }
    if let Some(c) = &when.trace_state {
        add(
            "trace_state",
            PolicyCfg {
                trace_state: Some(c.clone()),
                ..PolicyCfg::default()
            },
        )?;
    }
    if parts.is_empty() {
        return Err(ConfigError::new(
            field,
            "an empty `when` matches every trace: leave it out instead",
        ));
    }
    Ok(if parts.len() == 1 {
        parts.pop().expect("one part")
    } else {
        Policy::And(parts)
    })
}
