//! OTTL (the OpenTelemetry Transformation Language) conditions, as the collector's `filter`
//! processor accepts them in `traces.span` and `traces.spanevent`.
//!
//! [`parse_condition`] turns one condition into a [`Condition`] tree with OTTL's grammar and
//! precedence (`or` below `and` below `not` below comparisons; `+ -` below `* /`), or a
//! [`ParseError`] that names the column. [`compare`] applies OTTL's comparison rules to two
//! [`Val`]s, [`arithmetic`] and [`negate`] its arithmetic. Reading paths is the job of the processor that knows the data (paths mean
//! different things on spans and on span events).
//!
//! What is read follows the collector's grammar (contrib v0.161.0, `pkg/ottl/grammar.go`):
//! string escapes as Go's `strconv.Unquote`, integers and floats without sign (a leading `-` is
//! a unary operator), `0x` byte literals, enum symbols in capitals, converters (`IsMatch(...)`),
//! paths with `["key"]` and `[0]` indexes, lists and maps. Not read: editors (statements, not
//! conditions) and lambdas; they are refused with a message saying so.

mod ast;
mod columnar;
mod compare;
mod functions;
mod lexer;
mod math;
mod parser;
mod path;
mod program;

pub use ast::{Arg, Call, CompareOp, Condition, Field, Key, MathOp, Value};
pub use columnar::{Column, Table};
pub use compare::{Val, compare};
pub use math::{EvalError, arithmetic, negate};
pub use parser::{ParseError, parse_condition};
pub use path::{AttrLevel, Context, Index, Source, enum_value};
pub use program::{CompileError, Compiler, Program, Row};

#[cfg(test)]
mod eval_tests;
#[cfg(test)]
mod tests;
