// Tracing for the sleep API, set up as the platform's NestJS services set it up (their
// `tracing.ts`): the Node SDK with the auto-instrumentations and the OTLP/HTTP trace exporter,
// started before the framework is loaded so that http and express are instrumented.
//
// The endpoint comes from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, the service name from
// OTEL_SERVICE_NAME, as in the services' deployments.

'use strict';

const { NodeSDK } = require('@opentelemetry/sdk-node');
const { getNodeAutoInstrumentations } = require('@opentelemetry/auto-instrumentations-node');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');

const otelSDK = new NodeSDK({
  traceExporter: new OTLPTraceExporter(),
  instrumentations: [
    getNodeAutoInstrumentations({
      // The services turn off file-system spans, as most Node services do.
      '@opentelemetry/instrumentation-fs': { enabled: false },
    }),
  ],
});

module.exports = { otelSDK };
