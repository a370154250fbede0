//! The `config:` block: the collector `attributes` processor's `actions`, `include` and
//! `exclude`, and the collector `redaction` processor's block under `redaction`, with the few
//! keys spanwise adds (`apply_to`, `hash_function` on `hash` actions, `key_name`).
//!
//! Everything is checked here, at load, and errors name the rule and the field
//! (`actions[2].pattern: ...`).

use regex::Regex;
use serde::Deserialize;
use spanwise_sdk::value::AttrValue;
use spanwise_sdk::{ConfigError, Level, StrField};

/// The whole block.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Attribute actions, applied in order (the collector `attributes` processor's `actions`).
    #[serde(default)]
    pub actions: Vec<ActionConfig>,
    /// Apply the actions only to spans that match.
    #[serde(default)]
    pub include: Option<MatchConfig>,
    /// Do not apply the actions to spans that match.
    #[serde(default)]
    pub exclude: Option<MatchConfig>,
    /// Redaction (the collector `redaction` processor's block), applied after the actions.
    #[serde(default)]
    pub redaction: Option<RedactionConfig>,
}

/// One attribute action, with the collector's keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// `insert`, `update`, `upsert`, `delete`, `hash`, `extract` or `convert`.
    #[serde(default)]
    pub action: String,
    /// The attribute the action works on.
    #[serde(default)]
    pub key: String,
    /// A literal value (insert, update, upsert).
    #[serde(default)]
    pub value: Option<serde_json::Value>,
    /// The value used when the source is missing (insert, update, upsert).
    #[serde(default)]
    pub default_value: Option<serde_json::Value>,
    /// A regular expression on attribute keys (delete, hash) or on the value (extract).
    #[serde(default)]
    pub pattern: String,
    /// Copy the value of this attribute (insert, update, upsert).
    #[serde(default)]
    pub from_attribute: String,
    /// The collector's client-context source; refused: no client metadata reaches plugins.
    #[serde(default)]
    pub from_context: String,
    /// `int`, `double` or `string` (convert).
    #[serde(default)]
    pub converted_type: String,
    /// spanwise: where the action applies: any of `span` (the default, as in the collector),
    /// `resource`, `scope`, `event`.
    #[serde(default)]
    pub apply_to: Option<Vec<LevelName>>,
    /// spanwise, `hash` only: `sha256` (the default, the collector's hash) or `hmac-sha256`
    /// (keyed with the processor's key `key_name`).
    #[serde(default)]
    pub hash_function: Option<String>,
    /// spanwise: the name of the key (in the processor's `keys:` block) for `hmac-sha256`.
    #[serde(default)]
    pub key_name: Option<String>,
}

/// Where a rule applies: attributes at a level, or (redaction only) a string field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelName {
    /// Span attributes.
    Span,
    /// Resource attributes (a change applies to every span of the resource).
    Resource,
    /// Instrumentation scope attributes.
    Scope,
    /// Span event attributes.
    Event,
    /// Redaction only: span names (the value rules: `allowed_values`, `blocked_values`).
    SpanName,
    /// Redaction only: span status messages.
    StatusMessage,
    /// Redaction only: span event names.
    EventName,
}

/// Where a rule applies, sorted out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// Attribute levels.
    pub levels: Vec<Level>,
    /// String fields.
    pub fields: Vec<StrField>,
}

/// `include` / `exclude`: the collector's span match properties.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    /// `strict` or `regexp`.
    #[serde(default)]
    pub match_type: String,
    /// Accepted for compatibility; spanwise keeps no match cache.
    #[serde(default)]
    pub regexp: Option<serde_json::Value>,
    /// Service names (the resource's `service.name`).
    #[serde(default)]
    pub services: Vec<String>,
    /// Span names.
    #[serde(default)]
    pub span_names: Vec<String>,
    /// Span kinds, as `SPAN_KIND_SERVER` and so on.
    #[serde(default)]
    pub span_kinds: Vec<String>,
    /// Span attributes that must all be present (and equal or match, when a value is given).
    #[serde(default)]
    pub attributes: Vec<AttributeMatch>,
    /// Resource attributes, as `attributes`.
    #[serde(default)]
    pub resources: Vec<AttributeMatch>,
    /// Instrumentation scopes (name and optional version).
    #[serde(default)]
    pub libraries: Vec<LibraryMatch>,
    /// Refused: for logs.
    #[serde(default)]
    pub log_bodies: Option<serde_json::Value>,
    /// Refused: for logs.
    #[serde(default)]
    pub log_severity_texts: Option<serde_json::Value>,
    /// Refused: for logs.
    #[serde(default)]
    pub log_severity_number: Option<serde_json::Value>,
    /// Refused: for metrics.
    #[serde(default)]
    pub metric_names: Option<serde_json::Value>,
}

/// One attribute condition.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMatch {
    /// The attribute key.
    pub key: String,
    /// The value it must have (strict) or match (regexp); any value when absent.
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

/// One instrumentation scope condition.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryMatch {
    /// The scope name.
    pub name: String,
    /// The scope version, if it matters.
    #[serde(default)]
    pub version: Option<String>,
}

