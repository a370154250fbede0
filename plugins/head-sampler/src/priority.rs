//! The `sampling.priority` span attribute, read as the collector reads it: an integer, a float
//! or a string Go's `strconv.ParseFloat` accepts; zero drops the span, more than zero keeps it,
//! anything else leaves the decision to the rate.

use spanwise_sdk::Value;

/// What a span's `sampling.priority` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// No priority, a negative one, or one that does not read as a number: the rate decides.
    Defer,
    /// Greater than zero: kept whatever the rate.
    Keep,
    /// Zero: dropped whatever the rate.
    Drop,
}

impl Priority {
    /// The priority an attribute value gives.
    pub fn of(value: &Value) -> Priority {
        let number = match value {
            Value::Int(i) => *i as f64,
            Value::Double(d) => *d,
            Value::Str(s) => match parse_go_float(s) {
                Some(f) => f,
                None => return Priority::Defer,
            },
            _ => return Priority::Defer,
        };
        if number == 0.0 {
            Priority::Drop
        } else if number > 0.0 {
            Priority::Keep
        } else {
            // Negative, or NaN.
            Priority::Defer
        }
    }
}

/// Go's `strconv.ParseFloat(s, 64)` where it succeeds: decimal and hexadecimal (`0x1p-2`)
/// forms, `_` between digits, `inf`/`infinity`/`nan` in any case. A value out of range is an
/// error there (`1e400`), so `None` here.
pub fn parse_go_float(s: &str) -> Option<f64> {
    let owned;
    let text = if s.contains('_') {
        if !underscores_ok(s) {
            return None;
        }
        owned = s.replace('_', "");
        owned.as_str()
    } else {
        s
    };
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'+') => (false, &text[1..]),
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    if unsigned.len() > 2 && unsigned[..2].eq_ignore_ascii_case("0x") {
        let magnitude = parse_hex_float(&unsigned[2..])?;
        return Some(if negative { -magnitude } else { magnitude });
    }
    // Rust's grammar is Go's for decimals but for the sign (checked above) and hex forms.
    if unsigned.starts_with(['+', '-']) {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    let spelled_infinite = ["inf", "infinity"]
        .iter()
        .any(|name| unsigned.eq_ignore_ascii_case(name));
    if value.is_infinite() && !spelled_infinite {
        return None;
    }
    Some(value)
}

/// `p` is mandatory: hex digits with at most one point, then `p` and a decimal exponent.
fn parse_hex_float(s: &str) -> Option<f64> {
    let p = s.find(['p', 'P'])?;
    let (mantissa, exponent) = (&s[..p], &s[p + 1..]);
    let exponent: i64 = match exponent.strip_prefix('+') {
        Some(rest) if !rest.starts_with('-') => rest.parse().ok()?,
        _ => exponent.parse().ok()?,
    };
    let mut value = 0f64;
    let mut digits = 0;
    let mut fraction_digits = 0i64;
    let mut seen_point = false;
    for c in mantissa.chars() {
        match c {
            '.' if !seen_point => seen_point = true,
            c => {
                value = value * 16.0 + f64::from(c.to_digit(16)?);
                digits += 1;
                if seen_point {
                    fraction_digits += 1;
                }
            }
        }
    }
    if digits == 0 {
        return None;
    }
    let scale = (exponent - 4 * fraction_digits).clamp(-5000, 5000) as i32;
    let result =
        value * 2f64.powi(scale.clamp(-1074, 1023)) * 2f64.powi(scale - scale.clamp(-1074, 1023));
    if result.is_infinite() {
        return None;
    }
    Some(result)
}

/// Go's rule for `_` in number literals: only between digits, or after a base prefix.
fn underscores_ok(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let mut saw = b'^';
    let mut hex = false;
    if bytes.len() >= i + 2
        && bytes[i] == b'0'
        && matches!(bytes[i + 1].to_ascii_lowercase(), b'b' | b'o' | b'x')
    {
        hex = bytes[i + 1].eq_ignore_ascii_case(&b'x');
        i += 2;
        saw = b'0';
    }
    for &c in &bytes[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else if saw == b'_' {
            return false;
        } else {
            saw = b'!';
        }
    }
    saw != b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_syntax() {
        for (text, expected) in [
            ("0", Some(0.0)),
            ("1.5", Some(1.5)),
            ("+.5", Some(0.5)),
            ("-1", Some(-1.0)),
            ("1e-400", Some(0.0)),
            ("1_000", Some(1000.0)),
            ("0x1p-2", Some(0.25)),
            ("-0x1.8p1", Some(-3.0)),
            ("0x_1p0", Some(1.0)),
            ("inf", Some(f64::INFINITY)),
            ("-Infinity", Some(f64::NEG_INFINITY)),
        ] {
            assert_eq!(parse_go_float(text), expected, "{text}");
        }
        for bad in [
            "", " 1", "1 ", "abc", "1e400", "0x1p2000", "1__0", "_1", "1_", "0x1", "+-1", "--1",
            "0x", "0xp1",
        ] {
            assert_eq!(parse_go_float(bad), None, "{bad:?}");
        }
        assert!(parse_go_float("NaN").unwrap().is_nan());
    }

    #[test]
    fn priorities() {
        assert_eq!(Priority::of(&Value::Int(0)), Priority::Drop);
        assert_eq!(Priority::of(&Value::Int(3)), Priority::Keep);
        assert_eq!(Priority::of(&Value::Int(-3)), Priority::Defer);
        assert_eq!(Priority::of(&Value::Double(0.0)), Priority::Drop);
        assert_eq!(Priority::of(&Value::Double(f64::NAN)), Priority::Defer);
        assert_eq!(Priority::of(&Value::Str("2".into())), Priority::Keep);
        assert_eq!(Priority::of(&Value::Str("x".into())), Priority::Defer);
        assert_eq!(Priority::of(&Value::Bool(true)), Priority::Defer);
    }
}
