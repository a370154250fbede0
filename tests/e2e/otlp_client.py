"""What the end-to-end senders share: an OTLP exporter for a protocol, and a wrapper that
remembers whether any export failed."""

from opentelemetry.sdk.trace.export import SpanExportResult


class Checked:
    """Wraps an exporter and remembers whether any export failed."""

    def __init__(self, inner):
        self.inner = inner
        self.failed = False

    def export(self, spans):
        result = self.inner.export(spans)
        if result != SpanExportResult.SUCCESS:
            self.failed = True
        return result

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis=30000):
        return True


def exporter(protocol, endpoint):
    """The real OTLP exporter of the Python SDK for `http` (protobuf) or `grpc`, wrapped."""
    if protocol == "http":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return Checked(OTLPSpanExporter(endpoint=endpoint, timeout=10))
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return Checked(OTLPSpanExporter(endpoint=endpoint, insecure=True, timeout=10))
