// Send spans to spanwise with the real OpenTelemetry Node.js SDK (@opentelemetry/sdk-node) and
// its OTLP exporters: OTLP/HTTP (which sends JSON) and OTLP/gRPC.
//
// Usage: node send_spans.js (http|grpc) ENDPOINT PREFIX COUNT
//
// The same traffic as send_spans.py: each request is a server span with a child client span,
// carrying URLs with tokens and a user id. Exits non-zero if any export fails.

'use strict';

const { NodeSDK, resources, tracing, api } = require('@opentelemetry/sdk-node');

async function main() {
  const [protocol, endpoint, prefix, countText] = process.argv.slice(2);
  const count = Number(countText);
  const Exporter =
    protocol === 'http'
      ? require('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter
      : require('@opentelemetry/exporter-trace-otlp-grpc').OTLPTraceExporter;
  const exporter = new Exporter({ url: endpoint, timeoutMillis: 10000 });

  // Remember failed exports: the SDK only logs them.
  let failed = false;
  const exportOriginal = exporter.export.bind(exporter);
  exporter.export = (spans, done) =>
    exportOriginal(spans, (result) => {
      if (result.code !== 0) {
        failed = true;
        console.error(`${protocol} export failed:`, result.error && result.error.message);
      }
      done(result);
    });

  const sdk = new NodeSDK({
    resource: resources.resourceFromAttributes({ 'service.name': `${prefix}-service` }),
    spanProcessors: [new tracing.SimpleSpanProcessor(exporter)],
    instrumentations: [],
  });
  sdk.start();
  const tracer = api.trace.getTracer('spanwise.e2e');
  for (let i = 0; i < count; i++) {
    tracer.startActiveSpan(
      `GET /v1/patients/${1000 + i}/sleep-logs`,
      {
        kind: api.SpanKind.SERVER,
        attributes: {
          'http.request.method': 'GET',
          'url.full': `https://api.dtx.example/v1/patients/${1000 + i}/sleep-logs?page=${i}&token=secret${i}`,
          'url.query': `page=${i}&token=secret${i}`,
          'enduser.id': `u-${i}`,
          'request.index': i,
        },
      },
      (server) => {
        if (i % 2) {
          server.setStatus({ code: api.SpanStatusCode.ERROR, message: 'boom' });
        }
        tracer.startActiveSpan(
          `${prefix} client ${i}`,
          {
            kind: api.SpanKind.CLIENT,
            attributes: { 'http.url': `http://scoring.internal/v2/score?api_key=k${i}` },
          },
          (client) => client.end(),
        );
        server.end();
      },
    );
  }
  await sdk.shutdown();
  if (failed) {
    process.exit(1);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
