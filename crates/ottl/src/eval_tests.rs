//! Compiling and evaluating conditions over rows given as values per source.

use crate::{
    AttrLevel, Column, CompileError, Compiler, Context, EvalError, Row, Source, Table, Val,
    parse_condition,
};
use std::borrow::Cow;

struct Values(Vec<Val<'static>>);

impl Row for Values {
    fn get(&self, slot: usize) -> Result<Val<'_>, EvalError> {
        Ok(self.0[slot].clone())
    }
}

/// Packed strings: offsets, bytes, presence.
type Packed = (Vec<u32>, Vec<u8>, Vec<u8>);

/// Rows of values per source, lent to [`Program::select`] as whole columns where every value
/// is an integer ([`Column::Ints`]) or some are strings ([`Column::Strings`], the others
/// absent), row by row otherwise.
struct Rows {
    /// By slot, then by row.
    columns: Vec<Vec<Val<'static>>>,
    strings: Vec<Option<Packed>>,
    ints: Vec<Option<Vec<i64>>>,
}

impl Rows {
    fn new(columns: Vec<Vec<Val<'static>>>) -> Self {
        let strings = columns
            .iter()
            .map(|values| {
                if !values.iter().any(|v| matches!(v, Val::Str(_))) {
                    return None;
                }
                let (mut offsets, mut data, mut present) = (vec![0u32], Vec::new(), Vec::new());
                for value in values {
                    if let Val::Str(s) = value {
                        data.extend_from_slice(s.as_bytes());
                    }
                    present.push(u8::from(matches!(value, Val::Str(_))));
                    offsets.push(data.len() as u32);
                }
                Some((offsets, data, present))
            })
            .collect();
        let ints = columns
            .iter()
            .map(|values| {
                values
                    .iter()
                    .map(|v| match v {
                        Val::Int(i) => Some(*i),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        Self {
            columns,
            strings,
            ints,
        }
    }
}

impl Table for Rows {
    type Row<'a> = Values;

    fn column(&self, slot: usize) -> Column<'_> {
        if let Some(ints) = &self.ints[slot] {
            return Column::Ints(ints);
        }
        match &self.strings[slot] {
            Some((offsets, data, present)) => Column::Strings {
                offsets,
                data,
                present,
            },
            None => Column::Rows,
        }
    }

    fn row(&self, row: u32) -> Values {
        Values(
            self.columns
                .iter()
                .map(|values| values[row as usize].clone())
                .collect(),
        )
    }
}

/// `program` on every row of `rows`, column by column: the rows where it holds, and those where
/// it fails.
fn select(program: &crate::Program, rows: &Rows, count: u32) -> (Vec<u32>, Vec<u32>) {
    let all: Vec<u32> = (0..count).collect();
    let mut errors = Vec::new();
    let held = program.select(rows, &all, &mut errors);
    let mut failed: Vec<u32> = errors.into_iter().map(|(row, _)| row).collect();
    failed.sort_unstable();
    (held, failed)
}

fn compile(context: Context, text: &str) -> Result<(crate::Program, Vec<Source>), CompileError> {
    let condition = parse_condition(text).expect("parses");
    let mut compiler = Compiler::new(context);
    let program = compiler.compile(&condition)?;
    Ok((program, compiler.sources().to_vec()))
}

/// `text` on one span row whose sources have `values` (the others are missing).
fn eval_in(
    context: Context,
    text: &str,
    values: &[(Source, Val<'static>)],
) -> Result<bool, EvalError> {
    let (program, sources) = compile(context, text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let row = Values(
        sources
            .iter()
            .map(|source| {
                values
                    .iter()
                    .find(|(s, _)| s == source)
                    .map_or(Val::Nil, |(_, v)| v.clone())
            })
            .collect(),
    );
    let result = program.eval(&row);
    // Column by column, the same row gives the same answer.
    let table = Rows::new(row.0.iter().map(|v| vec![v.clone()]).collect());
    let expected = match &result {
        Ok(true) => (vec![0], vec![]),
        Ok(false) => (vec![], vec![]),
        Err(_) => (vec![], vec![0]),
    };
    assert_eq!(select(&program, &table, 1), expected, "{text} by column");
    result
}

fn eval(text: &str, values: &[(Source, Val<'static>)]) -> Result<bool, EvalError> {
    eval_in(Context::Span, text, values)
}

fn holds(text: &str, values: &[(Source, Val<'static>)]) -> bool {
    eval(text, values).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn s(text: &'static str) -> Val<'static> {
    Val::Str(Cow::Borrowed(text))
}

fn attr(key: &str) -> Source {
    Source::Attribute(AttrLevel::Span, key.into())
}

#[test]
fn the_platform_conditions() {
    let health = [(attr("http.route"), s("/health"))];
    assert!(holds(r#"attributes["http.route"] == "/health""#, &health));
    assert!(!holds(
        r#"attributes["http.route"] == "/health""#,
        &[(attr("http.route"), s("/orders"))]
    ));
    assert!(!holds(r#"attributes["http.route"] == "/health""#, &[]));
    let grpc = [(attr("grpc.method"), s("Health/Check"))];
    assert!(holds(
        r#"attributes["grpc.method"] == "Health/Check""#,
        &grpc
    ));
    let times = |start: i64, end: i64| {
        [
            (Source::StartTime, Val::Int(start)),
            (Source::EndTime, Val::Int(end)),
        ]
    };
    let short = "end_time_unix_nano - start_time_unix_nano < 1000000";
    assert!(holds(short, &times(5_000_000, 5_999_999)));
    assert!(!holds(short, &times(5_000_000, 6_000_000)));
    assert!(holds(
        "duration < 1000000",
        &[(Source::Duration, Val::Int(999_999))]
    ));
    assert!(!holds(
        "span.duration < 1000000",
        &[(Source::Duration, Val::Int(1_000_000))]
    ));
}

#[test]
fn every_span_path_resolves_to_its_source() {
    let cases: &[(&str, Source)] = &[
        (r#"attributes["k"]"#, attr("k")),
        (r#"span.attributes["k"]"#, attr("k")),
        (
            r#"resource.attributes["service.name"]"#,
            Source::Attribute(AttrLevel::Resource, "service.name".into()),
        ),
        (
            r#"instrumentation_scope.attributes["a"]"#,
            Source::Attribute(AttrLevel::Scope, "a".into()),
        ),
        ("instrumentation_scope.name", Source::ScopeName),
        ("instrumentation_scope.version", Source::ScopeVersion),
        ("name", Source::Name),
        ("span.name", Source::Name),
        ("kind", Source::Kind),
        ("kind.string", Source::KindString),
        ("status.code", Source::StatusCode),
        ("status.message", Source::StatusMessage),
        ("trace_id", Source::TraceId),
        ("trace_id.string", Source::TraceIdString),
        ("span_id", Source::SpanId),
        ("span_id.string", Source::SpanIdString),
        ("parent_span_id", Source::ParentSpanId),
        ("parent_span_id.string", Source::ParentSpanIdString),
        ("trace_state", Source::TraceState),
        ("flags", Source::Flags),
        ("start_time_unix_nano", Source::StartTime),
        ("end_time_unix_nano", Source::EndTime),
        ("duration", Source::Duration),
    ];
    for (path, source) in cases {
        let (_, sources) = compile(Context::Span, &format!("{path} == nil")).unwrap();
        assert_eq!(sources, vec![source.clone()], "{path}");
    }
}

#[test]
fn span_event_paths_read_the_event_and_its_span() {
    let cases: &[(&str, Source)] = &[
        ("name", Source::EventName),
        ("spanevent.name", Source::EventName),
        ("time_unix_nano", Source::EventTime),
        (
            r#"attributes["exception.type"]"#,
            Source::Attribute(AttrLevel::Event, "exception.type".into()),
        ),
        (r#"span.attributes["http.route"]"#, attr("http.route")),
        ("span.name", Source::Name),
        ("span.status.code", Source::StatusCode),
        (
            r#"resource.attributes["r"]"#,
            Source::Attribute(AttrLevel::Resource, "r".into()),
        ),
    ];
    for (path, source) in cases {
        let (_, sources) = compile(Context::SpanEvent, &format!("{path} == nil")).unwrap();
        assert_eq!(sources, vec![source.clone()], "{path}");
    }
    assert!(
        eval_in(
            Context::SpanEvent,
            r#"name == "exception" and span.name == "GET""#,
            &[
                (Source::EventName, s("exception")),
                (Source::Name, s("GET"))
            ]
        )
        .unwrap()
    );
}

#[test]
fn unknown_and_unsupported_paths_say_so() {
    let error = |context, text: &str| compile(context, text).unwrap_err().0;
    assert_eq!(
        error(Context::Span, "nmae == \"x\""),
        "`nmae` is not a span path this filter reads"
    );
    assert!(error(Context::Span, "events == nil").contains("the collector has this path"));
    assert!(error(Context::Span, "time_unix_nano == 1").contains("not a span path"));
    assert!(error(Context::SpanEvent, "kind == 1").contains("not a span event path"));
    assert!(error(Context::Span, "attributes == nil").contains("whole attribute map"));
    assert!(error(Context::Span, "name[\"x\"] == nil").contains("takes no index"));
    assert!(error(Context::Span, "status.cod == 1").contains("not a span path"));
    assert_eq!(
        error(Context::Span, "kind == SPAN_KIND_SEVER"),
        "unknown enum `SPAN_KIND_SEVER` (the span contexts define SPAN_KIND_* and STATUS_CODE_*)"
    );
    assert!(error(Context::Span, "Nope(name)").contains("`Nope` is not a converter"));
    assert!(
        error(Context::Span, "IsMatch(name)")
            .contains("IsMatch takes 2 arguments (target, pattern), not 1")
    );
    assert!(error(Context::Span, "IsMatch(name, \"(\")").contains("invalid pattern"));
    assert!(error(Context::Span, "IsMatch(name, name)").contains("string literal"));
    assert!(
        error(Context::Span, "IsMatch(target = name, patern = \"x\")")
            .contains("no parameter `patern`")
    );
    assert!(error(Context::Span, "Len(name)").contains("does not return a boolean"));
    assert!(error(Context::SpanEvent, "IsRootSpan()").contains("only for span conditions"));
}

#[test]
fn enums_are_integers() {
    let server = [
        (Source::Kind, Val::Int(2)),
        (Source::StatusCode, Val::Int(2)),
    ];
    assert!(holds(
        "kind == SPAN_KIND_SERVER and status.code == STATUS_CODE_ERROR",
        &server
    ));
    assert!(holds("kind != SPAN_KIND_CLIENT", &server));
    assert!(holds("status.code > STATUS_CODE_OK", &server));
    assert!(holds(
        "kind.string == \"Server\"",
        &[(Source::KindString, s("Server"))]
    ));
}

#[test]
fn a_missing_attribute_equals_nil_and_nothing_else() {
    assert!(holds(r#"attributes["gone"] == nil"#, &[]));
    assert!(!holds(r#"attributes["gone"] != nil"#, &[]));
    assert!(!holds(r#"attributes["gone"] == """#, &[]));
    assert!(!holds(r#"attributes["gone"] == 0"#, &[]));
    assert!(holds(r#"attributes["gone"] != "x""#, &[]));
    assert!(!holds(r#"attributes["gone"] < 5"#, &[]));
    assert!(holds(
        r#"attributes["here"] != nil"#,
        &[(attr("here"), s(""))]
    ));
}

#[test]
fn mixed_types_follow_ottls_rules() {
    let n = [(attr("n"), Val::Int(3))];
    assert!(holds(r#"attributes["n"] == 3.0"#, &n));
    assert!(holds(r#"attributes["n"] < 3.5"#, &n));
    assert!(!holds(r#"attributes["n"] == "3""#, &n));
    assert!(holds(r#"attributes["n"] != "3""#, &n));
    assert!(holds(
        r#"attributes["b"] == true"#,
        &[(attr("b"), Val::Bool(true))]
    ));
    assert!(holds(
        r#"attributes["f"] >= 0.5"#,
        &[(attr("f"), Val::Float(0.5))]
    ));
    assert!(holds(
        r#"attributes["x"] == 0x0aff"#,
        &[(attr("x"), Val::Bytes(Cow::Borrowed(&[10, 255])))]
    ));
}

#[test]
fn nested_keys_index_maps_and_lists() {
    let map = Val::Map(vec![
        ("sub".into(), s("v")),
        ("list".into(), Val::List(vec![Val::Int(7), Val::Int(8)])),
    ]);
    let row = [(attr("m"), map)];
    assert!(holds(r#"attributes["m"]["sub"] == "v""#, &row));
    assert!(holds(r#"attributes["m"]["none"] == nil"#, &row));
    assert!(holds(r#"attributes["m"]["list"][1] == 8"#, &row));
    assert!(holds(r#"attributes["gone"]["sub"] == nil"#, &[]));
    let error = eval(r#"attributes["m"]["list"][2] == 8"#, &row).unwrap_err();
    assert_eq!(error.0, "index 2 out of bounds (the list has 2)");
    let error = eval(r#"attributes["s"]["k"] == nil"#, &[(attr("s"), s("x"))]).unwrap_err();
    assert_eq!(error.0, "the string \"x\" does not support indexing");
}

#[test]
fn boolean_operators_short_circuit_as_ottl_does() {
    let row = [(attr("n"), Val::Int(1))];
    // The right side would fail (division by zero) but is never reached.
    assert!(holds(
        r#"attributes["n"] == 1 or attributes["n"] / 0 == 2"#,
        &row
    ));
    assert!(!holds(
        r#"attributes["n"] == 2 and attributes["n"] / 0 == 2"#,
        &row
    ));
    assert!(eval(r#"attributes["n"] == 2 or attributes["n"] / 0 == 2"#, &row).is_err());
    assert!(holds("not false and true", &[]));
    assert!(
        holds("true or false and false", &[]),
        "and binds tighter than or"
    );
    assert!(!holds("(true or false) and false", &[]));
}

#[test]
fn arithmetic_errors_surface() {
    let error = eval(
        "end_time_unix_nano - start_time_unix_nano < 1",
        &[(Source::EndTime, Val::Int(1))],
    );
    assert_eq!(
        error.unwrap_err().0,
        "nil (a missing value) must be an integer or a float"
    );
    assert!(holds(
        "-attributes[\"n\"] == -4",
        &[(attr("n"), Val::Int(4))]
    ));
    assert!(holds("2 * 3 + 1 == 7", &[]));
}

#[test]
fn is_match_turns_values_into_strings_as_the_collector_does() {
    let matches = |value: Val<'static>, pattern: &str| {
        holds(
            &format!(r#"IsMatch(attributes["v"], "{pattern}")"#),
            &[(attr("v"), value)],
        )
    };
    assert!(matches(s("GET /health"), "^GET"));
    assert!(!matches(s("POST"), "^GET"));
    assert!(
        !holds(r#"IsMatch(attributes["v"], ".*")"#, &[]),
        "nil never matches"
    );
    assert!(matches(Val::Int(404), "^4\\\\d\\\\d$"));
    assert!(matches(Val::Float(0.5), "^0\\\\.5$"));
    assert!(matches(Val::Float(1e21), "^1e\\\\+21$"));
    assert!(matches(Val::Float(1e-7), "^1e-07$"));
    assert!(matches(Val::Float(-2.5e-300), "^-2\\\\.5e-300$"));
    assert!(matches(Val::Bool(true), "^true$"));
    assert!(matches(Val::Bytes(Cow::Borrowed(&[0xab, 0x01])), "^ab01$"));
    let map = Val::Map(vec![("z".into(), Val::Int(1)), ("a".into(), s("<b>"))]);
    assert!(matches(
        map,
        r#"^\\{\"a\":\"\\\\u003cb\\\\u003e\",\"z\":1\\}$"#
    ));
    assert!(matches(
        Val::List(vec![Val::Int(1), Val::Bytes(Cow::Borrowed(b"hi"))]),
        r#"^\\[1,\"aGk=\"\\]$"#
    ));
    assert!(holds(
        r#"IsMatch(target = name, pattern = "^GET")"#,
        &[(Source::Name, s("GET"))]
    ));
}

#[test]
fn type_tests_len_prefix_suffix_and_case() {
    let row = [
        (attr("s"), s("Hello")),
        (attr("i"), Val::Int(1)),
        (attr("d"), Val::Float(1.0)),
        (attr("b"), Val::Bool(false)),
        (attr("m"), Val::Map(vec![("k".into(), Val::Int(1))])),
        (attr("l"), Val::List(vec![Val::Int(1), Val::Int(2)])),
    ];
    for (function, key) in [
        ("IsString", "s"),
        ("IsInt", "i"),
        ("IsDouble", "d"),
        ("IsBool", "b"),
        ("IsMap", "m"),
        ("IsList", "l"),
    ] {
        for (_, other) in [
            ("", "s"),
            ("", "i"),
            ("", "d"),
            ("", "b"),
            ("", "m"),
            ("", "l"),
            ("", "gone"),
        ] {
            let text = format!(r#"{function}(attributes["{other}"])"#);
            assert_eq!(holds(&text, &row), other == key, "{text}");
        }
    }
    assert!(holds(r#"Len(attributes["s"]) == 5"#, &row));
    assert!(holds(
        r#"Len(attributes["m"]) == 1 and Len(attributes["l"]) == 2"#,
        &row
    ));
    assert!(holds(r#"Len("né") == 3"#, &row), "bytes, as Go's len");
    assert_eq!(
        eval(r#"Len(attributes["i"]) == 1"#, &row).unwrap_err().0,
        "Len: the integer 1 has no length (it takes a string, a list or a map)"
    );
    assert!(holds(
        r#"HasPrefix(attributes["s"], "He") and HasSuffix(attributes["s"], "llo")"#,
        &row
    ));
    assert!(!holds(r#"HasPrefix(attributes["s"], "he")"#, &row));
    assert_eq!(
        eval(r#"HasPrefix(attributes["gone"], "x")"#, &row)
            .unwrap_err()
            .0,
        "HasPrefix: expected a string, got nil (a missing value)"
    );
    assert!(holds(r#"ToLowerCase(attributes["s"]) == "hello""#, &row));
    assert!(holds(r#"ToUpperCase(attributes["s"]) == "HELLO""#, &row));
    assert!(holds(
        r#"IsEmpty(attributes["gone"]) and not IsEmpty(attributes["s"])"#,
        &row
    ));
}

#[test]
fn is_root_span_reads_the_parent() {
    let root = [(Source::ParentSpanId, Val::Bytes(Cow::Borrowed(&[0; 8])))];
    let child = [(
        Source::ParentSpanId,
        Val::Bytes(Cow::Borrowed(&[0, 0, 0, 0, 0, 0, 0, 1])),
    )];
    assert!(holds("IsRootSpan()", &root));
    assert!(!holds("IsRootSpan()", &child));
    assert!(holds("IsRootSpan() == false", &child));
}

#[test]
fn sources_are_shared_between_conditions() {
    let mut compiler = Compiler::new(Context::Span);
    for text in [
        r#"attributes["http.route"] == "/health""#,
        r#"IsMatch(attributes["http.route"], "^/ready") or name == "x""#,
    ] {
        compiler.compile(&parse_condition(text).unwrap()).unwrap();
    }
    assert_eq!(compiler.sources(), &[attr("http.route"), Source::Name]);
}

#[test]
fn ids_compare_as_bytes_or_as_hex() {
    let id: &'static [u8] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
    let row = [
        (Source::TraceId, Val::Bytes(Cow::Borrowed(id))),
        (Source::TraceIdString, s("0102030405060708090a0b0c0d0e0f10")),
    ];
    assert!(holds(
        "trace_id == TraceID(0x0102030405060708090a0b0c0d0e0f10)",
        &row
    ));
    assert!(holds(
        r#"trace_id.string == "0102030405060708090a0b0c0d0e0f10""#,
        &row
    ));
    assert!(!holds(
        "trace_id == TraceID(0x0102030405060708090a0b0c0d0e0fff)",
        &row
    ));
    assert_eq!(
        eval("trace_id == TraceID(0x01)", &row).unwrap_err().0,
        "TraceID: expected 16 bytes, got a byte string"
    );
}

#[test]
fn column_by_column_agrees_with_row_by_row_on_mixed_rows() {
    let values = |items: &[Val<'static>]| items.to_vec();
    // Slots are given in the order the conditions name the sources.
    let route = values(&[
        s("/health"),
        s("/orders"),
        Val::Nil,
        Val::Int(3),
        s("/health"),
        s("/healthz"),
    ]);
    let start = vec![Val::Int(0); 6];
    let end = values(&[
        Val::Int(500),
        Val::Int(2_000_000),
        Val::Int(10),
        Val::Int(5_000_000),
        Val::Int(i64::MIN),
        Val::Int(999_999),
    ]);
    let n = values(&[
        Val::Int(0),
        Val::Int(2),
        s("x"),
        Val::Nil,
        Val::Int(-1),
        Val::Int(4),
    ]);
    let conditions = [
        r#"attributes["http.route"] == "/health""#,
        r#"attributes["http.route"] != "/health""#,
        "end_time_unix_nano - start_time_unix_nano < 1000000",
        "end_time_unix_nano / 1000 >= 1000",
        // The right sides fail where `n` is 0 or not a number; short circuits decide which
        // rows reach them.
        r#"attributes["http.route"] == "/health" or 8 / attributes["n"] > 1"#,
        r#"attributes["http.route"] == "/orders" and 8 / attributes["n"] > 1"#,
        r#"not (end_time_unix_nano > 100 and 8 / attributes["n"] > 1)"#,
        r#"(attributes["n"] * 2 > 3 and 8 / attributes["n"] > 1) or end_time_unix_nano < 0"#,
        r#"not (8 / attributes["n"] > 1 or attributes["http.route"] == "/orders")"#,
        r#"IsMatch(attributes["http.route"], "^/health") and -end_time_unix_nano < 0"#,
        // Literals on either side, literal arithmetic, every operator.
        "1000000 > end_time_unix_nano - start_time_unix_nano",
        "2 * 3 == 6",
        "2 * 3 != 6",
        "-(10 - 4) / 2 <= end_time_unix_nano",
        "end_time_unix_nano - 0 != start_time_unix_nano * 1",
        "end_time_unix_nano + start_time_unix_nano == start_time_unix_nano + end_time_unix_nano",
        "-start_time_unix_nano >= -end_time_unix_nano",
        "start_time_unix_nano * 2 > 1 + 1",
    ];
    for text in conditions {
        let (program, sources) = compile(Context::Span, text).expect("compiles");
        let columns: Vec<Vec<Val<'static>>> = sources
            .iter()
            .map(|source| match source {
                Source::Attribute(_, key) if key == "http.route" => route.clone(),
                Source::Attribute(_, key) if key == "n" => n.clone(),
                Source::StartTime => start.clone(),
                Source::EndTime => end.clone(),
                other => panic!("unexpected source {other}"),
            })
            .collect();
        let table = Rows::new(columns);
        let (mut held, mut failed) = (Vec::new(), Vec::new());
        for row in 0..6 {
            match program.eval(&table.row(row)) {
                Ok(true) => held.push(row),
                Ok(false) => {}
                Err(_) => failed.push(row),
            }
        }
        assert_eq!(select(&program, &table, 6), (held, failed), "{text}");
        // A selection that skips rows evaluates only those.
        let mut errors = Vec::new();
        let some = program.select(&table, &[1, 3, 5], &mut errors);
        assert!(some.iter().all(|row| [1, 3, 5].contains(row)), "{text}");
        assert!(
            errors.iter().all(|(row, _)| [1, 3, 5].contains(row)),
            "{text}"
        );
    }
}
