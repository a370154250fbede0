//! Conditions evaluated a column at a time over a selection of rows.
//!
//! [`Program::select`] returns the rows of a selection on which a condition holds. The shapes
//! platform configs are made of run as tight loops over whole columns: `path == "text"` (and
//! `!=`) over packed strings, and comparisons of integer arithmetic over integer columns
//! (`end_time_unix_nano - start_time_unix_nano < 1000000`). Everything else, and any column the
//! [`Table`] cannot lend whole, runs row by row through [`Program::eval`]'s evaluator, so the
//! results are the same either way (a test compares them on every case).
//!
//! OTTL's short circuits hold: the right side of `and` is evaluated only on the rows where the
//! left side holds, the right side of `or` only where it does not. A row on which a condition
//! fails leaves the selection with its error, neither true nor false, as it does row by row.

use crate::program::{Cond, Expr};
use crate::{CompareOp, EvalError, MathOp, Program, Row, Val};
use std::borrow::Cow;

/// A source's values over every row of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub enum Column<'a> {
    /// Packed strings, spanwise's `str-column` layout: where `present[r] != 0`, row `r`'s value
    /// is the string `data[offsets[r]..offsets[r + 1]]`; elsewhere it is missing or of another
    /// type. Only tests for equality with a string read this form.
    Strings {
        /// `rows + 1` offsets into `data`.
        offsets: &'a [u32],
        /// The strings, back to back.
        data: &'a [u8],
        /// One flag per row.
        present: &'a [u8],
    },
    /// Every row's value is this integer.
    Ints(&'a [i64]),
    /// Not lent whole: read row by row through [`Table::row`].
    Rows,
}

/// The loaded sources of a batch, column by column and row by row.
pub trait Table {
    /// One row's view.
    type Row<'a>: Row
    where
        Self: 'a;

    /// The values of source number `slot` over every row, when they can be lent whole.
    fn column(&self, slot: usize) -> Column<'_>;

    /// Row number `row`.
    fn row(&self, row: u32) -> Self::Row<'_>;
}

impl Program {
    /// The rows of `rows` (ascending) on which the condition holds, ascending. A row on which
    /// it fails is in neither the result nor its complement: it is pushed onto `errors`.
    pub fn select<T: Table + ?Sized>(
        &self,
        table: &T,
        rows: &[u32],
        errors: &mut Vec<(u32, EvalError)>,
    ) -> Vec<u32> {
        select(self.cond(), table, rows, errors)
    }
}

fn select<T: Table + ?Sized>(
    cond: &Cond,
    table: &T,
    rows: &[u32],
    errors: &mut Vec<(u32, EvalError)>,
) -> Vec<u32> {
    match cond {
        Cond::And(a, b) => {
            let left = select(a, table, rows, errors);
            select(b, table, &left, errors)
        }
        Cond::Or(a, b) => {
            let failed = errors.len();
            let left = select(a, table, rows, errors);
            let rest = complement(rows, &left, &errors[failed..]);
            let right = select(b, table, &rest, errors);
            merge(&left, &right)
        }
        Cond::Not(a) => {
            let failed = errors.len();
            let held = select(a, table, rows, errors);
            complement(rows, &held, &errors[failed..])
        }
        Cond::Const(true) => rows.to_vec(),
        Cond::Const(false) => Vec::new(),
        Cond::ReadEqStr { slot, equal, text } => match table.column(*slot) {
            Column::Strings {
                offsets,
                data,
                present,
            } => {
                let text = text.as_bytes();
                rows.iter()
                    .copied()
                    .filter(|&row| {
                        let r = row as usize;
                        let same = present[r] != 0 && {
                            let (start, end) = (offsets[r] as usize, offsets[r + 1] as usize);
                            end - start == text.len() && &data[start..end] == text
                        };
                        same == *equal
                    })
                    .collect()
            }
            _ => row_by_row(cond, table, rows, errors),
        },
        Cond::Compare(left, op, right) => {
            match (ints(left, table, rows), ints(right, table, rows)) {
                (Some(left), Some(right)) => compare(rows, &left, *op, &right),
                _ => row_by_row(cond, table, rows, errors),
            }
        }
        Cond::Call(_) => row_by_row(cond, table, rows, errors),
    }
}

fn row_by_row<T: Table + ?Sized>(
    cond: &Cond,
    table: &T,
    rows: &[u32],
    errors: &mut Vec<(u32, EvalError)>,
) -> Vec<u32> {
    let mut out = Vec::new();
    for &row in rows {
        match cond.eval(&table.row(row)) {
            Ok(true) => out.push(row),
            Ok(false) => {}
            Err(error) => errors.push((row, error)),
        }
    }
    out
}

/// Integer values over a selection of rows: one per row, or one for every row (a literal, or
/// arithmetic on literals only), which is never copied out per row. A column read over every
/// row of the table is borrowed as it is.
#[derive(Debug)]
enum Ints<'a> {
    /// The same value on every row.
    All(i64),
    /// One value per row of the selection, in order.
    Each(Cow<'a, [i64]>),
}

impl Ints<'_> {
    fn each(values: Vec<i64>) -> Self {
        Ints::Each(Cow::Owned(values))
    }
}

