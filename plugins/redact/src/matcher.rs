//! `include` / `exclude`: which spans the actions apply to, as the collector's span match
//! properties decide (`match_type` strict or regexp; services, span names, span kinds, span and
//! resource attributes, instrumentation scopes; every given property must match).

use crate::config::{self, AttributeMatch, MatchConfig};
use crate::working::{Val, Working};
use regex::Regex;
use spanwise_sdk::value::AttrValue;
use spanwise_sdk::{ConfigError, Level, SpanBatch, StrField};

/// Strings matched exactly or by unanchored regular expressions, as the collector's filter sets.
#[derive(Debug)]
enum Set {
    Strict(Vec<String>),
    Regexp(Vec<Regex>),
}

impl Set {
    fn matches(&self, text: &str) -> bool {
        match self {
            Set::Strict(items) => items.iter().any(|i| i == text),
            Set::Regexp(regexes) => regexes.iter().any(|r| r.is_match(text)),
        }
    }
}

/// One attribute condition.
#[derive(Debug)]
struct Condition {
    key: String,
    value: Option<Expected>,
}

#[derive(Debug)]
enum Expected {
    Equal(AttrValue),
    Matches(Regex),
}

/// One side (`include` or `exclude`), compiled.
#[derive(Debug)]
pub struct Properties {
    services: Option<Set>,
    span_names: Option<Set>,
    span_kinds: Option<Set>,
    attributes: Vec<Condition>,
    resources: Vec<Condition>,
    libraries: Vec<(Set, Option<Set>)>,
}

/// `include` and `exclude` together.
#[derive(Debug, Default)]
pub struct Matcher {
    include: Option<Properties>,
    exclude: Option<Properties>,
}

const KINDS: [&str; 5] = [
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];

impl Matcher {
    /// Compile `include` and `exclude`.
    pub fn compile(
        include: Option<&MatchConfig>,
        exclude: Option<&MatchConfig>,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            include: include
                .map(|m| Properties::compile("include", m))
                .transpose()?,
            exclude: exclude
                .map(|m| Properties::compile("exclude", m))
                .transpose()?,
        })
    }

    /// Whether every span is selected (no `include`, no `exclude`).
    pub fn selects_all(&self) -> bool {
        self.include.is_none() && self.exclude.is_none()
    }

    /// For each span row, whether the actions apply to it.
    pub fn select<B: SpanBatch + ?Sized>(&self, batch: &B) -> Vec<bool> {
        let spans = batch.len();
        let mut selected = vec![true; spans];
        let sides = [
            (self.include.as_ref(), true),
            (self.exclude.as_ref(), false),
        ];
        for (properties, include) in sides {
            let Some(properties) = properties else {
                continue;
            };
            let matched = properties.matches(batch);
            for (row, keep) in selected.iter_mut().enumerate() {
                // include: skip what does not match; exclude: skip what matches.
                if matched[row] != include {
                    *keep = false;
                }
            }
        }
        selected
    }
}

impl Properties {
    fn compile(side: &str, m: &MatchConfig) -> Result<Self, ConfigError> {
        let at = |field: &str| format!("{side}.{field}");
        for (field, set) in [
            ("log_bodies", m.log_bodies.is_some()),
            ("log_severity_texts", m.log_severity_texts.is_some()),
            ("log_severity_number", m.log_severity_number.is_some()),
            ("metric_names", m.metric_names.is_some()),
        ] {
            if set {
                return Err(ConfigError::new(
                    at(field),
                    "should not be specified for trace spans",
                ));
            }
        }
        if m.services.is_empty()
            && m.span_names.is_empty()
            && m.span_kinds.is_empty()
            && m.attributes.is_empty()
            && m.resources.is_empty()
            && m.libraries.is_empty()
        {
            return Err(ConfigError::new(
                side,
                "give at least one of services, span_names, span_kinds, attributes, resources or libraries",
            ));
        }
        let regexp = match m.match_type.as_str() {
            "strict" => Some(false),
            "regexp" => Some(true),
            "" => None,
            other => {
                return Err(ConfigError::new(
                    at("match_type"),
                    format!("{other:?} is not a match type: give strict or regexp"),
                ));
            }
        };
        // The collector needs a match type for every list, and for attribute values.
        let needs_type = |field: &str| -> Result<bool, ConfigError> {
            regexp.ok_or_else(|| {
                ConfigError::new(
                    at("match_type"),
                    format!("is missing: {field} needs strict or regexp"),
                )
            })
        };
        let set = |field: &str, items: &[String]| -> Result<Option<Set>, ConfigError> {
            if items.is_empty() {
                return Ok(None);
            }
            Ok(Some(if needs_type(field)? {
                Set::Regexp(config::regexes(&at(field), items)?)
            } else {
                Set::Strict(items.to_vec())
            }))
        };
        if regexp == Some(false)
            && let Some(i) = m
                .span_kinds
                .iter()
                .position(|k| !KINDS.contains(&k.as_str()))
        {
            return Err(ConfigError::new(
                format!("{side}.span_kinds[{i}]"),
                format!("must be one of {} with match_type strict", KINDS.join(", ")),
            ));
        }
        let conditions = |field: &str,
                          list: &[AttributeMatch]|
         -> Result<Vec<Condition>, ConfigError> {
            list.iter()
                .enumerate()
                .map(|(i, a)| {
                    let here = format!("{side}.{field}[{i}]");
                    if a.key.is_empty() {
                        return Err(ConfigError::new(format!("{here}.key"), "must not be empty"));
                    }
                    let value = match &a.value {
                        None => None,
                        Some(value) => Some(if needs_type(field)? {
                            let serde_json::Value::String(pattern) = value else {
                                return Err(ConfigError::new(
                                    format!("{here}.value"),
                                    format!(
                                        "match_type regexp only supports strings, but found {}",
                                        AttrValue::from_json(value).type_name()
                                    ),
                                ));
                            };
                            Expected::Matches(config::regex(&format!("{here}.value"), pattern)?)
                        } else {
                            Expected::Equal(AttrValue::from_json(value))
                        }),
                    };
                    Ok(Condition {
                        key: a.key.clone(),
                        value,
                    })
                })
                .collect()
        };
        let mut libraries = Vec::new();
        for (i, library) in m.libraries.iter().enumerate() {
            let here = format!("libraries[{i}]");
            let name = set(&format!("{here}.name"), std::slice::from_ref(&library.name))?
                .expect("one name");
            let version = match &library.version {
                Some(v) => set(&format!("{here}.version"), std::slice::from_ref(v))?,
                None => None,
            };
            libraries.push((name, version));
        }
        Ok(Self {
            services: set("services", &m.services)?,
            span_names: set("span_names", &m.span_names)?,
            span_kinds: set("span_kinds", &m.span_kinds)?,
            attributes: conditions("attributes", &m.attributes)?,
            resources: conditions("resources", &m.resources)?,
            libraries,
        })
    }

