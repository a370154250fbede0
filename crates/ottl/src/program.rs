//! Conditions compiled for evaluation: paths resolved to [`Source`]s shared by every condition of
//! a [`Compiler`], enum symbols turned into integers, regexes compiled, converters checked for
//! their arguments. Evaluating one row then allocates only where a value has to be built (a
//! map read through a nested index, a lower-cased string).

use crate::functions::{self, Func};
use crate::path::{self, Context, Index, Source};
use crate::{Arg, Call, CompareOp, Condition, EvalError, MathOp, Val, Value, arithmetic, negate};
use std::borrow::Cow;

/// Why a parsed condition cannot be evaluated here: an unknown path, enum or converter, or a
/// converter called with the wrong arguments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CompileError(pub String);

/// One row's values, as a processor reads them from its batch.
pub trait Row {
    /// The value of source number `slot` ([`Compiler::sources`]) on this row: [`Val::Nil`] for
    /// a missing attribute.
    fn get(&self, slot: usize) -> Result<Val<'_>, EvalError>;
}

/// Compiles the conditions of one context, collecting the sources they read.
#[derive(Debug)]
pub struct Compiler {
    context: Context,
    sources: Vec<Source>,
    /// For each slot, whether some use needs its values of every type (see
    /// [`Compiler::strings_only`]).
    all_types: Vec<bool>,
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub struct Program(Cond);

#[derive(Debug, Clone)]
pub(crate) enum Cond {
    Or(Box<Cond>, Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Compare(Expr, CompareOp, Expr),
    /// `path == "text"` or `path != "text"`.
    ReadEqStr {
        slot: usize,
        equal: bool,
        text: String,
    },
    Const(bool),
    Call(Box<Func<Expr>>),
}

/// A compiled value.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Literal(Val<'static>),
    Read { slot: usize, keys: Vec<Index> },
    Math(Box<Expr>, MathOp, Box<Expr>),
    Neg(Box<Expr>),
    Call(Box<Func<Expr>>),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
}

impl Compiler {
    /// A compiler for conditions over `context`.
    pub fn new(context: Context) -> Self {
        Self {
            context,
            sources: Vec::new(),
            all_types: Vec::new(),
        }
    }

    /// The sources the compiled conditions read, in slot order.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// Whether every use of source `slot` compares it with `==` or `!=` to a string literal.
    /// Then a value of another type reads exactly as a missing one (unequal to the string), so
    /// a processor may load only the source's string values.
    pub fn strings_only(&self, slot: usize) -> bool {
        !self.all_types[slot]
    }

    /// Compile one parsed condition.
    pub fn compile(&mut self, condition: &Condition) -> Result<Program, CompileError> {
        self.condition(condition).map(Program)
    }

    fn condition(&mut self, condition: &Condition) -> Result<Cond, CompileError> {
        Ok(match condition {
            Condition::Or(a, b) => {
                Cond::Or(Box::new(self.condition(a)?), Box::new(self.condition(b)?))
            }
            Condition::And(a, b) => {
                Cond::And(Box::new(self.condition(a)?), Box::new(self.condition(b)?))
            }
            Condition::Not(a) => Cond::Not(Box::new(self.condition(a)?)),
            Condition::Compare { left, op, right } => {
                // The common shape `path == "text"`: one read, no intermediate values.
                let string_test = matches!(op, CompareOp::Eq | CompareOp::Ne);
                match (left, right) {
                    (Value::Path(fields), Value::Str(text))
                    | (Value::Str(text), Value::Path(fields))
                        if string_test =>
                    {
                        let resolved = path::resolve(self.context, fields).map_err(CompileError)?;
                        if resolved.keys.is_empty() {
                            let slot = self.slot(resolved.source, false);
                            return Ok(Cond::ReadEqStr {
                                slot,
                                equal: *op == CompareOp::Eq,
                                text: text.clone(),
                            });
                        }
                        Cond::Compare(self.value(left)?, *op, self.value(right)?)
                    }
                    _ => Cond::Compare(self.value(left)?, *op, self.value(right)?),
                }
            }
            Condition::Const(b) => Cond::Const(*b),
            Condition::Call(call) => {
                let func = self.call(call)?;
                if !func.returns_bool() {
                    return Err(CompileError(format!(
                        "`{}` does not return a boolean, so it cannot be a condition on its own",
                        call.name
                    )));
                }
                Cond::Call(Box::new(func))
            }
        })
    }

