"""Write ../reference-cases.json: one OTLP-JSON input of traces that cover what the policies
read (status codes, durations, span and resource attributes of every type, tracestates, flags,
span counts) and the policy configs to run over it (see README.md)."""

import json
import pathlib
import random

rng = random.Random(20261127)
BASE = 1_700_000_000_000_000_000
MS = 1_000_000


def s(v):
    return {"stringValue": v}


def i(v):
    return {"intValue": str(v)}


def d(v):
    return {"doubleValue": v}


def b(v):
    return {"boolValue": v}


ATTRIBUTE_CHOICES = [
    None,
    ("http.route", s("/health")),
    ("http.route", s("/api/patients")),
    ("http.route", s("")),
    ("http.route", i(7)),
    ("http.status_code", i(200)),
    ("http.status_code", i(404)),
    ("http.status_code", i(503)),
    ("http.status_code", s("500")),
    ("http.status_code", d(500.5)),
    ("debug", b(True)),
    ("debug", b(False)),
    ("debug", s("true")),
    ("tenant", s("acme-prod")),
    ("tenant", s("beta-stage")),
]
RESOURCES = [
    [("service.name", s("checkout")), ("deployment.environment", s("prod"))],
    [("service.name", s("patients")), ("http.status_code", i(503))],
    [("service.name", s("health")), ("debug", b(True)), ("tenant", s("acme-dev"))],
]
STATES = ["", "", "", "vendor=gold", "vendor=silver,ot=th:8", "ot=rv:00112233445566", "bad state!"]

