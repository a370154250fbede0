"""Send the platform's API traffic with the real OpenTelemetry Python SDK, as its Python services
would: every request a server span with the HTTP attributes of the current conventions, a
sub-millisecond middleware span, a database span and a custom span with the caller's `user.id`
and the `patient.id` it touches. Kinds of request, by trace:

- `ordinary`: `POST /api/sleep-logs` and `GET /api/users/me?token=...`, a few milliseconds;
- `error`: `POST /api/sleep-logs/score`, whose scoring span fails, answered with a 500;
- `slow`: `GET /api/reports/weekly`, 2.5 seconds (stamped with explicit times, nothing sleeps);
- `health`: `GET /health`, `GET /metrics` and the gRPC health check `grpc.health.v1.Health/Check`.

Usage: send_platform_traffic.py (http|grpc) ENDPOINT ORDINARY ERRORS SLOW HEALTH

Prints one JSON object: `traces`, each trace id sent (32 hex digits) with its kind, and
`identifiers`, every user id, patient id and token sent. Exits non-zero if an export failed.
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
    traces, identifiers = {}, []

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
        if i % 2:
            trace_id = request(tracer, "POST", "/api/sleep-logs", "/api/sleep-logs", 201, 4 * MS,
                               work("sleep-logs.store", user, patient))
        else:
            trace_id = request(tracer, "GET", "/api/users/me", f"/api/users/me?token={token}&lang=en", 200,
                               4 * MS, work("users.lookup", user, None))
        traces[trace_id] = "ordinary"
    for i in range(errors):
        user, patient = f"u-{900000 + i}", f"P-{60000 + i}"
        identifiers += [user, patient]
        trace_id = request(tracer, "POST", "/api/sleep-logs/score", "/api/sleep-logs/score", 500, 4 * MS,
                           work("sleep-logs.score", user, patient, fails=True))
        traces[trace_id] = "error"
    for i in range(slow):
        user = f"u-{950000 + i}"
        identifiers.append(user)
        trace_id = request(tracer, "GET", "/api/reports/weekly", "/api/reports/weekly", 200, 2500 * MS,
                           work("reports.weekly", user, None, length=2400 * MS))
        traces[trace_id] = "slow"
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
    print(json.dumps({"traces": traces, "identifiers": identifiers}))


if __name__ == "__main__":
    main()
