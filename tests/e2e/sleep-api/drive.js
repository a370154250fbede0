// Traffic for the sleep API on 127.0.0.1:PORT, from outside it (no tracing here): ordinary
// requests, failing ones, slow ones and health checks, each with its own user id, patient id
// and token. Prints one JSON object: every request's trace id and kind, and every identifier
// sent.
//
// Usage: node drive.js PORT ORDINARY ERRORS SLOW HEALTH

'use strict';

const [port, ordinary, errors, slow, health] = process.argv.slice(2).map(Number);

async function call(method, path, body) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10000),
  });
  await response.arrayBuffer();
  const trace = response.headers.get('x-trace-id');
  if (!trace) {
    throw new Error(`${method} ${path}: no x-trace-id (status ${response.status})`);
  }
  return trace;
}

async function main() {
  const requests = [];
  const identifiers = [];
  for (let i = 0; i < ordinary; i++) {
    const user = `u-${700000 + i}`;
    const patient = `P-${50000 + i}`;
    const token = `tok-${800000 + i}`;
    identifiers.push(user, patient, token);
    if (i % 2) {
      requests.push(['ordinary', 'POST', '/api/sleep-logs', { userId: user, patientId: patient, hours: 7 }]);
    } else {
      requests.push(['ordinary', 'GET', `/api/users/me?token=${token}&lang=en`]);
    }
  }
  for (let i = 0; i < errors; i++) {
    const user = `u-${900000 + i}`;
    const patient = `P-${60000 + i}`;
    identifiers.push(user, patient);
    requests.push(['error', 'POST', '/api/sleep-logs/score', { userId: user, patientId: patient }]);
  }
  for (let i = 0; i < health; i++) {
    requests.push(['health', 'GET', i % 2 ? '/metrics' : '/health']);
  }
  const traces = {};
  // The slow ones all at once (2.1 s), the rest eight at a time.
  const slowCalls = Array.from({ length: slow }, () =>
    call('GET', '/api/reports/weekly').then((trace) => {
      traces[trace] = 'slow';
    }),
  );
  let next = 0;
  const workers = Array.from({ length: 8 }, async () => {
    while (next < requests.length) {
      const [kind, method, path, body] = requests[next++];
      traces[await call(method, path, body)] = kind;
    }
  });
  await Promise.all([...slowCalls, ...workers]);
  console.log(JSON.stringify({ traces, identifiers }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