# resource index -> spans
by_resource = [[] for _ in RESOURCES]
n = 0
for t in range(80):
    trace_id = f"{rng.getrandbits(128):032x}"
    count = rng.choice([1, 1, 2, 3, 4, 6])
    start = BASE + rng.randrange(0, 1000) * MS
    state = rng.choice(STATES)
    for k in range(count):
        n += 1
        offset = rng.randrange(0, 3000) * MS
        length = rng.choice([0, 1, 5, 150, 600, 1200, 2500, 4000]) * MS + rng.randrange(0, MS)
        attrs = []
        for _ in range(rng.choice([0, 1, 2])):
            choice = rng.choice(ATTRIBUTE_CHOICES)
            if choice and choice[0] not in [a["key"] for a in attrs]:
                attrs.append({"key": choice[0], "value": choice[1]})
        span = {
            "traceId": trace_id,
            "spanId": f"{n:016x}",
            "name": f"span {n}",
            "kind": 2,
            "startTimeUnixNano": str(start + offset),
            "endTimeUnixNano": str(start + offset + length),
            "attributes": attrs,
            "status": {"code": rng.choice([0, 0, 0, 1, 2])},
            "flags": rng.choice([0, 1, 256, 257]),
        }
        if state:
            span["traceState"] = state
        # Text in which Go's ASCII \b and \d read otherwise than Unicode ones (no random draw,
        # so the rest of the input stays as it was).
        if n % 5 == 0:
            attrs.append({"key": "note", "value": s(["患者P-4821", "P-1234", "P-٤٨٢١", "éP-9999"][n // 5 % 4])})
        by_resource[rng.randrange(len(RESOURCES))].append(span)

input_ = {
    "resourceSpans": [
        {
            "resource": {"attributes": [{"key": k, "value": v} for k, v in RESOURCES[r]]},
            "scopeSpans": [{"scope": {"name": "reference"}, "spans": spans}],
        }
        for r, spans in enumerate(by_resource)
        if spans
    ]
}


def policy(name, kind, block=None):
    out = {"name": name, "type": kind}
    if block is not None:
        out[kind] = block
    return out


cases = []


def case(name, policies, **extra):
    cases.append({"name": name, "config": {"decision_wait": "1s", "policies": policies, **extra}})


case("always", [policy("all", "always_sample")])
for lower, upper in [(0, 0), (1000, 0), (2000, 0), (5000, 0), (100, 2000), (1000, 3000), (2500, 2600)]:
    case(f"latency {lower}-{upper}", [policy("slow", "latency", {"threshold_ms": lower, "upper_threshold_ms": upper})])
for codes in [["ERROR"], ["OK"], ["UNSET"], ["ERROR", "OK"]]:
    case(f"status {codes}", [policy("codes", "status_code", {"status_codes": codes})])
case("status bad", [policy("codes", "status_code", {"status_codes": ["FAIL"]})])
for pct in [0, 0.5, 10, 25, 33.333, 50, 75, 99.99, 100, 150]:
    for salt in ["", "other-salt"]:
        case(f"probabilistic {pct} {salt!r}", [policy("p", "probabilistic", {"sampling_percentage": pct, "hash_salt": salt})])
for values, regex, invert in [
    (["/health"], False, False),
    (["/health"], False, True),
    (["/api/.*"], True, False),
    (["^/api/.*"], True, True),
    ([""], True, False),
    (["7"], False, False),
    (["checkout", "health"], False, False),
    (["acme-.*"], True, False),
    (["acme-.*"], True, True),
]:
    key = "service.name" if "checkout" in values else ("tenant" if "acme" in values[0] else "http.route")
    case(f"string {key} {values} regex={regex} invert={invert}", [policy("s", "string_attribute", {"key": key, "values": values, "enabled_regex_matching": regex, "invert_match": invert})])
case("string note Go's ASCII word boundary and digits", [policy("s", "string_attribute", {"key": "note", "values": ["\\bP-\\d{4}\\b"], "enabled_regex_matching": True})])
case("string bad regex", [policy("s", "string_attribute", {"key": "x", "values": ["("], "enabled_regex_matching": True})])
for lo, hi, invert in [(400, 599, False), (400, 599, True), (0, 404, False), (500, 0, False), (-5, 0, False)]:
    case(f"numeric {lo}-{hi} invert={invert}", [policy("n", "numeric_attribute", {"key": "http.status_code", "min_value": lo, "max_value": hi, "invert_match": invert})])
for value, invert in [(True, False), (False, False), (True, True), (False, True)]:
    case(f"boolean {value} invert={invert}", [policy("b", "boolean_attribute", {"key": "debug", "value": value, "invert_match": invert})])
for lo, hi in [(2, 0), (3, 4), (1, 1), (5, 0), (0, 2)]:
    case(f"span_count {lo}-{hi}", [policy("c", "span_count", {"min_spans": lo, "max_spans": hi})])
for key, values in [("vendor", ["gold"]), ("vendor", ["silver", "gold"]), ("ot", ["th:8"]), ("vendor", [""])]:
    case(f"trace_state {key}={values}", [policy("ts", "trace_state", {"key": key, "values": values})])
case("trace_flags", [policy("f", "trace_flags")])
case("rate_limiting generous", [policy("r", "rate_limiting", {"spans_per_second": 1000000})])
case(
    "and: error and slow",
    [policy("and", "and", {"and_sub_policy": [
        policy("e", "status_code", {"status_codes": ["ERROR"]}),
        policy("l", "latency", {"threshold_ms": 1000}),
    ]})],
)
case(
    "and with not",
    [policy("and", "and", {"and_sub_policy": [
        policy("l", "latency", {"threshold_ms": 1000}),
        {"name": "n", "type": "not", "not": {"not_sub_policy": policy("h", "string_attribute", {"key": "http.route", "values": ["/health"]})}},
    ]})],
)
case("not", [{"name": "n", "type": "not", "not": {"not_sub_policy": policy("e", "status_code", {"status_codes": ["ERROR"]})}}])
case(
    "drop wins over always",
    [
        policy("all", "always_sample"),
        policy("d", "drop", {"drop_sub_policy": [policy("h", "string_attribute", {"key": "service.name", "values": ["health"]})]}),
    ],
)
case(
    "drop needs every sub-policy",
    [
        policy("e", "status_code", {"status_codes": ["ERROR"]}),
        policy("d", "drop", {"drop_sub_policy": [
            policy("h", "string_attribute", {"key": "service.name", "values": ["health"]}),
            policy("c", "span_count", {"min_spans": 3}),
        ]}),
    ],
)
case(
    "composite generous",
    [policy("comp", "composite", {
        "max_total_spans_per_second": 1000000,
        "policy_order": ["errors", "half"],
        "composite_sub_policy": [
            policy("errors", "status_code", {"status_codes": ["ERROR"]}),
            policy("half", "probabilistic", {"sampling_percentage": 50}),
        ],
        "rate_allocation": [{"policy": "errors", "percent": 60}, {"policy": "half", "percent": 40}],
    })],
)
case(
    "platform shape",
    [
        policy("no-health", "drop", {"drop_sub_policy": [policy("h", "string_attribute", {"key": "http.route", "values": ["/health"]})]}),
        policy("errors", "status_code", {"status_codes": ["ERROR"]}),
        policy("slow", "latency", {"threshold_ms": 2000}),
        policy("rest", "probabilistic", {"sampling_percentage": 10}),
    ],
)
case(
    "first match",
    [
        policy("errors", "status_code", {"status_codes": ["ERROR"]}),
        policy("rest", "probabilistic", {"sampling_percentage": 30}),
    ],
    sample_on_first_match=True,
)

out = pathlib.Path(__file__).resolve().parent.parent / "reference-cases.json"
out.write_text(json.dumps({"input": input_, "cases": cases}, indent=1) + "\n")
print(f"{len(cases)} cases, {n} spans -> {out}")
