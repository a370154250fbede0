// The sleep API: an Express service (NestJS runs on Express) with the platform's routes, traced
// by tracing.js. It prints `listening PORT` once it serves on 127.0.0.1, and on SIGTERM flushes
// its spans and exits, as the services do on a rolling update.
//
//   POST /api/sleep-logs         stores a sleep log: a custom span with user.id and patient.id
//   GET  /api/users/me?token=... looks a user up: a custom span with user.id
//   POST /api/sleep-logs/score   fails: a custom span with the exception, then a 500
//   GET  /api/reports/weekly     slow: 2.1 s
//   GET  /health, GET /metrics   what probes and scrapers call
//
// Every response carries the id of its trace in `x-trace-id`, so the driver can say which
// trace was which.

'use strict';

const { otelSDK } = require('./tracing');

otelSDK.start();

const express = require('express');
const api = require('@opentelemetry/api');

const tracer = api.trace.getTracer('sleep-api');
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const app = express();
app.use(express.json());
app.use((req, res, next) => {
  const span = api.trace.getActiveSpan();
  if (span) {
    res.set('x-trace-id', span.spanContext().traceId);
  }
  next();
});

app.post('/api/sleep-logs/score', async (req, res) => {
  await tracer.startActiveSpan('sleep-logs.score', async (span) => {
    span.setAttribute('user.id', req.body.userId);
    await pause(3);
    const error = new Error(`no baseline for patient ${req.body.patientId}`);
    span.recordException(error);
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: error.message });
    span.end();
  });
  res.status(500).json({ error: 'scoring failed' });
});

app.post('/api/sleep-logs', async (req, res) => {
  await tracer.startActiveSpan('sleep-logs.store', async (span) => {
    span.setAttribute('user.id', req.body.userId);
    span.setAttribute('patient.id', req.body.patientId);
    span.setAttribute('sleep.hours', req.body.hours);
    await pause(3); // the database
    span.end();
  });
  res.status(201).json({ stored: true });
});

app.get('/api/users/me', async (req, res) => {
  await tracer.startActiveSpan('users.lookup', async (span) => {
    span.setAttribute('user.id', `u-${req.query.token.slice(4)}`);
    await pause(3);
    span.end();
  });
  res.json({ lang: req.query.lang });
});

app.get('/api/reports/weekly', async (req, res) => {
  await pause(2100);
  res.json({ nights: 7 });
});

app.get('/health', (req, res) => res.json({ status: 'ok' }));
app.get('/metrics', (req, res) => res.type('text/plain').send('up 1\n'));

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});

process.on('SIGTERM', () => {
  server.close();
  otelSDK
    .shutdown()
    .catch((error) => console.error('flushing spans failed:', error))
    .finally(() => process.exit(0));
});
