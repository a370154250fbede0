// The sleep API: a NestJS service (on Express, Nest's default platform) with the platform's
// routes, traced by tracing.js, started as the services' main.ts starts them: tracing first,
// then the Nest application. It prints `listening PORT` once it serves on 127.0.0.1, and on
// SIGTERM flushes its spans and exits, as the services do on a rolling update.
//
//   POST /api/sleep-logs         stores a sleep log: a custom span with user.id and patient.id
//   GET  /api/users/me?token=... looks a user up: a custom span with user.id
//   POST /api/sleep-logs/score   fails: a custom span with the exception, then a 500
//   GET  /api/reports/weekly     slow: 2.1 s
//   GET  /health, GET /metrics   what probes and scrapers call
//
// Every response carries the id of its trace in `x-trace-id`, so the driver can say which
// trace was which. Written in plain JavaScript: the decorators TypeScript would apply are
// applied with Reflect.decorate, as its compiled output does.

'use strict';

const { otelSDK } = require('./tracing');

otelSDK.start();

require('reflect-metadata');
const api = require('@opentelemetry/api');
const { Body, Controller, Get, HttpCode, HttpException, Module, Post, Query } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');

const tracer = api.trace.getTracer('sleep-api');
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Apply method (and parameter) decorators to `target[key]`, as TypeScript's output does. */
function decorate(target, key, ...decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  Object.defineProperty(target, key, Reflect.decorate(decorators, target, key, descriptor));
}
const param = (index, decorator) => (target, key) => decorator(target, key, index);

class SleepLogsController {
  async store(body) {
    await tracer.startActiveSpan('sleep-logs.store', async (span) => {
      span.setAttribute('user.id', body.userId);
      span.setAttribute('patient.id', body.patientId);
      span.setAttribute('sleep.hours', body.hours);
      await pause(3); // the database
      span.end();
    });
    return { stored: true };
  }

  async score(body) {
    await tracer.startActiveSpan('sleep-logs.score', async (span) => {
      span.setAttribute('user.id', body.userId);
      await pause(3);
      const error = new Error(`no baseline for patient ${body.patientId}`);
      span.recordException(error);
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: error.message });
      span.end();
    });
    throw new HttpException('scoring failed', 500);
  }
}
Reflect.decorate([Controller('api/sleep-logs')], SleepLogsController);
decorate(SleepLogsController.prototype, 'store', Post(), HttpCode(201), param(0, Body()));
decorate(SleepLogsController.prototype, 'score', Post('score'), param(0, Body()));

class UsersController {
  async me(token, lang) {
    await tracer.startActiveSpan('users.lookup', async (span) => {
      span.setAttribute('user.id', `u-${token.slice(4)}`);
      await pause(3);
      span.end();
    });
    return { lang };
  }
}
Reflect.decorate([Controller('api/users')], UsersController);
decorate(UsersController.prototype, 'me', Get('me'), param(0, Query('token')), param(1, Query('lang')));

class ReportsController {
  async weekly() {
    await pause(2100);
    return { nights: 7 };
  }
}
Reflect.decorate([Controller('api/reports')], ReportsController);
decorate(ReportsController.prototype, 'weekly', Get('weekly'));

class HealthController {
  health() {
    return { status: 'ok' };
  }

  metrics() {
    return 'up 1\n';
  }
}
Reflect.decorate([Controller()], HealthController);
decorate(HealthController.prototype, 'health', Get('health'));
decorate(HealthController.prototype, 'metrics', Get('metrics'));

class AppModule {}
Reflect.decorate(
  [Module({ controllers: [SleepLogsController, UsersController, ReportsController, HealthController] })],
  AppModule,
);

async function bootstrap() {
  const app = await NestFactory.create(AppModule, { logger: ['error'] });
  app.use((req, res, next) => {
    const span = api.trace.getActiveSpan();
    if (span) {
      res.setHeader('x-trace-id', span.spanContext().traceId);
    }
    next();
  });
  await app.listen(0, '127.0.0.1');
  console.log(`listening ${app.getHttpServer().address().port}`);
  process.on('SIGTERM', () => {
    app
      .close()
      .then(() => otelSDK.shutdown())
      .catch((error) => console.error('stopping failed:', error))
      .finally(() => process.exit(0));
  });
}

bootstrap().catch((error) => {
  console.error(error);
  process.exit(1);
});
