//! The collector `attributes` processor's actions, compiled from config and applied to a
//! [`Working`] set of attributes, column by column.

use crate::config::{self, ActionConfig, Digest, LevelName};
use crate::digest::{digests_of, push_hash_input};
use crate::working::{Val, Working};
use regex::Regex;
use spanwise_sdk::value::AttrValue;
use spanwise_sdk::{BytesColumn, ConfigError, HashFunction, Level};

/// Where an insert, update or upsert takes its value from.
#[derive(Debug)]
pub struct Source {
    value: Option<AttrValue>,
    from_attribute: Option<String>,
    default: Option<AttrValue>,
}

/// What an action does.
#[derive(Debug)]
pub enum Op {
    /// Set the key where it is missing.
    Insert(Source),
    /// Set the key where it is present.
    Update(Source),
    /// Set the key.
    Upsert(Source),
    /// Remove the key, and every key the pattern matches.
    Delete(Option<Regex>),
    /// Hash the key's value, and that of every key the pattern matches.
    Hash(Option<Regex>, Digest),
    /// Put each named group of the pattern's first match in the key's string value into an
    /// attribute of that name.
    Extract(Regex, Vec<String>),
    /// Convert the key's value to another type.
    Convert(Target),
}

/// What `convert` converts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `string`
    String,
    /// `int`
    Int,
    /// `double`
    Double,
}

/// One compiled action.
#[derive(Debug)]
pub struct Action {
    /// The attribute key (may be empty for `delete` and `hash` with a pattern).
    pub key: String,
    /// What it does.
    pub op: Op,
    /// Where it applies.
    pub levels: Vec<Level>,
    /// The levels where the host may do this action on its own (see [`host_hashes`]).
    pub host_levels: Vec<Level>,
}

/// How many values each kind of action changed in one batch, for the counters.
#[derive(Debug, Default)]
pub struct Counts {
    /// Values written where the key was missing.
    pub inserted: u64,
    /// Values written over an existing one.
    pub updated: u64,
    /// Values removed.
    pub deleted: u64,
    /// Values hashed.
    pub hashed: u64,
    /// Values that an extract pattern matched.
    pub extracted: u64,
    /// Values converted to another type.
    pub converted: u64,
}

