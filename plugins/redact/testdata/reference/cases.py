import base64, json, os

def s(v): return {"stringValue": v}
def i(v): return {"intValue": str(v)}
def d(v): return {"doubleValue": v}
def b(v): return {"boolValue": v}
def by(v): return {"bytesValue": base64.b64encode(v).decode()}
def arr(*vs): return {"arrayValue": {"values": list(vs)}}
def kvl(**kw): return {"kvlistValue": {"values": [{"key": k, "value": v} for k, v in kw.items()]}}
def attrs(**kw): return [{"key": k.replace("__", "."), "value": v} for k, v in kw.items()]
def A(pairs): return [{"key": k, "value": v} for k, v in pairs]

n = 0
def span(name, attributes, kind=2, events=None):
    global n
    n += 1
    sp = {"traceId": "%032x" % (0x5157 << 64 | n), "spanId": "%016x" % n, "name": name, "kind": kind,
          "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000005000000",
          "attributes": attributes}
    if events:
        sp["events"] = [{"timeUnixNano": "1700000000000000001", "name": "exception", "attributes": e} for e in events]
    return sp

def traces(*resources):
    return {"resourceSpans": [
        {"resource": {"attributes": ra}, "scopeSpans": [{"scope": {"name": scope[0], "version": scope[1], "attributes": scope[2] if len(scope) > 2 else []}, "spans": spans}]}
        for ra, scope, spans in resources]}

def one(spans, resource=None, scope=("app", "1.0")):
    return traces((resource if resource is not None else A([("service.name", s("sleep-api"))]), scope, spans))

mixed = A([("s", s("foo")), ("empty", s("")), ("n", i(24)), ("neg", i(-1)), ("f", d(2.4)), ("t", b(True)), ("no", b(False)),
           ("raw", by(b"\x01\x02\x03")), ("list", arr(s("a"), i(1))), ("map", kvl(k=s("v"))), ("nothing", {})])

cases = []
def case(name, processor, config, input):
    cases.append({"name": name, "processor": processor, "config": config, "input": input})

# --- attributes processor ---------------------------------------------------------------
case("insert, update, upsert with values, sources and defaults", "attributes", {"actions": [
    {"key": "env", "value": "prod", "action": "insert"},
    {"key": "user.id", "value": "nobody", "action": "insert"},
    {"key": "user.id", "from_attribute": "enduser.id", "action": "update"},
    {"key": "missing", "value": 1, "action": "update"},
    {"key": "copy", "from_attribute": "nope", "default_value": "fallback", "action": "upsert"},
    {"key": "count", "value": 3.5, "action": "upsert"},
    {"key": "flag", "value": True, "action": "upsert"},
    {"key": "tags", "value": ["a", 1, True], "action": "insert"},
    {"key": "obj", "value": {"b": 2, "a": "x"}, "action": "insert"},
]}, one([span("GET /a", A([("user.id", s("u-1")), ("enduser.id", s("e-1")), ("count", i(1))])),
         span("GET /b", A([("env", s("dev"))]))]))
case("delete by key and by pattern", "attributes", {"actions": [
    {"key": "password", "action": "delete"},
    {"pattern": "^http\\.(request|response)\\.body$", "action": "delete"},
    {"key": "patient.id", "pattern": "^secret", "action": "delete"},
]}, one([span("POST", A([("password", s("p")), ("http.request.body", s("{...}")), ("http.response.body", i(5)),
                          ("patient.id", s("P-1")), ("secret.a", b(True)), ("kept", s("k"))]))]))