    pub(crate) fn value(&mut self, value: &Value) -> Result<Expr, CompileError> {
        Ok(match value {
            Value::Nil => Expr::Literal(Val::Nil),
            Value::Str(s) => Expr::Literal(Val::Str(Cow::Owned(s.clone()))),
            Value::Int(i) => Expr::Literal(Val::Int(*i)),
            Value::Float(f) => Expr::Literal(Val::Float(*f)),
            Value::Bool(b) => Expr::Literal(Val::Bool(*b)),
            Value::Bytes(b) => Expr::Literal(Val::Bytes(Cow::Owned(b.clone()))),
            Value::Enum(name) => Expr::Literal(Val::Int(path::enum_value(name).ok_or_else(
                || {
                    CompileError(format!(
                        "unknown enum `{name}` (the span contexts define SPAN_KIND_* and STATUS_CODE_*)"
                    ))
                },
            )?)),
            Value::Path(fields) => {
                let resolved = path::resolve(self.context, fields).map_err(CompileError)?;
                Expr::Read {
                    slot: self.slot(resolved.source, true),
                    keys: resolved.keys,
                }
            }
            Value::Call(call) => {
                let func = self.call(call)?;
                if !call.keys.is_empty() {
                    return Err(CompileError(format!(
                        "indexing the result of `{}` is outside what this filter reads",
                        call.name
                    )));
                }
                Expr::Call(Box::new(func))
            }
            Value::List(items) => Expr::List(
                items
                    .iter()
                    .map(|item| self.value(item))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Map(entries) => Expr::Map(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.value(v)?)))
                    .collect::<Result<_, CompileError>>()?,
            ),
            Value::Math { left, op, right } => Expr::Math(
                Box::new(self.value(left)?),
                *op,
                Box::new(self.value(right)?),
            ),
            Value::Neg(inner) => Expr::Neg(Box::new(self.value(inner)?)),
        })
    }

    fn call(&mut self, call: &Call) -> Result<Func<Expr>, CompileError> {
        let mut args = Vec::with_capacity(call.args.len());
        for arg in &call.args {
            match arg {
                Arg::Value(v) => args.push((None, self.value(v)?)),
                Arg::Named(name, v) => args.push((Some(name.as_str()), self.value(v)?)),
                Arg::Function(name) => {
                    return Err(CompileError(format!(
                        "`{}`: passing the function `{name}` as an argument is outside what this filter reads",
                        call.name
                    )));
                }
            }
        }
        let context = self.context;
        functions::build(context, &call.name, args, &mut |source| {
            self.slot(source, true)
        })
    }

    fn slot(&mut self, source: Source, all_types: bool) -> usize {
        let slot = match self.sources.iter().position(|s| *s == source) {
            Some(slot) => slot,
            None => {
                self.sources.push(source);
                self.all_types.push(false);
                self.sources.len() - 1
            }
        };
        self.all_types[slot] |= all_types;
        slot
    }
}

impl Program {
    /// Whether the condition holds on `row`.
    pub fn eval<R: Row + ?Sized>(&self, row: &R) -> Result<bool, EvalError> {
        self.0.eval(row)
    }

    pub(crate) fn cond(&self) -> &Cond {
        &self.0
    }
}

impl Cond {
    pub(crate) fn eval<R: Row + ?Sized>(&self, row: &R) -> Result<bool, EvalError> {
        Ok(match self {
            // OTTL stops at the first term that decides, so a later term's error does not count.
            Cond::Or(a, b) => a.eval(row)? || b.eval(row)?,
            Cond::And(a, b) => a.eval(row)? && b.eval(row)?,
            Cond::Not(a) => !a.eval(row)?,
            Cond::Compare(left, op, right) => {
                crate::compare(&left.eval(row)?, *op, &right.eval(row)?)
            }
            Cond::ReadEqStr { slot, equal, text } => {
                let same = matches!(row.get(*slot)?, Val::Str(s) if *s == **text);
                same == *equal
            }
            Cond::Const(b) => *b,
            Cond::Call(func) => match func.eval(row)? {
                Val::Bool(b) => b,
                other => {
                    return Err(EvalError(format!(
                        "a condition must be a boolean, not {}",
                        crate::math::describe(&other)
                    )));
                }
            },
        })
    }
}

impl Expr {
    pub(crate) fn eval<'r, R: Row + ?Sized>(&'r self, row: &'r R) -> Result<Val<'r>, EvalError> {
        match self {
            Expr::Literal(v) => Ok(v.view()),
            Expr::Read { slot, keys } => {
                let mut value = row.get(*slot)?;
                for key in keys {
                    value = index(value, key)?;
                }
                Ok(value)
            }
            Expr::Math(a, op, b) => arithmetic(&a.eval(row)?, *op, &b.eval(row)?),
            Expr::Neg(a) => negate(&a.eval(row)?),
            Expr::Call(func) => func.eval(row),
            Expr::List(items) => Ok(Val::List(
                items
                    .iter()
                    .map(|item| item.eval(row))
                    .collect::<Result<_, _>>()?,
            )),
            Expr::Map(entries) => Ok(Val::Map(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.eval(row)?)))
                    .collect::<Result<_, EvalError>>()?,
            )),
        }
    }

    /// The literal string, if this is one (regex patterns must be).
    pub(crate) fn literal_str(&self) -> Option<&str> {
        match self {
            Expr::Literal(Val::Str(s)) => Some(s),
            _ => None,
        }
    }
}

/// `value[key]`, as the collector indexes attribute values: a missing map key is `nil`, a list
/// position out of range and an index into a scalar are errors.
fn index<'a>(value: Val<'a>, key: &Index) -> Result<Val<'a>, EvalError> {
    match (value, key) {
        (Val::Map(entries), Index::Key(k)) => Ok(entries
            .into_iter()
            .find(|(name, _)| name == k)
            .map_or(Val::Nil, |(_, v)| v)),
        (Val::List(items), Index::Position(i)) => {
            let len = items.len();
            usize::try_from(*i)
                .ok()
                .and_then(|i| items.into_iter().nth(i))
                .ok_or_else(|| EvalError(format!("index {i} out of bounds (the list has {len})")))
        }
        (Val::Map(_), Index::Position(i)) => Err(EvalError(format!(
            "a map is indexed by string keys, not by {i}"
        ))),
        (Val::List(_), Index::Key(k)) => Err(EvalError(format!(
            "a list is indexed by integers, not by {k:?}"
        ))),
        // A missing attribute indexed further stays missing.
        (Val::Nil, _) => Ok(Val::Nil),
        (other, _) => Err(EvalError(format!(
            "{} does not support indexing",
            crate::math::describe(&other)
        ))),
    }
}