impl Action {
    /// Compile action number `i` with the collector's checks; errors name `actions[i].FIELD`.
    pub fn compile(i: usize, a: &ActionConfig) -> Result<Self, ConfigError> {
        let at = |field: &str| {
            if field.is_empty() {
                format!("actions[{i}]")
            } else {
                format!("actions[{i}].{field}")
            }
        };
        let name = a.action.to_ascii_lowercase();
        let sources = usize::from(a.value.is_some())
            + usize::from(!a.from_attribute.is_empty())
            + usize::from(!a.from_context.is_empty());
        let not_used = |field: &str, set: bool| {
            if set {
                Err(ConfigError::new(
                    at(field),
                    format!("is not used by action {name:?}; remove it"),
                ))
            } else {
                Ok(())
            }
        };
        if !a.from_context.is_empty() {
            return Err(ConfigError::new(
                at("from_context"),
                "is not supported: spanwise passes no client metadata to plugins; use from_attribute or value",
            ));
        }
        match name.as_str() {
            "delete" | "hash" => {
                if a.key.is_empty() && a.pattern.is_empty() {
                    return Err(ConfigError::new(
                        at(""),
                        format!("action {name:?} needs \"key\", \"pattern\" or both"),
                    ));
                }
            }
            "" => {
                return Err(ConfigError::new(
                    at("action"),
                    "is missing: give insert, update, upsert, delete, hash, extract or convert",
                ));
            }
            _ => {
                if a.key.is_empty() {
                    return Err(ConfigError::new(
                        at("key"),
                        format!("is missing; action {name:?} needs it"),
                    ));
                }
            }
        }
        if name != "hash" {
            not_used("hash_function", a.hash_function.is_some())?;
            not_used("key_name", a.key_name.is_some())?;
        }
        let source = || -> Result<Source, ConfigError> {
            if sources == 0 && a.default_value.is_none() {
                return Err(ConfigError::new(
                    at(""),
                    format!(
                        "action {name:?} needs a value: give \"value\", \"from_attribute\" or \"default_value\""
                    ),
                ));
            }
            if sources > 1 {
                return Err(ConfigError::new(
                    at(""),
                    "gives more than one of \"value\" and \"from_attribute\"; keep one",
                ));
            }
            not_used("pattern", !a.pattern.is_empty())?;
            not_used("converted_type", !a.converted_type.is_empty())?;
            Ok(Source {
                value: config::value(&a.value),
                from_attribute: (!a.from_attribute.is_empty()).then(|| a.from_attribute.clone()),
                default: config::value(&a.default_value),
            })
        };
        let key_pattern = || -> Result<Option<Regex>, ConfigError> {
            not_used("value", a.value.is_some())?;
            not_used("from_attribute", !a.from_attribute.is_empty())?;
            not_used("default_value", a.default_value.is_some())?;
            not_used("converted_type", !a.converted_type.is_empty())?;
            if a.pattern.is_empty() {
                Ok(None)
            } else {
                config::regex(&at("pattern"), &a.pattern).map(Some)
            }
        };
        let op = match name.as_str() {
            "insert" => Op::Insert(source()?),
            "update" => Op::Update(source()?),
            "upsert" => Op::Upsert(source()?),
            "delete" => Op::Delete(key_pattern()?),
            "hash" => {
                let regex = key_pattern()?;
                let digest = config::digest(
                    &at("hash_function"),
                    a.hash_function.as_deref(),
                    Digest::Sha256,
                    &at("key_name"),
                    a.key_name.as_deref(),
                )?;
                if digest == Digest::Stars {
                    return Err(ConfigError::new(
                        at("hash_function"),
                        "action \"hash\" hashes: use sha256 (the collector's) or hmac-sha256",
                    ));
                }
                Op::Hash(regex, digest)
            }
            "extract" => {
                not_used("value", a.value.is_some())?;
                not_used("from_attribute", !a.from_attribute.is_empty())?;
                not_used("default_value", a.default_value.is_some())?;
                not_used("converted_type", !a.converted_type.is_empty())?;
                if a.pattern.is_empty() {
                    return Err(ConfigError::new(
                        at("pattern"),
                        "is missing; action \"extract\" needs a pattern with named groups",
                    ));
                }
                let regex = config::regex(&at("pattern"), &a.pattern)?;
                let names: Vec<Option<&str>> = regex.capture_names().skip(1).collect();
                if names.is_empty() {
                    return Err(ConfigError::new(
                        at("pattern"),
                        "has no named groups: write (?P<name>...) for each attribute to extract",
                    ));
                }
                if names.iter().any(Option::is_none) {
                    return Err(ConfigError::new(
                        at("pattern"),
                        "has a group without a name: name every group, (?P<name>...), or make it (?:...)",
                    ));
                }
                let names = names.into_iter().flatten().map(String::from).collect();
                Op::Extract(regex, names)
            }
            "convert" => {
                not_used("value", a.value.is_some())?;
                not_used("from_attribute", !a.from_attribute.is_empty())?;
                not_used("default_value", a.default_value.is_some())?;
                not_used("pattern", !a.pattern.is_empty())?;
                Op::Convert(match a.converted_type.as_str() {
                    "string" => Target::String,
                    "int" => Target::Int,
                    "double" => Target::Double,
                    "" => {
                        return Err(ConfigError::new(
                            at("converted_type"),
                            "is missing: give int, double or string",
                        ));
                    }
                    other => {
                        return Err(ConfigError::new(
                            at("converted_type"),
                            format!(
                                "{other:?} is not a type to convert to: give int, double or string"
                            ),
                        ));
                    }
                })
            }
            other => {
                return Err(ConfigError::new(
                    at("action"),
                    format!(
                        "{other:?} is not an action: give insert, update, upsert, delete, hash, extract or convert"
                    ),
                ));
            }
        };
        let levels =
            config::targets(&at("apply_to"), &a.apply_to, &[LevelName::Span], false)?.levels;
        Ok(Self {
            key: a.key.clone(),
            op,
            levels,
            host_levels: Vec::new(),
        })
    }

