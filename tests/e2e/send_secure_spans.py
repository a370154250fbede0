"""Send spans over TLS with the real OpenTelemetry Python SDK, configured the way an operator
configures it: through the SDK's own environment variables.

Usage: send_secure_spans.py (http|grpc) ENDPOINT PREFIX COUNT

The exporters read OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE (the CA), ..._CLIENT_CERTIFICATE and
..._CLIENT_KEY (mutual TLS), ..._HEADERS (the token) and ..._TIMEOUT. Each span is named
PREFIX-N. Exits 0 when every export succeeded, 3 when any failed.
"""

import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from otlp_client import Checked


def main():
    protocol, endpoint, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if protocol == "http":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        checked = Checked(OTLPSpanExporter(endpoint=endpoint))
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        checked = Checked(OTLPSpanExporter(endpoint=endpoint, insecure=False))
    provider = TracerProvider(resource=Resource.create({"service.name": f"{prefix}-service"}))
    provider.add_span_processor(SimpleSpanProcessor(checked))
    tracer = provider.get_tracer("spanwise.e2e")
    for i in range(count):
        with tracer.start_as_current_span(f"{prefix}-{i}"):
            pass
    provider.shutdown()
    sys.exit(3 if checked.failed else 0)


if __name__ == "__main__":
    main()