/// The integer values of `expr` on `rows`, when it is integer arithmetic that cannot fail over
/// integer columns and literals (division only by a non-zero literal): Go's wrapping integer
/// arithmetic, as [`crate::arithmetic`] does it.
fn ints<'t, T: Table + ?Sized>(expr: &Expr, table: &'t T, rows: &[u32]) -> Option<Ints<'t>> {
    Some(match expr {
        Expr::Literal(Val::Int(i)) => Ints::All(*i),
        Expr::Read { slot, keys } if keys.is_empty() => match table.column(*slot) {
            // Ascending rows from the first to the last, as many as the column's, are all of
            // them in order.
            Column::Ints(values)
                if rows.len() == values.len()
                    && rows.first() == Some(&0)
                    && rows.last().map(|&r| r as usize + 1) == Some(values.len()) =>
            {
                Ints::Each(Cow::Borrowed(values))
            }
            Column::Ints(values) => {
                Ints::each(rows.iter().map(|&row| values[row as usize]).collect())
            }
            _ => return None,
        },
        Expr::Neg(a) => map(ints(a, table, rows)?, i64::wrapping_neg),
        Expr::Math(a, op, b) => {
            if *op == MathOp::Div && !matches!(**b, Expr::Literal(Val::Int(d)) if d != 0) {
                return None;
            }
            let (a, b) = (ints(a, table, rows)?, ints(b, table, rows)?);
            // One loop per operator, so that each is a loop of plain arithmetic.
            match op {
                MathOp::Add => combine(a, b, i64::wrapping_add),
                MathOp::Sub => combine(a, b, i64::wrapping_sub),
                MathOp::Mul => combine(a, b, i64::wrapping_mul),
                MathOp::Div => combine(a, b, i64::wrapping_div),
            }
        }
        _ => return None,
    })
}

fn map<'a>(values: Ints<'a>, f: impl Fn(i64) -> i64) -> Ints<'a> {
    match values {
        Ints::All(v) => Ints::All(f(v)),
        Ints::Each(values) => Ints::each(values.iter().map(|&v| f(v)).collect()),
    }
}

fn combine<'a>(left: Ints<'a>, right: Ints<'a>, f: impl Fn(i64, i64) -> i64) -> Ints<'a> {
    match (left, right) {
        (Ints::All(l), Ints::All(r)) => Ints::All(f(l, r)),
        (Ints::Each(l), Ints::All(r)) => Ints::each(l.iter().map(|&v| f(v, r)).collect()),
        (Ints::All(l), Ints::Each(r)) => Ints::each(r.iter().map(|&v| f(l, v)).collect()),
        (Ints::Each(l), Ints::Each(r)) => {
            Ints::each(l.iter().zip(r.iter()).map(|(&l, &r)| f(l, r)).collect())
        }
    }
}

/// The rows of `rows` where `left op right` holds.
fn compare(rows: &[u32], left: &Ints, op: CompareOp, right: &Ints) -> Vec<u32> {
    // One loop per operator, as in `ints`.
    match op {
        CompareOp::Eq => rows_where(rows, left, right, |l, r| l == r),
        CompareOp::Ne => rows_where(rows, left, right, |l, r| l != r),
        CompareOp::Lt => rows_where(rows, left, right, |l, r| l < r),
        CompareOp::Le => rows_where(rows, left, right, |l, r| l <= r),
        CompareOp::Gt => rows_where(rows, left, right, |l, r| l > r),
        CompareOp::Ge => rows_where(rows, left, right, |l, r| l >= r),
    }
}

fn rows_where(
    rows: &[u32],
    left: &Ints,
    right: &Ints,
    holds: impl Fn(i64, i64) -> bool,
) -> Vec<u32> {
    match (left, right) {
        (Ints::All(l), Ints::All(r)) => {
            if holds(*l, *r) {
                rows.to_vec()
            } else {
                Vec::new()
            }
        }
        (Ints::Each(l), Ints::All(r)) => rows
            .iter()
            .zip(l.iter())
            .filter(|&(_, &v)| holds(v, *r))
            .map(|(&row, _)| row)
            .collect(),
        (Ints::All(l), Ints::Each(r)) => rows
            .iter()
            .zip(r.iter())
            .filter(|&(_, &v)| holds(*l, v))
            .map(|(&row, _)| row)
            .collect(),
        (Ints::Each(l), Ints::Each(r)) => rows
            .iter()
            .zip(l.iter().zip(r.iter()))
            .filter(|&(_, (&l, &r))| holds(l, r))
            .map(|(&row, _)| row)
            .collect(),
    }
}

/// The rows of `rows` in neither `held` nor `failed` (all three ascending).
fn complement(rows: &[u32], held: &[u32], failed: &[(u32, EvalError)]) -> Vec<u32> {
    // Errors arrive in the order the nested selections met them, not by row.
    let mut failed: Vec<u32> = failed.iter().map(|(row, _)| *row).collect();
    failed.sort_unstable();
    let (mut h, mut f) = (0, 0);
    let mut out = Vec::with_capacity(rows.len() - held.len());
    for &row in rows {
        if held.get(h) == Some(&row) {
            h += 1;
        } else if failed.get(f) == Some(&row) {
            f += 1;
        } else {
            out.push(row);
        }
    }
    out
}

/// Two disjoint ascending lists as one.
fn merge(a: &[u32], b: &[u32]) -> Vec<u32> {
    if b.is_empty() {
        return a.to_vec();
    }
    if a.is_empty() {
        return b.to_vec();
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] < b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}
