"""Send whole traces with the real OpenTelemetry Python SDK for the tail sampler: each trace is a
server span with two children. Every 20th trace has a child that fails (status ERROR, 5%); of the
rest, two in twenty take 2.5 seconds end to end (10%), stamped with explicit times so nothing
sleeps; the others take a few milliseconds.

Usage: send_tail_traces.py (http|grpc) ENDPOINT TRACES

Prints one JSON object: `traces`, each trace id sent (32 hex digits) with its category (`errors`,
`slow` or `default`), and `spans_per_trace`. Exits non-zero if the exporter reports a failure.
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


def category(i):
    if i % 20 == 0:
        return "errors"
    if i % 20 in (1, 2):
        return "slow"
    return "default"


def main():
    protocol, endpoint, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    checked = exporter(protocol, endpoint)
    provider = TracerProvider(resource=Resource.create({"service.name": "therapy-api"}))
    provider.add_span_processor(BatchSpanProcessor(checked, max_queue_size=20_000, schedule_delay_millis=200))
    tracer = provider.get_tracer("spanwise.e2e.tail")
    traces = {}
    for i in range(count):
        kind = category(i)
        start = time.time_ns()
        length = 2500 * MS if kind == "slow" else 3 * MS
        root = tracer.start_span("POST /v1/sessions", kind=SpanKind.SERVER, start_time=start)
        traces[format(root.get_span_context().trace_id, "032x")] = kind
        context = trace.set_span_in_context(root)
        query = tracer.start_span("INSERT sessions", kind=SpanKind.CLIENT, context=context, start_time=start + MS)
        query.end(end_time=start + 2 * MS)
        call = tracer.start_span("POST /v1/score", kind=SpanKind.CLIENT, context=context, start_time=start + 2 * MS)
        if kind == "errors":
            call.set_status(Status(StatusCode.ERROR, "scoring service unavailable"))
        call.end(end_time=start + length - MS)
        root.end(end_time=start + length)
    provider.shutdown()
    if checked.failed:
        print(f"{protocol} exporter reported a failed export", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"traces": traces, "spans_per_trace": 3}))


if __name__ == "__main__":
    main()
