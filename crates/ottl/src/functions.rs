//! The converters a filter condition can call, with the collector's argument names and its rules
//! for each argument's type (contrib v0.161.0, `pkg/ottl/ottlfuncs`).
//!
//! | converter | returns |
//! | --- | --- |
//! | `IsMatch(target, pattern)` | whether the regex `pattern` (a string literal) matches `target` turned into a string; `false` for `nil` |
//! | `IsString`, `IsInt`, `IsDouble`, `IsBool`, `IsMap`, `IsList` `(target)` | whether `target` has that type |
//! | `IsEmpty(target)` | `nil`, `""`, an empty list or map |
//! | `IsRootSpan()` | the span has no parent (span context only) |
//! | `Len(target)` | bytes of a string, items of a list or map |
//! | `HasPrefix(target, prefix)`, `HasSuffix(target, suffix)` | both must be strings |
//! | `ToLowerCase(target)`, `ToUpperCase(target)` | a string |
//! | `TraceID(bytes)`, `SpanID(bytes)` | a 16- or 8-byte id, to compare with `trace_id`, `span_id`, `parent_span_id` |

use crate::path::{Context, Source};
use crate::program::{CompileError, Expr, Row};
use crate::{EvalError, Val};
use std::borrow::Cow;

/// A converter with its compiled arguments.
#[derive(Debug, Clone)]
pub(crate) enum Func<E> {
    IsMatch(E, Box<regex::Regex>),
    Is(TypeTest, E),
    IsEmpty(E),
    IsRootSpan(usize),
    Len(E),
    HasPrefix(E, E),
    HasSuffix(E, E),
    Lower(E),
    Upper(E),
    Id(E, usize),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum TypeTest {
    String,
    Int,
    Double,
    Bool,
    Map,
    List,
}

/// Build a converter from its name and arguments, checking them as the collector does when it
/// reads a config: the number of arguments, their names, and a valid regex.
pub(crate) fn build(
    context: Context,
    name: &str,
    args: Vec<(Option<&str>, Expr)>,
    slot_of: &mut dyn FnMut(Source) -> usize,
) -> Result<Func<Expr>, CompileError> {
    let params: &[&str] = match name {
        "IsMatch" => &["target", "pattern"],
        "IsString" | "IsInt" | "IsDouble" | "IsBool" | "IsMap" | "IsList" | "IsEmpty" | "Len"
        | "ToLowerCase" | "ToUpperCase" => &["target"],
        "HasPrefix" => &["target", "prefix"],
        "HasSuffix" => &["target", "suffix"],
        "IsRootSpan" => &[],
        "TraceID" | "SpanID" => &["bytes"],
        _ => {
            return Err(CompileError(format!(
                "`{name}` is not a converter this filter has (it has IsMatch, IsString, IsInt, IsDouble, IsBool, IsMap, IsList, IsEmpty, IsRootSpan, Len, HasPrefix, HasSuffix, ToLowerCase, ToUpperCase, TraceID, SpanID)"
            )));
        }
    };
    let mut args = ordered(name, params, args)?.into_iter();
    let mut next = || args.next().expect("checked by `ordered`");
    Ok(match name {
        "IsMatch" => {
            let target = next();
            let pattern = next();
            let Some(text) = pattern.literal_str() else {
                return Err(CompileError(
                    "IsMatch: the pattern must be a string literal here, so that it is compiled once".into(),
                ));
            };
            let regex = spanwise_goregex::compile(text)
                .map_err(|e| CompileError(format!("IsMatch: invalid pattern {text:?}: {e}")))?;
            Func::IsMatch(target, Box::new(regex))
        }
        "IsString" => Func::Is(TypeTest::String, next()),
        "IsInt" => Func::Is(TypeTest::Int, next()),
        "IsDouble" => Func::Is(TypeTest::Double, next()),
        "IsBool" => Func::Is(TypeTest::Bool, next()),
        "IsMap" => Func::Is(TypeTest::Map, next()),
        "IsList" => Func::Is(TypeTest::List, next()),
        "IsEmpty" => Func::IsEmpty(next()),
        "Len" => Func::Len(next()),
        "HasPrefix" => Func::HasPrefix(next(), next()),
        "HasSuffix" => Func::HasSuffix(next(), next()),
        "ToLowerCase" => Func::Lower(next()),
        "ToUpperCase" => Func::Upper(next()),
        "TraceID" => Func::Id(next(), 16),
        "SpanID" => Func::Id(next(), 8),
        "IsRootSpan" => {
            if context != Context::Span {
                return Err(CompileError(
                    "IsRootSpan is only for span conditions (traces.span)".into(),
                ));
            }
            Func::IsRootSpan(slot_of(Source::ParentSpanId))
        }
        _ => unreachable!("every name above has a params entry"),
    })
}

/// Put positional and named arguments in parameter order. As in the collector, named arguments
/// come after positional ones and every parameter is required.
fn ordered(
    name: &str,
    params: &[&str],
    args: Vec<(Option<&str>, Expr)>,
) -> Result<Vec<Expr>, CompileError> {
    if args.len() != params.len() {
        return Err(CompileError(format!(
            "{name} takes {} argument{} ({}), not {}",
            params.len(),
            if params.len() == 1 { "" } else { "s" },
            params.join(", "),
            args.len()
        )));
    }
    let mut slots: Vec<Option<Expr>> = vec![None; params.len()];
    let mut named = false;
    for (i, (arg_name, expr)) in args.into_iter().enumerate() {
        let position = match arg_name {
            None if named => {
                return Err(CompileError(format!(
                    "{name}: a positional argument cannot follow a named one"
                )));
            }
            None => i,
            Some(arg_name) => {
                named = true;
                params.iter().position(|p| *p == arg_name).ok_or_else(|| {
                    CompileError(format!(
                        "{name} has no parameter `{arg_name}` (it has {})",
                        params.join(", ")
                    ))
                })?
            }
        };
        if slots[position].replace(expr).is_some() {
            return Err(CompileError(format!(
                "{name}: `{}` is given twice",
                params[position]
            )));
        }
    }
    Ok(slots
        .into_iter()
        .map(|s| s.expect("every slot filled"))
        .collect())
}

impl<E> Func<E> {
    /// Whether the converter returns a boolean (and so can be a condition).
    pub(crate) fn returns_bool(&self) -> bool {
        !matches!(
            self,
            Func::Len(_) | Func::Lower(_) | Func::Upper(_) | Func::Id(..)
        )
    }
}

impl Func<Expr> {
    pub(crate) fn eval<'r, R: Row + ?Sized>(&'r self, row: &'r R) -> Result<Val<'r>, EvalError> {
        Ok(match self {
            Func::IsMatch(target, regex) => match string_like(&target.eval(row)?)? {
                None => Val::Bool(false),
                Some(text) => Val::Bool(regex.is_match(&text)),
            },
            Func::Is(test, target) => {
                let value = target.eval(row)?;
                Val::Bool(matches!(
                    (test, &value),
                    (TypeTest::String, Val::Str(_))
                        | (TypeTest::Int, Val::Int(_))
                        | (TypeTest::Double, Val::Float(_))
                        | (TypeTest::Bool, Val::Bool(_))
                        | (TypeTest::Map, Val::Map(_))
                        | (TypeTest::List, Val::List(_))
                ))
            }
            Func::IsEmpty(target) => Val::Bool(match target.eval(row)? {
                Val::Nil => true,
                Val::Str(s) => s.is_empty(),
                Val::Bytes(b) => b.is_empty(),
                Val::List(items) => items.is_empty(),
                Val::Map(entries) => entries.is_empty(),
                Val::Bool(_) | Val::Int(_) | Val::Float(_) => false,
            }),
            Func::IsRootSpan(slot) => match row.get(*slot)? {
                Val::Bytes(id) => Val::Bool(id.iter().all(|b| *b == 0)),
                _ => Val::Bool(true),
            },
            Func::Len(target) => Val::Int(match target.eval(row)? {
                Val::Str(s) => s.len() as i64,
                Val::List(items) => items.len() as i64,
                Val::Map(entries) => entries.len() as i64,
                other => {
                    return Err(EvalError(format!(
                        "Len: {} has no length (it takes a string, a list or a map)",
                        crate::math::describe(&other)
                    )));
                }
            }),
            Func::HasPrefix(target, prefix) => {
                let (target, prefix) = (target.eval(row)?, prefix.eval(row)?);
                Val::Bool(string("HasPrefix", &target)?.starts_with(string("HasPrefix", &prefix)?))
            }
            Func::HasSuffix(target, suffix) => {
                let (target, suffix) = (target.eval(row)?, suffix.eval(row)?);
                Val::Bool(string("HasSuffix", &target)?.ends_with(string("HasSuffix", &suffix)?))
            }
            Func::Lower(target) => Val::Str(Cow::Owned(
                string("ToLowerCase", &target.eval(row)?)?.to_lowercase(),
            )),
            Func::Id(bytes, width) => match bytes.eval(row)? {
                Val::Bytes(b) if b.len() == *width => Val::Bytes(b),
                other => {
                    return Err(EvalError(format!(
                        "{}: expected {width} bytes, got {}",
                        if *width == 16 { "TraceID" } else { "SpanID" },
                        crate::math::describe(&other)
                    )));
                }
            },
            Func::Upper(target) => Val::Str(Cow::Owned(
                string("ToUpperCase", &target.eval(row)?)?.to_uppercase(),
            )),
        })
    }
}

/// An argument that must be a string (the collector's `StringGetter`): anything else, `nil`
/// included, is an error.
fn string<'v>(function: &str, value: &'v Val<'_>) -> Result<&'v str, EvalError> {
    match value {
        Val::Str(s) => Ok(s),
        other => Err(EvalError(format!(
            "{function}: expected a string, got {}",
            crate::math::describe(other)
        ))),
    }
}

/// The collector's `StringLikeGetter`: `nil` is no string; strings stay; bytes become lower-case
/// hex; numbers, booleans, lists and maps become JSON (map keys sorted).
pub(crate) fn string_like<'v>(value: &'v Val<'_>) -> Result<Option<Cow<'v, str>>, EvalError> {
    Ok(match value {
        Val::Nil => None,
        Val::Str(s) => Some(Cow::Borrowed(s)),
        Val::Bytes(b) => Some(Cow::Owned(hex::encode(b.as_ref()))),
        other => {
            let mut out = String::new();
            write_json(other, &mut out)?;
            Some(Cow::Owned(out))
        }
    })
}

/// The collector's JSON of a raw value (`goccy/go-json`, as `json.Marshal`): floats as
/// [`go_float`], bytes inside lists and maps in base64,
/// strings escaped with `<`, `>`, `&` as `\u003c`, `\u003e`, `\u0026`.
fn write_json(value: &Val<'_>, out: &mut String) -> Result<(), EvalError> {
    match value {
        Val::Nil => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Int(i) => out.push_str(&i.to_string()),
        Val::Float(f) if !f.is_finite() => {
            return Err(EvalError(format!("json: unsupported value: {f}")));
        }
        Val::Float(f) => out.push_str(&go_float(*f)),
        Val::Str(s) => write_json_string(s, out),
        Val::Bytes(b) => write_json_string(&base64(b), out),
        Val::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out)?;
            }
            out.push(']');
        }
        Val::Map(entries) => {
            let mut sorted: Vec<_> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                write_json(v, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// A float as the collector's JSON encoder (`goccy/go-json`) writes it: Go's shortest
/// `strconv` form, in exponent notation below 1e-6 and from 1e21, with at least two exponent
/// digits (`1e+21`, `1.5e-07`).
fn go_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = format!("{f:e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) => {
                let (sign, digits) = match exponent.strip_prefix('-') {
                    Some(digits) => ('-', digits),
                    None => ('+', exponent),
                };
                format!("{mantissa}e{sign}{digits:0>2}")
            }
            None => text,
        }
    } else if f == 0.0 && f.is_sign_negative() {
        "-0".into()
    } else {
        format!("{f}")
    }
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
