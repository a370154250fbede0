//! The URL processor's `config:` block.

use serde::Deserialize;
use spanwise_sdk::ConfigError;

/// How the URL processor rewrites URLs. Every field is optional; the defaults strip query
/// strings and fragments from the usual HTTP semantic-convention attributes and nothing else.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Span attributes that hold a URL (`https://host/path?query`) or a request target
    /// (`/path?query`): their query string and fragment are stripped.
    pub attributes: Vec<String>,
    /// Span attributes that hold only a query string (`a=1&b=2`): filtered down to
    /// `keep_params`, removed when nothing is kept.
    pub query_attributes: Vec<String>,
    /// Span attributes removed outright (a fragment can carry an OAuth token).
    pub remove_attributes: Vec<String>,
    /// Query parameters to keep (by name, compared after percent-decoding); all others go.
    pub keep_params: Vec<String>,
    /// Instead of stripping, replace each URL by the first capture group of this regular
    /// expression (or the group named `url`), like the collector's `extract` idiom:
    /// `^(https?://[^/]+/[^?]*)`. Values it does not match are left as they are and counted.
    pub extract: Option<String>,
    /// Replace high-cardinality path segments (all digits, UUIDs, long hex) by `placeholder`.
    pub collapse_ids: bool,
    /// What a collapsed segment becomes.
    pub placeholder: String,
    /// The shortest run of hex digits (with at least one digit) that counts as an ID.
    pub min_hex_length: usize,
    /// Also rewrite paths inside span names, such as `GET /users/123?x=1`.
    pub span_names: bool,
    /// Cut URLs longer than this many bytes, ending them with `truncation_marker`.
    pub max_length: Option<usize>,
    /// What marks a cut URL.
    pub truncation_marker: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            attributes: ["url.full", "http.url", "http.target", "url.path"]
                .map(String::from)
                .to_vec(),
            query_attributes: vec!["url.query".into()],
            remove_attributes: vec!["url.fragment".into()],
            keep_params: Vec::new(),
            extract: None,
            collapse_ids: false,
            placeholder: "{id}".into(),
            min_hex_length: 16,
            span_names: false,
            max_length: None,
            truncation_marker: "...".into(),
        }
    }
}

impl Config {
    /// Parse and check the JSON config.
    pub fn parse(json: &str) -> Result<Self, ConfigError> {
        let config: Config = spanwise_sdk::parse_config(json)?;
        if config.placeholder.is_empty() {
            return Err(ConfigError::new("placeholder", "must not be empty"));
        }
        if config.min_hex_length < 8 {
            return Err(ConfigError::new(
                "min_hex_length",
                format!(
                    "{} is too short: words like `cafe` or `deadbeef` would be taken for IDs; use 8 or more",
                    config.min_hex_length
                ),
            ));
        }
        if let Some(max) = config.max_length
            && max <= config.truncation_marker.len()
        {
            return Err(ConfigError::new(
                "max_length",
                format!(
                    "{max} leaves no room for the truncation marker {:?}",
                    config.truncation_marker
                ),
            ));
        }
        for (field, keys) in [
            ("attributes", &config.attributes),
            ("query_attributes", &config.query_attributes),
            ("remove_attributes", &config.remove_attributes),
        ] {
            if let Some(i) = keys.iter().position(|k| k.is_empty()) {
                return Err(ConfigError::new(
                    format!("{field}[{i}]"),
                    "must not be empty",
                ));
            }
        }
        Ok(config)
    }
}
