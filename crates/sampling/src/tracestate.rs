//! W3C `tracestate` and its OpenTelemetry (`ot`) entry, read and written as the collector's
//! `pkg/sampling` (contrib v0.161.0) does, so that a tracestate this plugin writes is the one the
//! collector would write for the same span.
//!
//! Reading checks the W3C syntax (lower-case keys, `tenant@system` keys, value characters, at
//! most 31 list members and 1,024 characters) and the `ot` entry's (`key:value` pairs separated
//! by `;`, at most 256 characters; `rv` exactly 14 hex digits, `th` 1 to 14). Like the collector,
//! a reader that fails still returns what it read before the failure, which the collector
//! writes back in one case (a rate of 0 with a priority that keeps the span).
//!
//! Writing puts the `ot` entry first (with `rv`, then `th`, then its other pairs) and the other
//! vendors' entries after it, in their order, without the blanks and empty members the input may
//! have had.

use crate::threshold::{Randomness, Threshold};

/// A value of the `ot` entry: as it was read (kept verbatim) or as the sampler set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text<'a, T> {
    /// Read from the input, written back as it was.
    Read(T, &'a str),
    /// Set by the sampler, written in canonical form.
    Set(T),
}

impl<T: Copy> Text<'_, T> {
    /// The value.
    pub fn value(&self) -> T {
        match self {
            Text::Read(v, _) | Text::Set(v) => *v,
        }
    }
}

/// The `ot` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtelState<'a> {
    /// `rv`: explicit randomness.
    pub rv: Option<Text<'a, Randomness>>,
    /// `th`: the threshold the span was sampled with.
    pub th: Option<Text<'a, Threshold>>,
    /// Other `key:value` pairs, in order.
    pub extra: Vec<(&'a str, &'a str)>,
}

/// A whole tracestate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceState<'a> {
    /// The `ot` entry (empty when there is none).
    pub ot: OtelState<'a>,
    /// The other entries, in order.
    pub others: Vec<(&'a str, &'a str)>,
}

/// A tracestate the sampler cannot read: it counts as a sampling error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable;

impl<'a> TraceState<'a> {
    /// Read `input`. On failure the error comes with what was read before it.
    pub fn parse(input: &'a str) -> (TraceState<'a>, Result<(), Unreadable>) {
        let mut state = TraceState::default();
        if input.is_empty() {
            return (state, Ok(()));
        }
        if input.len() > 1024 || !valid_w3c(input) {
            return (state, Err(Unreadable));
        }
        let mut result = Ok(());
        let mut items = 0;
        for member in members(input, b',') {
            items += 1;
            if items >= 32 {
                return (state, Err(Unreadable));
            }
            let member = member.trim_matches([' ', '\t']);
            let Some((key, value)) = member.split_once('=') else {
                continue;
            };
            let tenant_too_long = key
                .split_once('@')
                .is_some_and(|(tenant, system)| tenant.len() > 241 || system.len() > 14);
            if key.len() > 256 || tenant_too_long {
                result = Err(Unreadable);
                continue;
            }
            if key == "ot" {
                let (ot, read) = OtelState::parse(value);
                state.ot = ot;
                if read.is_err() {
                    result = Err(Unreadable);
                }
            } else {
                state.others.push((key, value));
            }
        }
        (state, result)
    }

    /// Append the tracestate to `out`.
    pub fn write(&self, out: &mut String) {
        let mut first = true;
        if self.ot.has_any_value() {
            out.push_str("ot=");
            self.ot.write(out);
            first = false;
        }
        for (key, value) in &self.others {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
    }
}

impl<'a> OtelState<'a> {
    fn parse(input: &'a str) -> (OtelState<'a>, Result<(), Unreadable>) {
        let mut state = OtelState::default();
        if input.len() > 256 || !valid_otel(input) {
            return (state, Err(Unreadable));
        }
        let mut result = Ok(());
        for member in members(input, b';') {
            let Some((key, value)) = member.split_once(':') else {
                continue;
            };
            match key {
                "rv" => {
                    state.rv = Randomness::parse(value).map(|r| Text::Read(r, value));
                    if state.rv.is_none() {
                        result = Err(Unreadable);
                    }
                }
                "th" => {
                    state.th = Threshold::parse(value).map(|t| Text::Read(t, value));
                    if state.th.is_none() {
                        result = Err(Unreadable);
                    }
                }
                _ => state.extra.push((key, value)),
            }
        }
        (state, result)
    }

    fn has_any_value(&self) -> bool {
        self.rv.is_some() || self.th.is_some() || !self.extra.is_empty()
    }

