//! OTTL's comparison rules (the collector's `compare.go`, contrib v0.161.0), over [`Val`].
//!
//! - `nil` equals only `nil`; `nil` against `nil` is also `<=` and `>=`.
//! - Integers and floats compare as numbers (an integer against a float as floats).
//! - Strings compare byte by byte, booleans with `false < true`, bytes lexicographically.
//! - Lists and maps compare only for `==` and `!=`, as whole values (map order does not matter,
//!   and inside them an integer never equals a float).
//! - Any other pair (a string against a number, a map against `<`) is not comparable: only `!=`
//!   is true.

use crate::CompareOp;
use std::borrow::Cow;
use std::cmp::Ordering;

/// A value as a condition sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    /// A missing value (a missing attribute) or `nil`.
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// Bytes.
    Bytes(Cow<'a, [u8]>),
    /// A list.
    List(Vec<Val<'a>>),
    /// A map, in any order.
    Map(Vec<(String, Val<'a>)>),
}

impl Val<'_> {
    /// The same value borrowing this one's strings and bytes: no copy of them (lists and maps
    /// are still copied).
    pub fn view(&self) -> Val<'_> {
        match self {
            Val::Str(s) => Val::Str(Cow::Borrowed(s)),
            Val::Bytes(b) => Val::Bytes(Cow::Borrowed(b)),
            other => other.clone(),
        }
    }
}

/// Whether `a op b` holds under OTTL's rules.
pub fn compare(a: &Val<'_>, op: CompareOp, b: &Val<'_>) -> bool {
    use Val as V;
    let ordered = |ordering: Option<Ordering>| match ordering {
        Some(o) => holds(o, op),
        // NaN: Go's comparisons on NaN are all false but `!=`.
        None => op == CompareOp::Ne,
    };
    match (a, b) {
        (V::Nil, V::Nil) => matches!(op, CompareOp::Eq | CompareOp::Le | CompareOp::Ge),
        (V::Bool(x), V::Bool(y)) => holds(x.cmp(y), op),
        (V::Int(x), V::Int(y)) => holds(x.cmp(y), op),
        (V::Int(x), V::Float(y)) => ordered((*x as f64).partial_cmp(y)),
        (V::Float(x), V::Int(y)) => ordered(x.partial_cmp(&(*y as f64))),
        (V::Float(x), V::Float(y)) => ordered(x.partial_cmp(y)),
        (V::Str(x), V::Str(y)) => holds(x.as_bytes().cmp(y.as_bytes()), op),
        (V::Bytes(x), V::Bytes(y)) => holds(x.cmp(y), op),
        (V::List(_) | V::Map(_), V::List(_) | V::Map(_)) => match op {
            CompareOp::Eq => deep_equal(a, b),
            CompareOp::Ne => !deep_equal(a, b),
            _ => false,
        },
        _ => op == CompareOp::Ne,
    }
}

fn holds(ordering: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
    }
}

/// Go's `reflect.DeepEqual` on the raw forms: same types all the way down.
fn deep_equal(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::List(x), Val::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| deep_equal(x, y))
        }
        (Val::Map(x), Val::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .find(|(l, _)| l == k)
                        .is_some_and(|(_, w)| deep_equal(v, w))
                })
        }
        // NaN is not deeply equal to itself in Go either.
        (Val::Float(x), Val::Float(y)) => x == y,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b) && a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CompareOp::*;

    const OPS: [CompareOp; 6] = [Eq, Ne, Lt, Le, Gt, Ge];

    /// Which of `== != < <= > >=` hold.
    fn table(a: Val<'_>, b: Val<'_>) -> [bool; 6] {
        OPS.map(|op| compare(&a, op, &b))
    }

    fn s(text: &str) -> Val<'_> {
        Val::Str(Cow::Borrowed(text))
    }

    #[test]
    fn nil_equals_only_nil() {
        assert_eq!(
            table(Val::Nil, Val::Nil),
            [true, false, false, true, false, true]
        );
        let only_ne = [false, true, false, false, false, false];
        for other in [s(""), Val::Int(0), Val::Bool(false), Val::List(vec![])] {
            assert_eq!(table(Val::Nil, other.clone()), only_ne, "{other:?}");
            assert_eq!(table(other.clone(), Val::Nil), only_ne, "{other:?}");
        }
    }

    #[test]
    fn numbers_compare_across_int_and_float() {
        assert_eq!(
            table(Val::Int(2), Val::Float(2.0)),
            [true, false, false, true, false, true]
        );
        assert_eq!(
            table(Val::Float(1.5), Val::Int(2)),
            [false, true, true, true, false, false]
        );
        assert_eq!(
            table(Val::Int(3), Val::Int(2)),
            [false, true, false, false, true, true]
        );
        assert_eq!(
            table(Val::Float(f64::NAN), Val::Float(f64::NAN)),
            [false, true, false, false, false, false]
        );
    }

    #[test]
    fn strings_bools_and_bytes_order_within_their_type() {
        assert_eq!(
            table(s("Zebra"), s("apple")),
            [false, true, true, true, false, false]
        );
        assert_eq!(
            table(Val::Bool(false), Val::Bool(true)),
            [false, true, true, true, false, false]
        );
        assert_eq!(
            table(
                Val::Bytes(Cow::Borrowed(&[1, 2])),
                Val::Bytes(Cow::Borrowed(&[1, 2]))
            ),
            [true, false, false, true, false, true]
        );
    }

    #[test]
    fn mixed_types_are_only_unequal() {
        let only_ne = [false, true, false, false, false, false];
        assert_eq!(table(s("1"), Val::Int(1)), only_ne);
        assert_eq!(table(Val::Bool(true), Val::Int(1)), only_ne);
        assert_eq!(table(Val::Map(vec![]), Val::List(vec![])), only_ne);
    }

    #[test]
    fn lists_and_maps_compare_whole_and_only_for_equality() {
        let map = |entries: Vec<(&str, Val<'static>)>| {
            Val::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            )
        };
        let a = map(vec![("x", Val::Int(1)), ("y", s("b"))]);
        let b = map(vec![("y", s("b")), ("x", Val::Int(1))]);
        assert_eq!(
            table(a.clone(), b),
            [true, false, false, false, false, false]
        );
        let c = map(vec![("y", s("b")), ("x", Val::Float(1.0))]);
        assert_eq!(table(a, c), [false, true, false, false, false, false]);
        assert_eq!(
            table(Val::List(vec![Val::Int(1)]), Val::List(vec![Val::Int(1)])),
            [true, false, false, false, false, false]
        );
    }
}
