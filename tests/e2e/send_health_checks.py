"""Send the traffic the filter plugin is for, with the real OpenTelemetry Python SDK: HTTP and
gRPC health checks, sub-millisecond spans, and ordinary requests with events, some of which the
filter's span event condition removes.

Usage: send_health_checks.py (http|grpc) ENDPOINT COUNT

Prints one JSON object: `kept`, the spans that must come out (name, span id in hex, start and end
times, attributes, event names that stay), and `dropped`, the names of the spans that must not.
Exits non-zero if the exporter reports a failure.
"""

import json
import sys
import time

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from otlp_client import exporter

MS = 1_000_000


def main():
    protocol, endpoint, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    checked = exporter(protocol, endpoint)
    provider = TracerProvider(resource=Resource.create({"service.name": f"sessions-{protocol}"}))
    provider.add_span_processor(SimpleSpanProcessor(checked))
    tracer = provider.get_tracer("spanwise.e2e.filter")
    kept, dropped = [], []

    def span(name, duration_ns, attributes, kind=SpanKind.SERVER, events=(), keep=True):
        start = time.time_ns()
        s = tracer.start_span(name, kind=kind, attributes=attributes, start_time=start)
        for event_name, event_attributes in events:
            s.add_event(event_name, event_attributes, timestamp=start + 1)
        s.end(end_time=start + duration_ns)
        if keep:
            kept.append(
                {
                    "name": name,
                    "span_id": format(s.get_span_context().span_id, "016x"),
                    "start": start,
                    "end": start + duration_ns,
                    "attributes": attributes,
                    "events": [e for e, _ in events if e != "cache.hit"],
                }
            )
        else:
            dropped.append(name)

    for i in range(count):
        span(f"GET /health {i}", 5 * MS, {"http.route": "/health", "http.request.method": "GET"}, keep=False)
        span(f"grpc.health.v1.Health/Check {i}", 3 * MS, {"grpc.method": "Health/Check", "rpc.system": "grpc"}, keep=False)
        span(f"cache lookup {i}", 400_000, {"cache.key": f"k{i}"}, kind=SpanKind.INTERNAL, keep=False)
        span(
            f"GET /v1/sessions {i}",
            12 * MS,
            {"http.route": "/v1/sessions", "http.request.method": "GET", "http.response.status_code": 200},
            events=[("cache.hit", {"cache.key": f"s{i}"}), ("session.loaded", {"count": i})],
        )
        span(f"exactly one millisecond {i}", MS, {"http.route": "/v1/ping"}, kind=SpanKind.CLIENT)
        span(f"grpc.health.v1.Health/Watch {i}", 4 * MS, {"grpc.method": "Health/Watch"})
    provider.shutdown()
    if checked.failed:
        print(f"{protocol} exporter reported a failed export", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"kept": kept, "dropped": dropped}))


if __name__ == "__main__":
    main()
