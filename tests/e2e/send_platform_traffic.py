"""Send the platform's API traffic with the real OpenTelemetry Python SDK, as its Python services
would: every request a server span with the HTTP attributes of the current conventions, a
sub-millisecond middleware span, a database span and a custom span with the caller's `user.id`
and the `patient.id` it touches. Kinds of request, by trace:

- `ordinary`: `POST /api/sleep-logs` and `GET /api/users/me?token=...`, a few milliseconds;
- `error`: `POST /api/sleep-logs/score`, whose scoring span fails, answered with a 500;
- `slow`: `GET /api/reports/weekly`, 2.5 seconds (stamped with explicit times, nothing sleeps);
- `health`: `GET /health`, `GET /metrics` and the gRPC health check `grpc.health.v1.Health/Check`.

Usage: send_platform_traffic.py (http|grpc) ENDPOINT ORDINARY ERRORS SLOW HEALTH

Durations vary by request (ordinary 3-99 ms, failing 4-23 ms, slow from 2.5 s in steps of 10 ms).

Prints one JSON object: `traces`, each trace id sent (32 hex digits) with its kind;
`identifiers`, every user id, patient id and token sent; and `requests`, each request that is
not a health check with its `route`, its duration in `ms` and whether it failed (`error`).
Exits non-zero if an export failed.
"""

import json
import sys
import time

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from otlp_client import exporter

MS = 1_000_000


def request(tracer, method, route, target, status, length, children):
    """One server span from now for `length` ns, with `children(context, start)` inside it."""
    start = time.time_ns()
    path = target.split("?")[0]
    server = tracer.start_span(
        f"{method} {route}",
        kind=SpanKind.SERVER,
        start_time=start,
        attributes={
            "http.request.method": method,
            "http.route": route,
            "url.path": path,
            "url.full": f"http://sleep-api.internal:8080{target}",
            "http.response.status_code": status,
        },
    )
    if status >= 500:
        server.set_status(Status(StatusCode.ERROR))
    context = trace.set_span_in_context(server)
    middleware = tracer.start_span("middleware - jsonParser", context=context, start_time=start + 100_000)
    middleware.end(end_time=start + 300_000)
    children(context, start)
    server.end(end_time=start + length)
    return format(server.get_span_context().trace_id, "032x")


def main():
    protocol, endpoint = sys.argv[1], sys.argv[2]
    ordinary, errors, slow, health = (int(n) for n in sys.argv[3:7])
    checked = exporter(protocol, endpoint)
    provider = TracerProvider(resource=Resource.create({"service.name": "sleep-api"}))
    provider.add_span_processor(BatchSpanProcessor(checked, max_queue_size=20_000, schedule_delay_millis=200))
    tracer = provider.get_tracer("sleep-api")
    traces, identifiers, requests = {}, [], []

    def answered(trace_id, kind, route, ms):
        traces[trace_id] = kind
        requests.append({"trace": trace_id, "route": route, "ms": ms, "error": kind == "error"})

    def work(name, user, patient, fails=False, length=3 * MS):
        def children(context, start):
            db = tracer.start_span("INSERT sleep_logs", kind=SpanKind.CLIENT, context=context, start_time=start + MS)
            db.end(end_time=start + 2 * MS)
            span = tracer.start_span(name, context=context, start_time=start + MS)
            span.set_attribute("user.id", user)
            if patient:
                span.set_attribute("patient.id", patient)
            if fails:
                span.set_status(Status(StatusCode.ERROR, f"no baseline for patient {patient}"))
            span.end(end_time=start + length - MS)

        return children

    for i in range(ordinary):
        user, patient, token = f"u-{700000 + i}", f"P-{50000 + i}", f"tok-{800000 + i}"
        identifiers += [user, patient, token]
        ms = 3 + (i * 7) % 97
        if i % 2:
            route = "/api/sleep-logs"
            trace_id = request(tracer, "POST", route, route, 201, ms * MS, work("sleep-logs.store", user, patient))
        else:
            route = "/api/users/me"
            trace_id = request(tracer, "GET", route, f"{route}?token={token}&lang=en", 200, ms * MS,
                               work("users.lookup", user, None))
        answered(trace_id, "ordinary", route, ms)
    for i in range(errors):
        user, patient = f"u-{900000 + i}", f"P-{60000 + i}"
        identifiers += [user, patient]
        ms, route = 4 + i % 20, "/api/sleep-logs/score"
        trace_id = request(tracer, "POST", route, route, 500, ms * MS, work("sleep-logs.score", user, patient, fails=True))
        answered(trace_id, "error", route, ms)
    for i in range(slow):
        user = f"u-{950000 + i}"
        identifiers.append(user)
        ms, route = 2500 + 10 * i, "/api/reports/weekly"
        trace_id = request(tracer, "GET", route, route, 200, ms * MS, work("reports.weekly", user, None, length=2400 * MS))
        answered(trace_id, "slow", route, ms)
    for i in range(health):
        if i % 3 == 2:
            start = time.time_ns()
            span = tracer.start_span(
                "grpc.health.v1.Health/Check",
                kind=SpanKind.SERVER,
                start_time=start,
                attributes={"rpc.system": "grpc", "rpc.service": "grpc.health.v1.Health", "rpc.method": "Check"},
            )
            span.end(end_time=start + 2 * MS)
            trace_id = format(span.get_span_context().trace_id, "032x")
        else:
            route = "/metrics" if i % 3 else "/health"
            trace_id = request(tracer, "GET", route, route, 200, 2 * MS, lambda context, start: None)
        traces[trace_id] = "health"
    provider.shutdown()
    if checked.failed:
        print(f"{protocol} exporter reported a failed export", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"traces": traces, "identifiers": identifiers, "requests": requests}))


if __name__ == "__main__":
    main()
