"""Send spans full of patient and user identifiers to spanwise with the real OpenTelemetry
Python SDK, as the platform's services would: the masking end-to-end test checks that none of
them comes out in clear.

Usage: send_identifiers.py (http|grpc) ENDPOINT COUNT

Prints, one per line, every identifier it sent in clear, so that the test looks for exactly
those. Exits non-zero if the exporter reports a failure.
"""

import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from otlp_client import exporter


def main():
    protocol, endpoint, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    checked = exporter(protocol, endpoint)
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": "sleep-api", "service.owner": "oncall-sleep@dtx.example"}
        )
    )
    provider.add_span_processor(SimpleSpanProcessor(checked))
    tracer = provider.get_tracer("spanwise.e2e.masking")
    sent = ["oncall-sleep@dtx.example"]
    for i in range(count):
        user, patient = f"u-{7000 + i}", f"P-{48000 + i}"
        email, phone = f"ana.{i}@example.org", f"+49 151 2345 {6000 + i}"
        token = f"tok{i}secret"
        sent += [user, patient, email, phone, token, f"hunter{i}", f"{{\"patient\": \"{patient}\"}}"]
        with tracer.start_as_current_span(
            f"POST /v1/patients/{48000 + i}/sleep-logs",
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": "POST",
                "url.full": f"https://api.dtx.example/v1/patients/{48000 + i}/sleep-logs?session_token={token}&lang=en",
                "user.id": user,
                "patient.id": patient,
                "password": f"hunter{i}",
                "http.request.body": f"{{\"patient\": \"{patient}\"}}",
                "http.response.body": f"{{\"patient\": \"{patient}\"}}",
                "contact": f"write to {email} or call {phone}",
            },
        ) as span:
            span.add_event("exception", {"exception.message": f"no sleep log for {patient} ({email})"})
            if i % 2:
                span.set_status(Status(StatusCode.ERROR, f"duplicate sleep log for patient {patient}"))
            with tracer.start_as_current_span(
                f"notify {patient}",
                kind=SpanKind.CLIENT,
                attributes={"messaging.destination.name": "reminders", "user.id": user},
            ):
                pass
    provider.shutdown()
    if checked.failed:
        print(f"{protocol} exporter reported a failed export", file=sys.stderr)
        sys.exit(1)
    print("\n".join(sent))


if __name__ == "__main__":
    main()