case("hash every value type as the collector does", "attributes", {"actions": [
    {"pattern": ".*", "action": "hash"},
]}, one([span("x", mixed)]))
case("hash by key then by pattern hashes a key both match twice", "attributes", {"actions": [
    {"key": "user.id", "pattern": "^user\\.", "action": "hash"},
    {"key": "absent", "action": "hash"},
]}, one([span("x", A([("user.id", s("u-1")), ("user.name", s("ana")), ("other", s("o"))]))]))
case("extract named groups, missing groups empty", "attributes", {"actions": [
    {"key": "http.url", "pattern": "^(?P<http_protocol>.*):\\/\\/(?P<http_domain>[^/]*)(?P<http_path>\\/[^?]*)?(?:\\?(?P<http_query>.*))?$", "action": "extract"},
]}, one([span("x", A([("http.url", s("https://api.dtx/v1/logs?token=t"))])),
         span("y", A([("http.url", s("http://h"))])),
         span("z", A([("http.url", i(3))])),
         span("w", A([("http.url", s("not a url"))]))]))
case("convert to int, double and string", "attributes", {"actions": [
    {"key": "a", "action": "convert", "converted_type": "int"},
    {"key": "b", "action": "convert", "converted_type": "int"},
    {"key": "c", "action": "convert", "converted_type": "int"},
    {"key": "d", "action": "convert", "converted_type": "int"},
    {"key": "e", "action": "convert", "converted_type": "double"},
    {"key": "f", "action": "convert", "converted_type": "double"},
    {"key": "g", "action": "convert", "converted_type": "double"},
    {"key": "h", "action": "convert", "converted_type": "string"},
    {"key": "i", "action": "convert", "converted_type": "string"},
    {"key": "j", "action": "convert", "converted_type": "string"},
    {"key": "k", "action": "convert", "converted_type": "string"},
    {"key": "l", "action": "convert", "converted_type": "string"},
    {"key": "m", "action": "convert", "converted_type": "string"},
    {"key": "n", "action": "convert", "converted_type": "string"},
    {"key": "o", "action": "convert", "converted_type": "int"},
]}, one([span("x", A([("a", s("42")), ("b", d(-2.9)), ("c", b(True)), ("d", s("4.5")), ("e", i(7)), ("f", s("1.5e3")),
                      ("g", s("x")), ("h", d(1e21)), ("i", d(0.000001)), ("j", d(1.5e-7)), ("k", kvl(z=s("<&>"), a=arr(i(1), d(2.5), b(False)), q=s("\u2028\n\"\\"))),
                      ("l", by(b"\xff\x00")), ("m", b(False)), ("n", d(100.0)), ("o", arr(i(1)))]))]))
case("include by service and span name (regexp) with exclude by attribute", "attributes", {
    "include": {"match_type": "regexp", "services": ["^sleep"], "span_names": ["^GET "]},
    "exclude": {"match_type": "strict", "attributes": [{"key": "http.response.status_code", "value": 500}]},
    "actions": [{"key": "tagged", "value": "yes", "action": "insert"}]},
    traces((A([("service.name", s("sleep-api"))]), ("app", "1"), [
        span("GET /a", A([("http.response.status_code", i(200))])),
        span("GET /b", A([("http.response.status_code", i(500))])),
        span("POST /c", A([]))]),
           (A([("service.name", s("questionnaire"))]), ("app", "1"), [span("GET /d", A([]))]),
           (A([]), ("app", "1"), [span("GET /e", A([]))])))
case("include by kind, library, resource and attribute regexp", "attributes", {
    "include": {"match_type": "regexp", "span_kinds": ["SERVER$"], "libraries": [{"name": "^io\\.otel", "version": "^1\\."}],
                "resources": [{"key": "deployment.environment", "value": "^prod"}], "attributes": [{"key": "code", "value": "^2"}]},
    "actions": [{"key": "selected", "value": True, "action": "insert"}]},
    traces((A([("deployment.environment", s("production"))]), ("io.otel.http", "1.2"), [
        span("a", A([("code", i(200))]), kind=2), span("b", A([("code", i(200))]), kind=3),
        span("c", A([("code", s("404"))]), kind=2), span("d", A([("code", d(2.5))]), kind=2)]),
           (A([("deployment.environment", s("dev"))]), ("io.otel.http", "1.2"), [span("e", A([("code", i(200))]))]),
           (A([("deployment.environment", s("production"))]), ("io.otel.http", "2.0"), [span("f", A([("code", i(200))]))])))
