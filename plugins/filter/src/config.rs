//! The `config:` block: the collector `filter` processor's keys for traces.

use serde::Deserialize;
use spanwise_sdk::ConfigError;

/// What to drop. The same keys as the collector's `filter` processor, for traces.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// What a condition that fails on a row (a missing value in arithmetic, a `Len` of a number)
    /// does: `ignore` (the default: the condition is false for that row, and the error is
    /// logged), `silent` (the same, not logged) or `propagate` (the batch fails, and the
    /// processor's `on_error` decides what happens to it).
    #[serde(default)]
    pub error_mode: ErrorMode,
    /// The conditions.
    #[serde(default)]
    pub traces: Traces,
}

/// `traces:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traces {
    /// A span that matches any of these is dropped, with its events and links.
    #[serde(default)]
    pub span: Vec<String>,
    /// A span event that matches any of these is dropped; its span stays.
    #[serde(default)]
    pub spanevent: Vec<String>,
}

/// `error_mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorMode {
    /// False for that row, logged.
    #[default]
    Ignore,
    /// False for that row, not logged.
    Silent,
    /// The batch fails.
    Propagate,
}

impl Config {
    /// Read the JSON config; errors name the field.
    pub fn parse(json: &str) -> Result<Self, ConfigError> {
        spanwise_sdk::parse_config(json)
    }
}
