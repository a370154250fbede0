"""Send whole traces with the real OpenTelemetry Python SDK: each trace is a server span with
four children (a database query, a cache lookup, an outgoing call and an internal step), as an
instrumented request handler makes them. The SDK samples everything; the head sampler decides.

Usage: send_traces.py (http|grpc) ENDPOINT TRACES

Prints one JSON object: `traces`, the trace ids sent (32 hex digits), and `spans_per_trace`.
Exits non-zero if the exporter reports a failure.
"""

import json
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

from otlp_client import exporter

CHILDREN = [
    ("SELECT sleep_logs", SpanKind.CLIENT, {"db.system": "postgresql"}),
    ("cache lookup", SpanKind.INTERNAL, {"cache.key": "sessions"}),
    ("POST /v1/score", SpanKind.CLIENT, {"http.request.method": "POST"}),
    ("render", SpanKind.INTERNAL, {}),
]


def main():
    protocol, endpoint, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    checked = exporter(protocol, endpoint)
    provider = TracerProvider(resource=Resource.create({"service.name": f"sleep-api-{protocol}"}))
    # Bounded by the SDK's queue (2,048 spans by default): large enough for what is sent here
    # between two exports, so nothing is dropped on the client side.
    provider.add_span_processor(BatchSpanProcessor(checked, max_queue_size=20_000, schedule_delay_millis=200))
    tracer = provider.get_tracer("spanwise.e2e.head")
    traces = []
    for i in range(count):
        with tracer.start_as_current_span(
            f"GET /v1/patients/{i}/sleep-logs", kind=SpanKind.SERVER, attributes={"http.route": "/v1/patients/{id}/sleep-logs"}
        ) as root:
            traces.append(format(root.get_span_context().trace_id, "032x"))
            for name, kind, attributes in CHILDREN:
                with tracer.start_as_current_span(name, kind=kind, attributes=attributes):
                    pass
    provider.shutdown()
    if checked.failed:
        print(f"{protocol} exporter reported a failed export", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"traces": traces, "spans_per_trace": 1 + len(CHILDREN)}))


if __name__ == "__main__":
    main()
