//! OTTL's arithmetic (the collector's `math.go`, contrib v0.161.0) on [`Val`].
//!
//! Integers with integers stay integers, wrapping on overflow as Go's do; an integer with a float
//! is a float. Anything else (a string, `nil`, a missing attribute) is an error, and so is
//! dividing by zero, integer or float. The times and durations OTTL also adds up are not values
//! here: `*_unix_nano` paths are integers.

use crate::{MathOp, Val};

/// Why arithmetic failed on a row. Under the filter's `error_mode: ignore` the condition counts
/// as false for that row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// `a op b`.
pub fn arithmetic(a: &Val<'_>, op: MathOp, b: &Val<'_>) -> Result<Val<'static>, EvalError> {
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => {
            let (x, y) = (*x, *y);
            Ok(Val::Int(match op {
                MathOp::Add => x.wrapping_add(y),
                MathOp::Sub => x.wrapping_sub(y),
                MathOp::Mul => x.wrapping_mul(y),
                MathOp::Div if y == 0 => return Err(divide_by_zero()),
                // Go: the most negative integer divided by -1 is itself.
                MathOp::Div => x.wrapping_div(y),
            }))
        }
        (Val::Int(_) | Val::Float(_), Val::Int(_) | Val::Float(_)) => {
            let (x, y) = (as_float(a), as_float(b));
            Ok(Val::Float(match op {
                MathOp::Add => x + y,
                MathOp::Sub => x - y,
                MathOp::Mul => x * y,
                MathOp::Div if y == 0.0 => return Err(divide_by_zero()),
                MathOp::Div => x / y,
            }))
        }
        (Val::Int(_) | Val::Float(_), other) => Err(EvalError(format!(
            "{} must be an integer or a float",
            describe(other)
        ))),
        (other, _) => Err(EvalError(format!(
            "{} must be an integer or a float for arithmetic",
            describe(other)
        ))),
    }
}

/// `-a`.
pub fn negate(a: &Val<'_>) -> Result<Val<'static>, EvalError> {
    match a {
        Val::Int(x) => Ok(Val::Int(x.wrapping_neg())),
        Val::Float(x) => Ok(Val::Float(-x)),
        other => Err(EvalError(format!("cannot negate {}", describe(other)))),
    }
}

fn as_float(v: &Val<'_>) -> f64 {
    match v {
        Val::Int(i) => *i as f64,
        Val::Float(f) => *f,
        _ => unreachable!("only numbers reach here"),
    }
}

fn divide_by_zero() -> EvalError {
    EvalError("attempted to divide by 0".into())
}

pub(crate) fn describe(v: &Val<'_>) -> String {
    match v {
        Val::Nil => "nil (a missing value)".into(),
        Val::Bool(b) => format!("the boolean {b}"),
        Val::Int(i) => format!("the integer {i}"),
        Val::Float(f) => format!("the float {f}"),
        Val::Str(s) => format!("the string {s:?}"),
        Val::Bytes(_) => "a byte string".into(),
        Val::List(_) => "a list".into(),
        Val::Map(_) => "a map".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn integers_stay_integers_and_wrap_as_go_does() {
        let int = |x, op, y| arithmetic(&Val::Int(x), op, &Val::Int(y));
        assert_eq!(int(7, MathOp::Div, 2), Ok(Val::Int(3)));
        assert_eq!(
            int(-7, MathOp::Div, 2),
            Ok(Val::Int(-3)),
            "truncated toward zero"
        );
        assert_eq!(int(i64::MAX, MathOp::Add, 1), Ok(Val::Int(i64::MIN)));
        assert_eq!(int(i64::MIN, MathOp::Div, -1), Ok(Val::Int(i64::MIN)));
        assert_eq!(int(3, MathOp::Mul, -4), Ok(Val::Int(-12)));
        assert_eq!(
            int(1, MathOp::Div, 0),
            Err(EvalError("attempted to divide by 0".into()))
        );
        assert_eq!(negate(&Val::Int(i64::MIN)), Ok(Val::Int(i64::MIN)));
    }

    #[test]
    fn a_float_makes_a_float_and_other_types_fail() {
        assert_eq!(
            arithmetic(&Val::Int(1), MathOp::Add, &Val::Float(0.5)),
            Ok(Val::Float(1.5))
        );
        assert_eq!(
            arithmetic(&Val::Float(3.0), MathOp::Div, &Val::Int(2)),
            Ok(Val::Float(1.5))
        );
        assert!(arithmetic(&Val::Float(1.0), MathOp::Div, &Val::Float(0.0)).is_err());
        let text = Val::Str(Cow::Borrowed("5"));
        assert_eq!(
            arithmetic(&Val::Int(1), MathOp::Add, &text),
            Err(EvalError(
                "the string \"5\" must be an integer or a float".into()
            ))
        );
        assert!(arithmetic(&Val::Nil, MathOp::Sub, &Val::Int(1)).is_err());
        assert_eq!(negate(&Val::Float(2.5)), Ok(Val::Float(-2.5)));
        assert!(negate(&Val::Bool(true)).is_err());
    }
}