case("include strict with an attribute that only has to exist", "attributes", {
    "include": {"attributes": [{"key": "patient.id"}]},
    "actions": [{"key": "patient.id", "action": "hash"}]},
    one([span("a", A([("patient.id", s("P-7"))])), span("b", A([("other", s("x"))]))]))

# --- redaction processor ----------------------------------------------------------------
email = "[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}"
card = "4[0-9]{12}(?:[0-9]{3})?"
red_input = traces(
    (A([("service.name", s("sleep-api")), ("host.name", s("node-1"))]), ("app", "1", A([("scope.secret", s("x"))])), [
        span("POST", A([("user.email", s("mail ana@example.org and bo@example.com")), ("card", s("pay 4111111111111111 now")),
                        ("password", s("hunter2")), ("token_id", i(1234)), ("safe", s("4111111111111111")), ("n", i(5)),
                        ("debug", s("ignored 4111111111111111")), ("multi", s("a\nb")), ("map", kvl(mail=s("x@y.org")))]),
             events=[A([("exception.message", s("user ana@example.org failed"))])])]))
case("redaction: allowed keys only, debug summary", "redaction", {
    "allowed_keys": ["user.email", "card", "service.name", "exception.message"], "summary": "debug"}, red_input)
case("redaction: allow all, blocked values masked in part, blocked keys whole, ignored, allowed values, debug", "redaction", {
    "allow_all_keys": True, "blocked_values": [email, card], "blocked_key_patterns": [".*password.*", "^token", "^multi$"],
    "ignored_keys": ["debug"], "allowed_values": ["^4111111111111111$"], "summary": "debug"}, red_input)
case("redaction: hmac-sha256 of the matched parts, info summary", "redaction", {
    "allow_all_keys": True, "blocked_values": [email], "hash_function": "hmac-sha256",
    "hmac_key": "a-key-of-at-least-thirty-two-bytes!!", "summary": "info"}, red_input)
case("redaction: redact all types, empty matches", "redaction", {
    "allow_all_keys": True, "blocked_values": ["\\d*"], "redact_all_types": True, "summary": "debug"}, red_input)
case("redaction: non-string values without redact_all_types, silent", "redaction", {
    "allow_all_keys": True, "blocked_values": ["\\d*", "x@y"], "blocked_key_patterns": ["^n$"]}, red_input)
case("redaction: a later pattern reads what an earlier one wrote", "redaction", {
    "allow_all_keys": True, "blocked_values": [email, "[0-9a-f]{64}"], "hash_function": "hmac-sha256",
    "hmac_key": "a-key-of-at-least-thirty-two-bytes!!", "summary": "debug"}, red_input)
case("redaction: existing summary attributes are merged", "redaction", {
    "allowed_keys": ["a"], "summary": "debug"},
    one([span("x", A([("a", s("1")), ("b", s("2")), ("redaction.redacted.keys", s("zzz,old")), ("redaction.redacted.count", i(2))]))]))
# Go's \b, \d, \w and \s are ASCII: an id right after a non-ASCII letter is masked, a
# non-ASCII digit or space is not a \d or \s.
intl_input = one([span("intl", A([("note", s("患者P-48213 seen")), ("ref", s("éP-1234x")),
                                  ("digits", s("٣٤٥ 123")), ("space", s("a\u00a0b c")), ("word", s("héllo_w"))]))])
case("redaction: Go's ASCII word boundaries and classes", "redaction", {
    "allow_all_keys": True, "blocked_values": ["\\bP-\\d{4,}\\b", "\\d+", "[\\s]b", "\\w+_w"], "summary": "debug"}, intl_input)
case("attributes: Go's ASCII classes in a key pattern", "attributes", {
    "actions": [{"pattern": "^\\w+\\b$", "action": "delete"}]},
    one([span("a", A([("ascii_key", s("1")), ("clé", s("2")), ("key.x", s("3"))]))]))

json.dump(cases, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference-cases.json"), "w"), indent=1)
print(len(cases), "cases")
