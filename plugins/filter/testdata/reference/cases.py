"""Write ../reference-cases.json: one OTLP-JSON input with spans of every shape the conditions
read, and the filter configs to run over it (see README.md)."""

import json
import pathlib

MS = 1_000_000
T0 = 1_700_000_000_000_000_000


def s(v):
    return {"stringValue": v}


def i(v):
    return {"intValue": str(v)}


def kv(key, value):
    return {"key": key, "value": value}


def span(n, name, kind, duration, attributes=(), parent=None, status=None, events=(), **extra):
    out = {
        "traceId": f"{0x5157:016x}{n:016x}",
        "spanId": f"{n:016x}",
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(T0 + n * 1000),
        "endTimeUnixNano": str(T0 + n * 1000 + duration),
        "attributes": list(attributes),
        "events": [
            {"timeUnixNano": str(T0 + n * 1000 + 1), "name": e, "attributes": list(a)} for e, a in events
        ],
    }
    if parent is not None:
        out["parentSpanId"] = f"{parent:016x}"
    if status is not None:
        out["status"] = status
    out.update(extra)
    return out


INPUT = {
    "resourceSpans": [
        {
            "resource": {"attributes": [kv("service.name", s("sessions")), kv("deployment.environment", s("prod"))]},
            "scopeSpans": [
                {
                    "scope": {"name": "app", "version": "1.2", "attributes": [kv("lib", s("x"))]},
                    "spans": [
                        span(1, "GET /health", 2, 5 * MS, [kv("http.route", s("/health")), kv("http.response.status_code", i(200))]),
                        span(2, "grpc.health.v1.Health/Check", 2, 3 * MS, [kv("grpc.method", s("Health/Check")), kv("rpc.system", s("grpc"))]),
                        span(
                            3,
                            "GET /v1/sessions",
                            2,
                            12 * MS,
                            [kv("http.route", s("/v1/sessions")), kv("http.response.status_code", i(500))],
                            status={"code": 2, "message": "boom"},
                            events=[
                                ("exception", [kv("exception.type", s("Timeout"))]),
                                ("cache.hit", [kv("cache.key", s("s3"))]),
                                ("log", [kv("level", s("debug")), kv("count", i(3))]),
                            ],
                        ),
                        span(4, "cache lookup", 1, 400_000, [kv("cache.hit", {"boolValue": True}), kv("ratio", {"doubleValue": 0.25}), kv("note", s("患者P-4821"))], parent=3),
                        span(
                            5,
                            "SELECT sessions",
                            3,
                            2 * MS,
                            [
                                kv("db.statement", s("SELECT * FROM sessions WHERE id = $1")),
                                kv("db.rows", i(42)),
                                kv("tags", {"arrayValue": {"values": [s("a"), s("b")]}}),
                                kv("obj", {"kvlistValue": {"values": [kv("k", s("v")), kv("n", i(1)), kv("html", s("<b>"))]}}),
                                kv("bytes", {"bytesValue": "qwE="}),
                                kv("big", {"doubleValue": 1e21}),
                                kv("small", {"doubleValue": 1.5e-7}),
                            ],
                            parent=3,
                            events=[("cache.hit", [])],
                        ),
                    ],
                }
            ],
        },
        {
            "resource": {"attributes": [kv("service.name", s("probe"))]},
            "scopeSpans": [
                {
                    "scope": {"name": "probe"},
                    "spans": [
                        span(6, "probe", 0, 0, [], traceState="vendor=x", flags=257),
                        span(7, "child", 4, 2 * MS, [kv("http.route", i(5)), kv("note", s("P-٤٨٢١"))], parent=6, events=[("exception", [kv("exception.type", s("Other"))])]),
                    ],
                }
            ],
        },
    ]
}


def spans(*conditions, error_mode=None):
    config = {"traces": {"span": list(conditions)}}
    if error_mode:
        config["error_mode"] = error_mode
    return config


def events(*conditions, span=(), error_mode=None):
    config = {"traces": {"spanevent": list(conditions)}}
    if span:
        config["traces"]["span"] = list(span)
    if error_mode:
        config["error_mode"] = error_mode
    return config