    /// What the host does for this action when it runs as a `hash-attribute` edit: a `hash` of
    /// a named key (no pattern).
    pub fn host_hash(&self) -> Option<HashFunction> {
        match &self.op {
            Op::Hash(None, Digest::Sha256) => Some(HashFunction::Sha256),
            Op::Hash(None, Digest::HmacSha256(name)) => {
                Some(HashFunction::HmacSha256(name.clone()))
            }
            _ => None,
        }
    }

    /// Whether this action reads, writes or removes attribute `key` at `level`.
    fn touches(&self, level: Level, key: &str) -> bool {
        self.levels.contains(&level)
            && (self.keys().contains(&key)
                || self.key_pattern().is_some_and(|p| p.is_match(key))
                || matches!(&self.op, Op::Extract(_, names) if names.iter().any(|n| n == key)))
    }

    /// The keys at a level this action reads or writes that must be loaded (besides those its
    /// pattern matches).
    pub fn keys(&self) -> Vec<&str> {
        let mut keys = Vec::new();
        if !self.key.is_empty() {
            keys.push(self.key.as_str());
        }
        if let Op::Insert(s) | Op::Update(s) | Op::Upsert(s) = &self.op
            && let Some(from) = &s.from_attribute
        {
            keys.push(from.as_str());
        }
        keys
    }

    /// The pattern on keys, for `delete` and `hash`.
    pub fn key_pattern(&self) -> Option<&Regex> {
        match &self.op {
            Op::Delete(Some(regex)) | Op::Hash(Some(regex), _) => Some(regex),
            _ => None,
        }
    }