    fn write(&self, out: &mut String) {
        let mut first = true;
        let mut separate = |out: &mut String| {
            if !first {
                out.push(';');
            }
            first = false;
        };
        if let Some(rv) = self.rv {
            separate(out);
            out.push_str("rv:");
            match rv {
                Text::Read(_, text) => out.push_str(text),
                Text::Set(r) => r.write(out),
            }
        }
        // A threshold that keeps nothing has no `th` form; the collector writes none.
        if let Some(th) = self.th.filter(|th| th.value() != Threshold::NEVER) {
            separate(out);
            out.push_str("th:");
            match th {
                Text::Read(_, text) => out.push_str(text),
                Text::Set(t) => t.write(out),
            }
        }
        for (key, value) in &self.extra {
            separate(out);
            out.push_str(key);
            out.push(':');
            out.push_str(value);
        }
    }
}

/// The members of a list as Go's scanner cuts them: a trailing separator ends the list without
/// an empty member after it.
fn members(input: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(input).filter(|s| !s.is_empty());
    std::iter::from_fn(move || {
        let text = rest?;
        match text.bytes().position(|b| b == separator) {
            Some(at) => {
                rest = Some(&text[at + 1..]).filter(|s| !s.is_empty());
                Some(&text[..at])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

fn valid_w3c(input: &str) -> bool {
    members(input, b',').all(|member| {
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            return true;
        }
        match member.find('=') {
            Some(eq) if eq >= 1 => {
                valid_w3c_key(&member[..eq]) && valid_w3c_value(&member[eq + 1..])
            }
            _ => false,
        }
    })
}

fn valid_w3c_key(key: &str) -> bool {
    let key_chars = |s: &str| {
        s.bytes().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-' | b'*' | b'/')
        })
    };
    match key.split_once('@') {
        Some((tenant, system)) => {
            let (Some(&t), Some(&s)) = (tenant.as_bytes().first(), system.as_bytes().first())
            else {
                return false;
            };
            (t.is_ascii_lowercase() || t.is_ascii_digit())
                && s.is_ascii_lowercase()
                && key_chars(&tenant[1..])
                && key_chars(&system[1..])
        }
        None => match key.as_bytes().first() {
            Some(c) if c.is_ascii_lowercase() => key_chars(&key[1..]),
            _ => false,
        },
    }
}

fn valid_w3c_value(value: &str) -> bool {
    let non_blank = |c: u8| matches!(c, 0x21..=0x2B | 0x2D..=0x3C | 0x3E..=0x7E);
    let bytes = value.as_bytes();
    match bytes.split_last() {
        Some((&last, body)) if bytes.len() <= 256 => {
            non_blank(last) && body.iter().all(|&c| c == 0x20 || non_blank(c))
        }
        _ => false,
    }
}

fn valid_otel(input: &str) -> bool {
    if input.is_empty() || input.ends_with(';') {
        return false;
    }
    input.split(';').all(|member| match member.find(':') {
        Some(colon) if colon >= 1 => {
            let (key, value) = (&member[..colon], &member[colon + 1..]);
            key.as_bytes()[0].is_ascii_lowercase()
                && key[1..]
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && value
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(input: &str) -> (String, bool) {
        let (state, read) = TraceState::parse(input);
        let mut out = String::new();
        state.write(&mut out);
        (out, read.is_ok())
    }

    #[test]
    fn reads_and_writes_as_the_collector() {
        assert_eq!(round_trip(""), (String::new(), true));
        assert_eq!(
            round_trip("a=1, ot=th:4 ,b=2"),
            ("ot=th:4,a=1,b=2".into(), true)
        );
        assert_eq!(round_trip("  a=1 ,, b=2  "), ("a=1,b=2".into(), true));
        assert_eq!(
            round_trip("ot=th:8;x:y;rv:80000000000000"),
            ("ot=rv:80000000000000;th:8;x:y".into(), true)
        );
        assert!(!round_trip("ot=rv:xyz").1);
        assert_eq!(round_trip("ot=TH:8"), (String::new(), false));
        assert_eq!(round_trip("Bad=1"), (String::new(), false));
        assert!(round_trip("tenant@vendor=v").1);
        let many = |n: usize| {
            (0..n)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(round_trip(&many(31)), (many(31), true));
        // The 32nd member fails the read; what came before it is kept.
        assert_eq!(round_trip(&many(32)), (many(31), false));
    }

    #[test]
    fn members_follow_gos_scanner() {
        assert_eq!(members("a,b,", b',').collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(members(",a", b',').collect::<Vec<_>>(), ["", "a"]);
        assert_eq!(members("", b',').count(), 0);
    }
}
