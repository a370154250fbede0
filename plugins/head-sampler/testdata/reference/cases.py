"""Write ../reference-cases.json: one OTLP-JSON input whose spans cover the trace ids,
tracestates and sampling priorities the sampler reads, and the configs to run over it (see
README.md)."""

import json
import pathlib
import random

rng = random.Random(20261126)


def s(v):
    return {"stringValue": v}


def i(v):
    return {"intValue": str(v)}


def d(v):
    return {"doubleValue": v}


spans = []


def span(trace_id, trace_state="", priority=None):
    n = len(spans) + 1
    out = {
        "traceId": trace_id,
        "spanId": f"{n:016x}",
        "name": f"span {n}",
        "kind": 2,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000001000000",
    }
    if trace_state:
        out["traceState"] = trace_state
    if priority is not None:
        out["attributes"] = [{"key": "sampling.priority", "value": priority}]
    spans.append(out)


def random_id():
    return f"{rng.getrandbits(128):032x}"


# Random trace ids with no tracestate: most decisions come from these.
for _ in range(96):
    span(random_id())
# The randomness (rv) and threshold (th) other samplers leave, well formed and not.
RV = "".join(rng.choice("0123456789abcdef") for _ in range(14))
for state in [
    f"ot=rv:{RV}",
    "ot=rv:00000000000001",
    "ot=rv:fffffffffffffe",
    "ot=th:8",
    "ot=th:0",
    "ot=th:c",
    "ot=th:fffffffffffff",
    f"ot=th:4;rv:{RV}",
    f"ot=rv:{RV};th:f",
    "ot=th:8;x:y;rv:80000000000000",
    "vendor=abc,ot=th:c",
    "a=1, ot=th:4 ,b=2",
    "  a=1 ,, b=2  ",
    "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
    "ot=k1:v1;k2:v2",
    "ot=rv:xyz",
    "ot=rv:123",
    "ot=th:",
    "ot=th:123456789abcdef",
    "ot=th:g",
    "ot=TH:8",
    "Bad=1",
    "a=",
    "ot=;",
    "tenant@vendor=v,ot=th:2",
    ",".join(f"k{n}=v" for n in range(31)),
    ",".join(f"k{n}=v" for n in range(32)),
]:
    span(random_id(), state)
# A trace id with no randomness.
span("0" * 32)
span("0" * 32, "ot=rv:80000000000000")
# Trace ids at the edges of the 56 bits consistent samplers read.
span("ffffffffffffffff00ffffffffffffff")
span("0000000000000000ff00000000000000")
span("00000000000000000080000000000000")
# sampling.priority of every type, kept and dropped.
for priority in [i(0), i(1), i(-1), i(7), d(0.0), d(0.5), d(-2.5), s("0"), s("1.5"), s("-1"),
                 s("abc"), s("1e400"), s("1e-400"), s("0.0e10"), s(" 1"), s("NaN"), s("inf"), s("-Infinity"),
                 s("0x1p-2"), s("-0x1p3"), s("0x0p0"), s("0x1p2000"), s("1_0"), s("+.5"),
                 {"boolValue": True}]:
    span(random_id(), priority=priority)
span(random_id(), "ot=th:c", priority=i(1))
span(random_id(), "ot=rv:xyz", priority=i(1))
span("0" * 32, priority=i(1))

cases = []


def case(name, **config):
    cases.append({"name": name, "config": config})


for pct in [0, 0.001, 0.01, 1, 10, 25, 30, 33.3, 50, 99.9, 100, 150]:
    case(f"hash_seed {pct}%", mode="hash_seed", sampling_percentage=pct)
for seed in [1, 12345, 4294967295]:
    case(f"hash_seed 30% seed {seed}", mode="hash_seed", sampling_percentage=30, hash_seed=seed)
case("hash_seed 30% fail open", mode="hash_seed", sampling_percentage=30, fail_closed=False)
case("hash_seed 0% fail open", mode="hash_seed", sampling_percentage=0, fail_closed=False)
case("mode unset, seed 0", sampling_percentage=30)
case("mode unset, seed 7", sampling_percentage=30, hash_seed=7)
for mode in ["proportional", "equalizing"]:
    for pct in [0, 1e-10, 0.01, 1, 10, 25, 30, 33.3, 40, 50, 99.9, 100, 150]:
        case(f"{mode} {pct}%", mode=mode, sampling_percentage=pct)
    for precision in [1, 2, 3, 5, 14]:
        case(f"{mode} 40% precision {precision}", mode=mode, sampling_percentage=40,
             sampling_precision=precision)
    case(f"{mode} 30% fail open", mode=mode, sampling_percentage=30, fail_closed=False)
    case(f"{mode} 0% fail open", mode=mode, sampling_percentage=0, fail_closed=False)
# Configs the collector refuses.
case("precision 0", mode="proportional", sampling_percentage=30, sampling_precision=0)
case("precision 15", mode="proportional", sampling_percentage=30, sampling_precision=15)
case("negative rate", sampling_percentage=-1)
case("too small a rate", mode="proportional", sampling_percentage=1e-20)
case("unknown mode", mode="fair", sampling_percentage=30)

here = pathlib.Path(__file__).parent
document = {
    "input": {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": s("sleep-api")}]},
        "scopeSpans": [{"scope": {"name": "reference"}, "spans": spans}],
    }]},
    "cases": cases,
}
(here.parent / "reference-cases.json").write_text(json.dumps(document, indent=1) + "\n")
print(f"{len(spans)} spans, {len(cases)} cases")