    /// Apply the action to the rows of `working` that `selected` allows.
    pub fn apply(
        &self,
        working: &mut Working,
        selected: &dyn Fn(usize) -> bool,
        counts: &mut Counts,
    ) -> Result<(), String> {
        let rows: Vec<usize> = (0..working.rows()).filter(|&r| selected(r)).collect();
        match &self.op {
            Op::Insert(source) | Op::Update(source) | Op::Upsert(source) => {
                let target = working.column_or_create(&self.key);
                for &row in &rows {
                    let Some(value) = source.value_on(working, row) else {
                        continue;
                    };
                    let exists = working.get(target, row).is_some();
                    let write = match &self.op {
                        Op::Insert(_) => !exists,
                        Op::Update(_) => exists,
                        _ => true,
                    };
                    if write {
                        if exists {
                            counts.updated += 1;
                        } else {
                            counts.inserted += 1;
                        }
                        working.set(target, row, Some(value));
                    }
                }
            }
            Op::Delete(pattern) => {
                let columns = self.columns(working, pattern.as_ref());
                for column in columns {
                    for &row in &rows {
                        if working.get(column, row).is_some() {
                            working.set(column, row, None);
                            counts.deleted += 1;
                        }
                    }
                }
            }
            Op::Hash(pattern, digest) => {
                // First the key, then (as the collector does, so a key that is also matched is
                // hashed twice) every key the pattern matches.
                if let Some(column) = working.column(&self.key) {
                    counts.hashed += hash_columns(working, &[column], &rows, digest)?;
                }
                if let Some(regex) = pattern {
                    let columns: Vec<usize> = (0..working.keys().len())
                        .filter(|&c| regex.is_match(&working.keys()[c]))
                        .collect();
                    counts.hashed += hash_columns(working, &columns, &rows, digest)?;
                }
            }
            Op::Extract(regex, names) => {
                let Some(source) = working.column(&self.key) else {
                    return Ok(());
                };
                let targets: Vec<usize> =
                    names.iter().map(|n| working.column_or_create(n)).collect();
                for &row in &rows {
                    let Some(Val::Str(text)) = working.get(source, row) else {
                        continue;
                    };
                    let Some(captures) = regex.captures(text) else {
                        continue;
                    };
                    let found: Vec<String> = (1..=targets.len())
                        .map(|g| captures.get(g).map_or("", |m| m.as_str()).to_owned())
                        .collect();
                    for (&target, text) in targets.iter().zip(found) {
                        working.set(target, row, Some(AttrValue::Str(text)));
                    }
                    counts.extracted += 1;
                }
            }
            Op::Convert(to) => {
                let Some(column) = working.column(&self.key) else {
                    return Ok(());
                };
                for &row in &rows {
                    let Some(value) = working.get(column, row) else {
                        continue;
                    };
                    if let Some(converted) = convert(&value.to_value(), *to) {
                        working.set(column, row, Some(converted));
                        counts.converted += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// The columns a `delete` touches: the key's, then every key the pattern matches.
    fn columns(&self, working: &Working, pattern: Option<&Regex>) -> Vec<usize> {
        let mut columns: Vec<usize> = working.column(&self.key).into_iter().collect();
        if let Some(regex) = pattern {
            for (c, key) in working.keys().iter().enumerate() {
                if !columns.contains(&c) && regex.is_match(key) {
                    columns.push(c);
                }
            }
        }
        columns
    }
}

impl Source {
    /// The value to write on `row`: the literal, else the source attribute's current value,
    /// else the default.
    fn value_on(&self, working: &Working, row: usize) -> Option<AttrValue> {
        if let Some(value) = &self.value {
            return Some(value.clone());
        }
        if let Some(from) = &self.from_attribute
            && let Some(value) = working.get_key(from, row)
        {
            return Some(value.to_value());
        }
        self.default.clone()
    }
}

/// Mark, on each `hash` of a named key, the levels where no other rule reads, writes or removes
/// that key and no redaction applies: there the result cannot depend on where the hashing runs,
/// so the plugin leaves it to the host (a `hash-attribute` edit, applied after the edits of the
/// other rules). The value then never crosses into the plugin, which is what makes hashing
/// cheap.
pub fn host_hashes(actions: &mut [Action], redaction_levels: &[Level]) {
    let mut marks = Vec::with_capacity(actions.len());
    for (i, action) in actions.iter().enumerate() {
        let levels: Vec<Level> = match action.host_hash() {
            Some(_) => action
                .levels
                .iter()
                .copied()
                .filter(|level| {
                    !redaction_levels.contains(level)
                        && actions
                            .iter()
                            .enumerate()
                            .all(|(j, other)| j == i || !other.touches(*level, &action.key))
                })
                .collect(),
            None => Vec::new(),
        };
        marks.push(levels);
    }
    for (action, levels) in actions.iter_mut().zip(marks) {
        action.host_levels = levels;
    }
}

/// Hash the values of `columns` on `rows` in one host call; values of a type the collector does
/// not hash become `""`. Returns how many values changed.
fn hash_columns(
    working: &mut Working,
    columns: &[usize],
    rows: &[usize],
    digest: &Digest,
) -> Result<u64, String> {
    let mut cells = Vec::new();
    let mut inputs = BytesColumn::with_capacity(columns.len() * rows.len(), 0);
    let mut unhashable = Vec::new();
    for &column in columns {
        for &row in rows {
            if let Some(value) = working.get(column, row) {
                if push_hash_input(value, &mut inputs) {
                    cells.push((column, row));
                } else {
                    unhashable.push((column, row));
                }
            }
        }
    }
    let hexes = digests_of(digest, &inputs)?;
    let changed = (cells.len() + unhashable.len()) as u64;
    for ((column, row), hex) in cells.into_iter().zip(hexes) {
        working.set(column, row, Some(AttrValue::Str(hex)));
    }
    for (column, row) in unhashable {
        working.set(column, row, Some(AttrValue::Str(String::new())));
    }
    Ok(changed)
}

/// The collector's `convert`: `None` where the value stays as it is (already that type, or a
/// string that does not parse, or a type that does not convert).
fn convert(value: &AttrValue, to: Target) -> Option<AttrValue> {
    match (to, value) {
        (Target::String, AttrValue::Str(_)) => None,
        (Target::String, other) => Some(AttrValue::Str(other.as_string())),
        (Target::Int, AttrValue::Double(d)) => Some(AttrValue::Int(go_float_to_int(*d))),
        (Target::Int, AttrValue::Bool(b)) => Some(AttrValue::Int(i64::from(*b))),
        (Target::Int, AttrValue::Str(s)) => parse_go_int(s).map(AttrValue::Int),
        (Target::Double, AttrValue::Int(i)) => Some(AttrValue::Double(*i as f64)),
        (Target::Double, AttrValue::Bool(b)) => Some(AttrValue::Double(if *b { 1.0 } else { 0.0 })),
        (Target::Double, AttrValue::Str(s)) => parse_go_float(s).map(AttrValue::Double),
        _ => None,
    }
}

/// Go's `int64(f)`: truncation toward zero. Out of range and NaN are undefined in Go; on amd64
/// they give the minimum integer, which is what this gives too.
fn go_float_to_int(d: f64) -> i64 {
    if d.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&d) {
        i64::MIN
    } else {
        d.trunc() as i64
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)`: an optional sign, decimal digits, and underscores
/// nowhere (base 10 takes none).
fn parse_go_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Go's `strconv.ParseFloat(s, 64)`: decimal and hex floats, `inf`, `infinity`, `nan` in any
/// case, underscores between digits of a base-prefixed number only.
fn parse_go_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    let negative = lower.starts_with('-');
    match unsigned {
        "inf" | "infinity" => {
            return Some(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if unsigned.starts_with("0x") {
        return parse_hex_float(unsigned).map(|v| if negative { -v } else { v });
    }
    // Rust reads `inf`, `nan` and `e`-exponents like Go; it refuses what Go refuses otherwise
    // (no underscores, no hex), so only the forms Go allows remain.
    if unsigned
        .contains(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '+' || c == '-'))
    {
        return None;
    }
    s.parse::<f64>().ok()
}

/// A Go hex float (`0x1.8p3`); `None` when it is not one (Go requires the `p` exponent).
fn parse_hex_float(text: &str) -> Option<f64> {
    let body = text.strip_prefix("0x")?.replace('_', "");
    let (mantissa, exponent) = body.split_once('p')?;
    let exponent: i32 = exponent.parse().ok()?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in whole.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in fraction.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(value * 2f64.powi(exponent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_follow_go() {
        assert_eq!(parse_go_int("-42"), Some(-42));
        assert_eq!(parse_go_int("+7"), Some(7));
        assert_eq!(parse_go_int("1_000"), None);
        assert_eq!(parse_go_int("4.2"), None);
        assert_eq!(parse_go_int(""), None);
        assert_eq!(parse_go_float("2.5e3"), Some(2500.0));
        assert_eq!(parse_go_float("Inf"), Some(f64::INFINITY));
        assert_eq!(parse_go_float("-infinity"), Some(f64::NEG_INFINITY));
        assert!(parse_go_float("NaN").unwrap().is_nan());
        assert_eq!(parse_go_float("0x1.8p1"), Some(3.0));
        assert_eq!(parse_go_float("0x10"), None, "Go wants a p exponent");
        assert_eq!(parse_go_float("1,5"), None);
        assert_eq!(go_float_to_int(-2.9), -2);
        assert_eq!(go_float_to_int(f64::NAN), i64::MIN);
        assert_eq!(
            convert(&AttrValue::Bool(true), Target::Double),
            Some(AttrValue::Double(1.0))
        );
        assert_eq!(convert(&AttrValue::Str("x".into()), Target::Int), None);
        assert_eq!(convert(&AttrValue::Int(3), Target::Int), None);
        assert_eq!(
            convert(&AttrValue::Double(2.5), Target::String),
            Some(AttrValue::Str("2.5".into()))
        );
    }
}