CASES = [
    ("the platform's conditions", spans(
        'attributes["http.route"] == "/health"',
        'attributes["grpc.method"] == "Health/Check"',
        "end_time_unix_nano - start_time_unix_nano < 1000000",
    )),
    ("an int compared with an int and a float", spans('attributes["http.response.status_code"] >= 500', 'attributes["db.rows"] > 41.5')),
    ("an int is not equal to its string", spans('attributes["http.response.status_code"] == "500"')),
    ("an int is unequal to its string", spans('attributes["http.response.status_code"] != "500"')),
    ("missing equals nil", spans('attributes["missing"] == nil')),
    ("missing is not unequal to nil", spans('attributes["missing"] != nil')),
    ("nil orders with nothing", spans('attributes["missing"] < 5', 'attributes["missing"] >= ""')),
    ("nil is at most nil", spans('attributes["http.route"] <= nil')),
    ("a string attribute that is sometimes an int", spans('attributes["http.route"] == 5')),
    ("IsMatch on names", spans('IsMatch(name, "^GET ")')),
    ("IsMatch with Go's ASCII \\b and \\d", spans('IsMatch(attributes["note"], "\\\\bP-\\\\d{4}")')),
    ("IsMatch on an int", spans('IsMatch(attributes["http.response.status_code"], "^5")')),
    ("IsMatch on a double", spans('IsMatch(attributes["ratio"], "^0\\\\.25$")')),
    ("IsMatch on large and small doubles", spans('IsMatch(attributes["big"], "^1e\\\\+21$") and IsMatch(attributes["small"], "^1\\\\.5e-07$")')),
    ("IsMatch on a bool", spans('IsMatch(attributes["cache.hit"], "^true$")')),
    ("IsMatch on a map is JSON with sorted keys", spans('IsMatch(attributes["obj"], "^\\\\{\\"html\\":\\"\\\\\\\\u003cb\\\\\\\\u003e\\",\\"k\\":\\"v\\",\\"n\\":1\\\\}$")')),
    ("IsMatch on a list", spans('IsMatch(attributes["tags"], "^\\\\[\\"a\\",\\"b\\"\\\\]$")')),
    ("IsMatch on bytes is hex", spans('IsMatch(attributes["bytes"], "^ab01$")')),
    ("IsMatch on a missing value", spans('IsMatch(attributes["missing"], ".*")')),
    ("kinds by enum and by name", spans("kind == SPAN_KIND_CLIENT", 'kind.string == "Internal"')),
    ("kind numbers", spans("kind == 4", "kind < SPAN_KIND_INTERNAL")),
    ("status code and message", spans('status.code == STATUS_CODE_ERROR and status.message == "boom"')),
    ("status unset", spans("status.code == STATUS_CODE_UNSET")),
    ("resource attributes", spans('resource.attributes["service.name"] == "probe"')),
    ("scope name, version and attributes", spans('instrumentation_scope.name == "app" and instrumentation_scope.version == "1.2" and instrumentation_scope.attributes["lib"] == "x"')),
    ("scope without a version", spans('instrumentation_scope.version == ""')),
    ("nested map and list indexes", spans('attributes["obj"]["k"] == "v"', 'attributes["tags"][1] == "b"')),
    ("a missing map key is nil", spans('attributes["obj"]["nope"] == nil and attributes["obj"] != nil')),
    ("Len of lists, maps and strings", spans('Len(attributes["tags"]) == 2 and Len(attributes["obj"]) == 3', "Len(name) > 20")),
    ("Len of an int fails; ignore", spans('Len(attributes["db.rows"]) > 1', 'name == "probe"')),
    ("Len of an int fails; silent", spans('Len(attributes["db.rows"]) > 1', 'name == "probe"', error_mode="silent")),
    ("Len of an int fails; propagate", spans('Len(attributes["db.rows"]) > 1', error_mode="propagate")),
    ("a list index out of range fails; ignore", spans('attributes["tags"][5] == "x"', 'name == "child"')),
    ("HasPrefix and HasSuffix", spans('HasPrefix(name, "GET")', 'HasSuffix(name, "Check")')),
    ("HasPrefix on an int fails", spans('HasPrefix(attributes["http.route"], "/v1")')),
    ("type tests", spans('IsString(attributes["db.statement"]) and IsInt(attributes["db.rows"]) and IsMap(attributes["obj"]) and IsList(attributes["tags"])', 'IsDouble(attributes["ratio"]) and IsBool(attributes["cache.hit"])')),
    ("type tests on the wrong types", spans('IsString(attributes["db.rows"])', 'IsInt(attributes["ratio"])', 'IsDouble(attributes["db.rows"])', 'IsMap(attributes["tags"])', 'IsBool(attributes["missing"])')),
    ("ids as hex strings", spans(f'trace_id.string == "{0x5157:016x}{2:016x}"', f'span_id.string == "{4:016x}"', f'parent_span_id.string == "{6:016x}"')),
    ("ids as bytes", spans(f"trace_id == TraceID(0x{0x5157:016x}{1:016x})", f"span_id == SpanID(0x{7:016x})", f"parent_span_id == SpanID(0x{3:016x})")),
    ("root spans", spans("IsRootSpan()")),
    ("a root span's parent id string", spans('parent_span_id.string == "0000000000000000"')),
    ("trace state and flags", spans('trace_state == "vendor=x"', "flags == 257")),
    ("durations by arithmetic", spans("end_time_unix_nano - start_time_unix_nano > 10000000", "(end_time_unix_nano - start_time_unix_nano) / 1000000 == 3")),
    ("float arithmetic", spans('attributes["ratio"] * 4 == 1')),
    ("division by zero fails; ignore", spans('attributes["db.rows"] / 0 == 1', 'name == "probe"')),
    ("arithmetic on a missing value fails; ignore", spans('attributes["db.rows"] + 1 == 43')),
    ("not, and, or, parentheses", spans('not (kind == SPAN_KIND_SERVER) and name != "probe"', '(name == "probe" or name == "child") and kind == SPAN_KIND_CONSUMER')),
    ("precedence: and before or", spans('name == "probe" or name == "child" and kind == SPAN_KIND_SERVER')),
    ("true and false", spans("false", "true and false")),
    ("string escapes", spans('name == "GET /health" and "tab\\there" != "tab there" and "quote\\"" == "quote\\""')),
    ("lower and upper case", spans('ToLowerCase(name) == "get /health"', 'ToUpperCase(name) == "PROBE"')),
    ("IsEmpty", spans("IsEmpty(trace_state) == false", 'IsEmpty(attributes["missing"]) and name == "child"')),
    ("span events by name", events('name == "cache.hit"')),
    ("span events by their span", events('attributes["exception.type"] == "Timeout" and span.name == "GET /v1/sessions"', 'IsMatch(span.attributes["http.route"], "sessions") and name == "log"')),
    ("span events by resource and time", events('resource.attributes["service.name"] == "probe"', "time_unix_nano < 0")),
    ("span events with span conditions", events("time_unix_nano > 0", span=['name == "GET /v1/sessions"'])),
    ("span event attributes of other types", events('attributes["count"] == 3')),
    ("span event conditions that fail; ignore", events('Len(attributes["count"]) == 1', 'name == "exception"')),
    ("a syntax error", spans('name = "x"')),
    ("an unknown path", spans('nmae == "x"')),
    ("an unknown enum", spans("kind == SPAN_KIND_SEVER")),
    ("an unknown converter", spans("Nope(name)")),
    ("an invalid regex", spans('IsMatch(name, "(")')),
    ("a span path in span events", events("kind == 1")),
]

path = pathlib.Path(__file__).resolve().parent.parent / "reference-cases.json"
path.write_text(json.dumps({"input": INPUT, "cases": [{"name": n, "config": c} for n, c in CASES]}, indent=1) + "\n")
print(f"{len(CASES)} cases written to {path}")
