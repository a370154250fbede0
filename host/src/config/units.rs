//! Durations (`200ms`, `5s`) and byte sizes (`64MiB`, `512KiB`, `1048576`) in config values.

use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// Parse a duration: a number followed by `ns`, `us`, `ms`, `s`, `m` or `h`, as the collector
/// writes them. A bare `0` is zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("{text:?} has no unit: write it like 200ms, 5s or 1m"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration: write it like 200ms, 5s or 1m"))?;
    let nanos_per_unit = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        _ => {
            return Err(format!(
                "{text:?} has unknown unit {unit:?}: use ns, us, ms, s, m or h"
            ));
        }
    };
    Ok(Duration::from_nanos(
        (number * nanos_per_unit).round() as u64
    ))
}

/// Parse a byte size: a whole number of bytes, or a number with `KiB`, `MiB`, `GiB`, `KB`, `MB`
/// or `GB`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size: write it like 64MiB or 1048576"))?;
    let multiplier = match unit.trim() {
        "" | "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        other => {
            return Err(format!(
                "{text:?} has unknown unit {other:?}: use B, KiB, MiB, GiB, KB, MB or GB"
            ));
        }
    };
    Ok((number * multiplier).round() as usize)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StrOrNumber {
    Str(String),
    Number(u64),
}

/// `serde` helper for a duration field.
pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    match StrOrNumber::deserialize(d)? {
        StrOrNumber::Str(s) => parse_duration(&s).map_err(serde::de::Error::custom),
        StrOrNumber::Number(0) => Ok(Duration::ZERO),
        StrOrNumber::Number(n) => Err(serde::de::Error::custom(format!(
            "{n} has no unit: write it like {n}ms or {n}s"
        ))),
    }
}

/// `serde` helper for a byte-size field.
pub fn size<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    match StrOrNumber::deserialize(d)? {
        StrOrNumber::Str(s) => parse_size(&s).map_err(serde::de::Error::custom),
        StrOrNumber::Number(n) => Ok(n as usize),
    }
}

/// A scalar written where text is meant: a string as it is, a number or a boolean as its text
/// (so `sha256: 0123...` or a key that is all digits, which YAML or `${env:...}` make numbers,
/// still arrive as text).
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Int(i64),
    Uint(u64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn into_text(self) -> String {
        match self {
            Scalar::Str(s) => s,
            Scalar::Int(n) => n.to_string(),
            Scalar::Uint(n) => n.to_string(),
            Scalar::Float(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// `serde` helper for an optional text field that a number may stand in for.
pub fn optional_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Scalar>::deserialize(d)?.map(Scalar::into_text))
}

/// `serde` helper for a map of text values (keys, headers) that numbers may stand in for.
pub fn text_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<std::collections::BTreeMap<String, String>, D::Error> {
    Ok(
        std::collections::BTreeMap::<String, Scalar>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| (k, v.into_text()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_parse_like_the_collector() {
        assert_eq!(parse_duration("200ms").unwrap(), Duration::from_millis(200));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("200").unwrap_err().contains("no unit"));
        assert!(parse_duration("2 weeks").is_err());
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert_eq!(parse_size("4MB").unwrap(), 4_000_000);
        assert!(parse_size("4 parsecs").is_err());
    }

    #[test]
    fn numbers_stand_in_for_text() {
        let map: std::collections::BTreeMap<String, String> =
            text_map(serde_json::json!({"a": "x", "b": 1234567890123456_i64, "c": true})).unwrap();
        assert_eq!(map["b"], "1234567890123456");
        assert_eq!(map["c"], "true");
        assert_eq!(
            optional_text(serde_json::json!(12)).unwrap().as_deref(),
            Some("12")
        );
        assert!(text_map(serde_json::json!({"a": [1]})).is_err());
    }
}