    /// For each span row, whether every given property matches.
    fn matches<B: SpanBatch + ?Sized>(&self, batch: &B) -> Vec<bool> {
        let spans = batch.len();
        let mut matched = vec![true; spans];
        let mut narrow = |keep: &dyn Fn(usize) -> bool| {
            for (row, m) in matched.iter_mut().enumerate() {
                *m = *m && keep(row);
            }
        };
        if let Some(services) = &self.services {
            let resource = Working::load(batch, Level::Resource, &["service.name".to_owned()]);
            narrow(&|row| {
                let name = resource
                    .get_for_span("service.name", row)
                    .map_or_else(|| "<nil-service-name>".to_owned(), Val::as_string);
                services.matches(&name)
            });
        }
        if let Some(names) = &self.span_names {
            let column = batch.str_field(StrField::Name);
            narrow(&|row| names.matches(column.get(row).unwrap_or("")));
        }
        if let Some(kinds) = &self.span_kinds {
            let column = batch.kinds();
            narrow(&|row| kinds.matches(kind_name(column[row])));
        }
        if !self.libraries.is_empty() {
            let names = batch.str_field(StrField::ScopeName);
            let versions = batch.str_field(StrField::ScopeVersion);
            narrow(&|row| {
                self.libraries.iter().all(|(name, version)| {
                    name.matches(names.get(row).unwrap_or(""))
                        && version
                            .as_ref()
                            .is_none_or(|v| v.matches(versions.get(row).unwrap_or("")))
                })
            });
        }
        for (conditions, level) in [
            (&self.resources, Level::Resource),
            (&self.attributes, Level::Span),
        ] {
            if conditions.is_empty() {
                continue;
            }
            let keys: Vec<String> = conditions.iter().map(|c| c.key.clone()).collect();
            let values = Working::load(batch, level, &keys);
            narrow(&|row| {
                conditions
                    .iter()
                    .all(|c| match values.get_for_span(&c.key, row) {
                        None => false,
                        Some(value) => match &c.value {
                            None => true,
                            Some(Expected::Equal(expected)) => same_val(expected, value),
                            Some(Expected::Matches(regex)) => {
                                string_form(value).is_some_and(|text| regex.is_match(&text))
                            }
                        },
                    })
            });
        }
        matched
    }
}

/// The collector's name of an OTLP span kind.
fn kind_name(kind: u8) -> &'static str {
    match kind {
        0 => "SPAN_KIND_UNSPECIFIED",
        1 => "SPAN_KIND_INTERNAL",
        2 => "SPAN_KIND_SERVER",
        3 => "SPAN_KIND_CLIENT",
        4 => "SPAN_KIND_PRODUCER",
        5 => "SPAN_KIND_CONSUMER",
        _ => "",
    }
}

/// A value as regexp matching sees it: strings, booleans, integers and doubles (Go's `'f', -1`
/// format); other types never match.
fn string_form(value: Val<'_>) -> Option<String> {
    let value = match value {
        Val::Str(s) => return Some(s.to_owned()),
        Val::Other(value) => value,
    };
    match value {
        AttrValue::Str(s) => Some(s.clone()),
        AttrValue::Bool(b) => Some(b.to_string()),
        AttrValue::Int(i) => Some(i.to_string()),
        AttrValue::Double(d) => Some(if d.is_finite() {
            format!("{d}")
        } else if d.is_nan() {
            "NaN".into()
        } else if *d > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }),
        _ => None,
    }
}

/// [`same`] against a value of a [`Working`] set.
fn same_val(expected: &AttrValue, value: Val<'_>) -> bool {
    match (expected, value) {
        (AttrValue::Str(a), Val::Str(b)) => a == b,
        (_, Val::Str(_)) => false,
        (expected, Val::Other(value)) => same(expected, value),
    }
}

/// Strict equality: same type and value; maps compare without regard to key order.
fn same(expected: &AttrValue, value: &AttrValue) -> bool {
    match (expected, value) {
        (AttrValue::Map(a), AttrValue::Map(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && same(v, v2)))
        }
        (AttrValue::Array(a), AttrValue::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        _ => expected == value,
    }
}
