"""Send spans to spanwise with the real OpenTelemetry Python SDK and its OTLP exporters.

Usage: send_spans.py (http|grpc) ENDPOINT PREFIX COUNT

Each of COUNT requests is a server span with a child client span, carrying URLs with tokens,
a user id and a patient id, as an instrumented digital-therapeutics API would send them.
Exits non-zero if the exporter reports a failure.
"""

import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from otlp_client import exporter


def main():
    protocol, endpoint, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    checked = exporter(protocol, endpoint)
    provider = TracerProvider(resource=Resource.create({"service.name": f"{prefix}-service"}))
    provider.add_span_processor(SimpleSpanProcessor(checked))
    tracer = provider.get_tracer("spanwise.e2e")
    for i in range(count):
        with tracer.start_as_current_span(
            f"GET /v1/patients/{1000 + i}/sleep-logs",
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": "GET",
                "url.full": f"https://api.dtx.example/v1/patients/{1000 + i}/sleep-logs?page={i}&token=secret{i}",
                "url.query": f"page={i}&token=secret{i}",
                "enduser.id": f"u-{i}",
                "request.index": i,
            },
        ) as server:
            if i % 2:
                server.set_status(Status(StatusCode.ERROR, "boom"))
            with tracer.start_as_current_span(
                f"{prefix} client {i}",
                kind=SpanKind.CLIENT,
                attributes={"http.url": f"http://scoring.internal/v2/score?api_key=k{i}"},
            ):
                pass
    provider.shutdown()
    if checked.failed:
        print(f"{protocol} exporter reported a failed export", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
