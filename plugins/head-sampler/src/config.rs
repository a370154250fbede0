//! The configuration: the collector `probabilistic_sampler`'s keys, and per-rule rates.

use crate::sampler::Mode;
use serde::Deserialize;
use spanwise_sdk::ConfigError;

/// The head sampler's config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Percent of traces kept: 0 keeps none, 100 or more all. Typically
    /// `${env:TRACE_SAMPLING_RATE}`.
    #[serde(default)]
    pub sampling_percentage: f32,
    /// The seed of `hash_seed` mode's hash.
    #[serde(default)]
    pub hash_seed: u32,
    /// `hash_seed` (the default, as in the collector), `proportional` or `equalizing`.
    #[serde(default)]
    pub mode: Option<Mode>,
    /// Drop spans whose sampling information is in error (true, the default) or keep them.
    #[serde(default = "fail_closed")]
    pub fail_closed: bool,
    /// Hex digits of the thresholds written into tracestate, 1 to 14.
    #[serde(default = "precision")]
    pub sampling_precision: i64,
    /// Rates for some spans: the first rule whose condition holds gives the rate.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// One per-rule rate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// An OTTL condition in the span context (`resource.attributes["service.name"] ==
    /// "checkout"`), as the filter plugin reads them.
    pub condition: String,
    /// The rate of the spans it matches.
    pub sampling_percentage: f32,
}

fn fail_closed() -> bool {
    true
}

fn precision() -> i64 {
    4
}

impl Config {
    /// Parse and check, with the collector's rules and messages.
    pub fn parse(json: &str) -> Result<Config, ConfigError> {
        let config: Config = spanwise_sdk::parse_config(json)?;
        check_rate("sampling_percentage", config.sampling_percentage)?;
        for (i, rule) in config.rules.iter().enumerate() {
            check_rate(
                &format!("rules[{i}].sampling_percentage"),
                rule.sampling_percentage,
            )?;
        }
        if config.sampling_precision < 1 {
            return Err(ConfigError::new(
                "sampling_precision",
                format!(
                    "invalid sampling precision: {} (1 to 14 hex digits)",
                    config.sampling_precision
                ),
            ));
        }
        if config.sampling_precision > 14 {
            return Err(ConfigError::new(
                "sampling_precision",
                format!(
                    "sampling precision is too great, should be <= 14: {}",
                    config.sampling_precision
                ),
            ));
        }
        Ok(config)
    }

    /// The mode in effect: the collector's default is `hash_seed`, with or without a seed.
    pub fn mode(&self) -> Mode {
        self.mode.unwrap_or(Mode::HashSeed)
    }
}

fn check_rate(field: &str, percentage: f32) -> Result<(), ConfigError> {
    let ratio = f64::from(percentage) / 100.0;
    let message = if !percentage.is_finite() {
        format!("sampling rate is invalid: {percentage}%")
    } else if ratio < 0.0 {
        format!("sampling rate is negative: {percentage}%")
    } else if ratio > 0.0 && ratio < spanwise_sampling::threshold::MIN_PROBABILITY {
        format!("sampling rate is too small: {percentage}% (the smallest is 2^-56)")
    } else {
        return Ok(());
    };
    Err(ConfigError::new(field, message))
}