/// `redaction`: the collector's redaction processor block.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionConfig {
    /// Keep every key (only values are masked). Default false: keys not in `allowed_keys` are
    /// removed.
    #[serde(default)]
    pub allow_all_keys: bool,
    /// Keys that are kept.
    #[serde(default)]
    pub allowed_keys: Vec<String>,
    /// Keys left entirely alone.
    #[serde(default)]
    pub ignored_keys: Vec<String>,
    /// Regular expressions on keys left entirely alone.
    #[serde(default)]
    pub ignored_key_patterns: Vec<String>,
    /// Regular expressions on keys whose whole value is masked.
    #[serde(default)]
    pub blocked_key_patterns: Vec<String>,
    /// Regular expressions on values: the matched parts are masked.
    #[serde(default)]
    pub blocked_values: Vec<String>,
    /// Regular expressions on values that are kept as they are.
    #[serde(default)]
    pub allowed_values: Vec<String>,
    /// `none` (the default: `****`), `sha256`, or `hmac-sha256` (with `key_name`).
    #[serde(default)]
    pub hash_function: Option<String>,
    /// The collector's inline key; refused (keys live in the processor's `keys:` block).
    #[serde(default)]
    pub hmac_key: Option<serde_json::Value>,
    /// spanwise: the name of the key (in the processor's `keys:` block) for `hmac-sha256`.
    #[serde(default)]
    pub key_name: Option<String>,
    /// Apply value rules to every type, by its string form, not only to strings.
    #[serde(default)]
    pub redact_all_types: bool,
    /// `debug`, `info` or `silent` (the default).
    #[serde(default)]
    pub summary: Option<String>,
    /// Refused: use the `url` plugin.
    #[serde(default)]
    pub url_sanitizer: Option<serde_json::Value>,
    /// Refused: not implemented.
    #[serde(default)]
    pub db_sanitizer: Option<serde_json::Value>,
    /// spanwise: where redaction applies; default every attribute map the collector's
    /// redaction touches: `resource`, `scope`, `span`, `event`. `span_name`, `status_message`
    /// and `event_name` add those strings to what the value rules mask.
    #[serde(default)]
    pub apply_to: Option<Vec<LevelName>>,
}

/// How a value is masked or hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Digest {
    /// Replace by `****`.
    Stars,
    /// SHA-256, lowercase hex.
    Sha256,
    /// HMAC-SHA256 under the processor's key of this name, lowercase hex.
    HmacSha256(String),
}

/// Read the block; `field` errors carry the full path inside it.
pub fn parse(json: &str) -> Result<Config, ConfigError> {
    spanwise_sdk::parse_config(json)
}

/// Where a rule applies, checked: something, nothing twice, and fields only where `fields` are
/// allowed.
pub fn targets(
    field: &str,
    apply_to: &Option<Vec<LevelName>>,
    default: &[LevelName],
    fields: bool,
) -> Result<Targets, ConfigError> {
    let names = apply_to.as_deref().unwrap_or(default);
    if names.is_empty() {
        return Err(ConfigError::new(
            field,
            "names nothing: give span, resource, scope or event",
        ));
    }
    let mut out = Targets::default();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(ConfigError::new(format!("{field}[{i}]"), "is listed twice"));
        }
        let string_field = match name {
            LevelName::Span => {
                out.levels.push(Level::Span);
                continue;
            }
            LevelName::Resource => {
                out.levels.push(Level::Resource);
                continue;
            }
            LevelName::Scope => {
                out.levels.push(Level::Scope);
                continue;
            }
            LevelName::Event => {
                out.levels.push(Level::Event);
                continue;
            }
            LevelName::SpanName => StrField::Name,
            LevelName::StatusMessage => StrField::StatusMessage,
            LevelName::EventName => StrField::EventName,
        };
        if !fields {
            return Err(ConfigError::new(
                format!("{field}[{i}]"),
                "actions work on attributes: give span, resource, scope or event",
            ));
        }
        out.fields.push(string_field);
    }
    Ok(out)
}

/// Compile a regular expression, naming the field and saying why it does not compile.
pub fn regex(field: &str, pattern: &str) -> Result<Regex, ConfigError> {
    spanwise_goregex::compile(pattern)
        .map_err(|e| ConfigError::new(field, format!("invalid pattern {pattern:?}: {e}")))
}

/// Compile a list of regular expressions (`field[i]` on error).
pub fn regexes(field: &str, patterns: &[String]) -> Result<Vec<Regex>, ConfigError> {
    patterns
        .iter()
        .enumerate()
        .map(|(i, p)| regex(&format!("{field}[{i}]"), p))
        .collect()
}

/// The digest of `hash_function` (`field`), with the key it names (`key_field`).
pub fn digest(
    field: &str,
    function: Option<&str>,
    default: Digest,
    key_field: &str,
    key_name: Option<&str>,
) -> Result<Digest, ConfigError> {
    let digest = match function.map(str::to_ascii_lowercase).as_deref() {
        None => default,
        Some("" | "none") => Digest::Stars,
        Some("sha256") => Digest::Sha256,
        Some("hmac-sha256") => match key_name {
            Some(name) if !name.is_empty() => Digest::HmacSha256(name.to_owned()),
            _ => {
                return Err(ConfigError::new(
                    key_field,
                    "hmac-sha256 needs the name of a key from the processor's `keys:` block",
                ));
            }
        },
        Some(other @ ("md5" | "sha1" | "sha3" | "hmac-sha512")) => {
            return Err(ConfigError::new(
                field,
                format!(
                    "{other} is not offered: use hmac-sha256 (a keyed hash; a plain hash of an identifier can be reversed by hashing every candidate), sha256 or none"
                ),
            ));
        }
        Some(other) => {
            return Err(ConfigError::new(
                field,
                format!("unknown hash function {other:?}: use none, sha256 or hmac-sha256"),
            ));
        }
    };
    if key_name.is_some() && !matches!(digest, Digest::HmacSha256(_)) {
        return Err(ConfigError::new(
            key_field,
            "names a key, but only hmac-sha256 uses one",
        ));
    }
    Ok(digest)
}

/// A config value (`value`, `default_value`) as an attribute value.
pub fn value(value: &Option<serde_json::Value>) -> Option<AttrValue> {
    value.as_ref().map(AttrValue::from_json)
}
