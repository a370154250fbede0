//! The parser against the conditions platform configs use and the grammar's corners.

use crate::{Arg, Call, CompareOp, Condition, Field, Key, MathOp, Value, parse_condition};

fn parse(text: &str) -> Condition {
    parse_condition(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn path(names: &[(&str, &[&str])]) -> Value {
    Value::Path(
        names
            .iter()
            .map(|(name, keys)| Field {
                name: (*name).to_owned(),
                keys: keys.iter().map(|k| Key::Str((*k).to_owned())).collect(),
            })
            .collect(),
    )
}

fn attr(key: &str) -> Value {
    path(&[("attributes", &[key])])
}

fn compare(left: Value, op: CompareOp, right: Value) -> Condition {
    Condition::Compare { left, op, right }
}

fn error(text: &str) -> (usize, String) {
    let e = parse_condition(text).expect_err(text);
    (e.column, e.message)
}

#[test]
fn the_platforms_conditions_parse() {
    assert_eq!(
        parse(r#"attributes["http.route"] == "/health""#),
        compare(
            attr("http.route"),
            CompareOp::Eq,
            Value::Str("/health".into())
        )
    );
    assert_eq!(
        parse(r#"attributes["grpc.method"] == "Health/Check""#),
        compare(
            attr("grpc.method"),
            CompareOp::Eq,
            Value::Str("Health/Check".into())
        )
    );
    assert_eq!(
        parse("end_time_unix_nano - start_time_unix_nano < 1000000"),
        compare(
            Value::Math {
                left: Box::new(path(&[("end_time_unix_nano", &[])])),
                op: MathOp::Sub,
                right: Box::new(path(&[("start_time_unix_nano", &[])])),
            },
            CompareOp::Lt,
            Value::Int(1_000_000)
        )
    );
}

#[test]
fn or_binds_loosest_then_and_then_not() {
    let a = || compare(attr("a"), CompareOp::Eq, Value::Int(1));
    let b = || compare(attr("b"), CompareOp::Ne, Value::Nil);
    let c = || Condition::Const(true);
    assert_eq!(
        parse(r#"attributes["a"] == 1 or attributes["b"] != nil and true"#),
        Condition::Or(
            Box::new(a()),
            Box::new(Condition::And(Box::new(b()), Box::new(c())))
        )
    );
    assert_eq!(
        parse(r#"(attributes["a"] == 1 or attributes["b"] != nil) and true"#),
        Condition::And(
            Box::new(Condition::Or(Box::new(a()), Box::new(b()))),
            Box::new(c())
        )
    );
    assert_eq!(
        parse(r#"not attributes["a"] == 1 and true"#),
        Condition::And(Box::new(Condition::Not(Box::new(a()))), Box::new(c()))
    );
    assert_eq!(
        parse(r#"not (attributes["a"] == 1 or false)"#),
        Condition::Not(Box::new(Condition::Or(
            Box::new(a()),
            Box::new(Condition::Const(false))
        )))
    );
}

#[test]
fn arithmetic_binds_products_before_sums_and_takes_signs() {
    let n = |i| Value::Int(i);
    let math = |l, op, r| Value::Math {
        left: Box::new(l),
        op,
        right: Box::new(r),
    };
    assert_eq!(
        parse("1 + 2 * 3 - 4 / 2 >= -7"),
        compare(
            math(
                math(n(1), MathOp::Add, math(n(2), MathOp::Mul, n(3))),
                MathOp::Sub,
                math(n(4), MathOp::Div, n(2))
            ),
            CompareOp::Ge,
            n(-7)
        )
    );
    assert_eq!(
        parse("(1 + 2) * 3 > -.5e1"),
        compare(
            math(math(n(1), MathOp::Add, n(2)), MathOp::Mul, n(3)),
            CompareOp::Gt,
            Value::Float(-5.0)
        )
    );
    assert_eq!(
        parse(r#"-attributes["n"] <= 2."#),
        compare(
            Value::Neg(Box::new(attr("n"))),
            CompareOp::Le,
            Value::Float(2.0)
        )
    );
}

#[test]
fn literals_read_as_the_collector_reads_them() {
    let right = |text: &str| match parse(&format!("name == {text}")) {
        Condition::Compare { right, .. } => right,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        right(r#""tab\there \"q\" \\ \x41\u00e9\U0001F600\101""#),
        Value::Str("tab\there \"q\" \\ Aé😀A".into())
    );
    assert_eq!(
        right("0xdeADbeef"),
        Value::Bytes(vec![0xde, 0xad, 0xbe, 0xef])
    );
    assert_eq!(
        right("SPAN_KIND_SERVER"),
        Value::Enum("SPAN_KIND_SERVER".into())
    );
    assert_eq!(
        right("STATUS_CODE_ERROR"),
        Value::Enum("STATUS_CODE_ERROR".into())
    );
    assert_eq!(right("nil"), Value::Nil);
    assert_eq!(right("false"), Value::Bool(false));
    assert_eq!(right("1.5e3"), Value::Float(1500.0));
    assert_eq!(
        right(r#"["a", 1, [true]]"#),
        Value::List(vec![
            Value::Str("a".into()),
            Value::Int(1),
            Value::List(vec![Value::Bool(true)])
        ])
    );
    assert_eq!(
        right(r#"{"k": 1, "m": {"n": nil},}"#),
        Value::Map(vec![
            ("k".into(), Value::Int(1)),
            ("m".into(), Value::Map(vec![("n".into(), Value::Nil)]))
        ])
    );
}

#[test]
fn paths_take_contexts_nested_keys_and_indexes() {
    assert_eq!(
        parse(r#"span.attributes["k"]["sub"][0] == resource.attributes["service.name"]"#),
        compare(
            Value::Path(vec![
                Field {
                    name: "span".into(),
                    keys: vec![]
                },
                Field {
                    name: "attributes".into(),
                    keys: vec![Key::Str("k".into()), Key::Str("sub".into()), Key::Int(0)]
                },
            ]),
            CompareOp::Eq,
            path(&[("resource", &[]), ("attributes", &["service.name"])])
        )
    );
    assert_eq!(
        parse("instrumentation_scope.version != status.message"),
        compare(
            path(&[("instrumentation_scope", &[]), ("version", &[])]),
            CompareOp::Ne,
            path(&[("status", &[]), ("message", &[])])
        )
    );
    assert_eq!(
        parse(r#"attributes[attributes["which"]] == "x""#),
        compare(
            path(&[("attributes", &[])]).with_expr_key(attr("which")),
            CompareOp::Eq,
            Value::Str("x".into())
        )
    );
}

impl Value {
    fn with_expr_key(self, key: Value) -> Value {
        match self {
            Value::Path(mut fields) => {
                fields
                    .last_mut()
                    .expect("a field")
                    .keys
                    .push(Key::Expr(Box::new(key)));
                Value::Path(fields)
            }
            other => other,
        }
    }
}

#[test]
fn converters_are_conditions_or_values() {
    assert_eq!(
        parse(r#"IsMatch(attributes["http.target"], "^/health") and Len(name) > 3"#),
        Condition::And(
            Box::new(Condition::Call(Call {
                name: "IsMatch".into(),
                args: vec![
                    Arg::Value(attr("http.target")),
                    Arg::Value(Value::Str("^/health".into()))
                ],
                keys: vec![]
            })),
            Box::new(compare(
                Value::Call(Call {
                    name: "Len".into(),
                    args: vec![Arg::Value(path(&[("name", &[])]))],
                    keys: vec![]
                }),
                CompareOp::Gt,
                Value::Int(3)
            ))
        )
    );
    assert_eq!(
        parse(r#"not HasPrefix(name, prefix = "GET ")"#),
        Condition::Not(Box::new(Condition::Call(Call {
            name: "HasPrefix".into(),
            args: vec![
                Arg::Value(path(&[("name", &[])])),
                Arg::Named("prefix".into(), Value::Str("GET ".into()))
            ],
            keys: vec![]
        })))
    );
    assert_eq!(
        parse(r#"ParseJSON(attributes["body"])["user"] == nil"#),
        compare(
            Value::Call(Call {
                name: "ParseJSON".into(),
                args: vec![Arg::Value(attr("body"))],
                keys: vec![Key::Str("user".into())]
            }),
            CompareOp::Eq,
            Value::Nil
        )
    );
}

#[test]
fn errors_say_what_and_at_which_column() {
    assert_eq!(error("").1, "the condition is empty");
    assert_eq!(
        error(r#"name == "open"#),
        (9, "this string has no closing quote".into())
    );
    assert_eq!(error(r#"name == "\q""#), (10, "unknown escape \\q".into()));
    assert_eq!(
        error("name == 1 ?"),
        (11, "unexpected character '?'".into())
    );
    let (column, message) = error("name ==");
    assert_eq!(column, 8);
    assert!(
        message.contains("expected a value, found the end"),
        "{message}"
    );
    let (column, message) = error(r#"name == "a" "b""#);
    assert_eq!(column, 13);
    assert!(message.contains("unexpected the string \"b\""), "{message}");
    let (column, message) = error(r#"set(name, "x")"#);
    assert_eq!(column, 1);
    assert!(message.contains("editor"), "{message}");
    let (column, message) = error(r#"attributes["a"]"#);
    assert_eq!(column, 16);
    assert!(message.contains("expected a comparison"), "{message}");
    let (column, message) = error(r#""a" + "b" == name"#);
    assert_eq!(column, 5);
    assert!(
        message.contains("numbers, paths and converters"),
        "{message}"
    );
    let (column, message) = error(r#"attributes["a" == 1"#);
    assert_eq!(column, 16);
    assert!(message.contains("expected ']'"), "{message}");
    let (column, message) = error("name == 0x1");
    assert_eq!(column, 9);
    assert!(message.contains("even number"), "{message}");
    let (_, message) = error("Filter(attributes, (k, v) => true) == nil");
    assert!(message.contains("lambdas"), "{message}");
    let (column, message) = error("not not true");
    assert_eq!(column, 5);
    assert!(message.contains("not not"), "{message}");
    let (column, message) = error("name == 99999999999999999999");
    assert_eq!(column, 9);
    assert!(message.contains("64-bit"), "{message}");
}
