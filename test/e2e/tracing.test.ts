/**
 * OpenTelemetry tracing end to end: a real `jobplane start` process exports over OTLP/HTTP (JSON)
 * to a receiver this test runs, and the spans it decodes must form the promised shape: the
 * request's server span continues the caller's trace, database spans are its children, and each
 * attempt's span links to the submitting span and is propagated to the http task's target.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { testDatabase } from '../helpers/db.js';
import { startJobplaneProcess } from '../helpers/jobplane-process.js';
import { eventually } from '../helpers/wait.js';

interface OtlpValue { stringValue?: string; intValue?: string | number; boolValue?: boolean }
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
  links?: Array<{ traceId: string; spanId: string }>;
  status?: { code?: number };
}
interface Received { service: string | undefined; span: OtlpSpan }

const PASSWORD = 'tracing test password';
const db = await testDatabase();

/** OTLP/JSON ids are hex in this exporter; accept base64 (the protobuf JSON mapping) too. */
function hexId(id: string | undefined): string {
  if (!id) return '';
  return /^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

function attr(span: OtlpSpan, key: string): string | number | boolean | undefined {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  return value.stringValue ?? (value.intValue === undefined ? value.boolValue : Number(value.intValue));
}

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** An OTLP/HTTP receiver: POST /v1/traces with JSON; every span decoded with its service name. */
async function startReceiver(): Promise<{ url: string; spans: Received[]; requests: { contentType: string | undefined; raw: Buffer }[]; close(): Promise<void> }> {
  const spans: Received[] = [];
  const requests: { contentType: string | undefined; raw: Buffer }[] = [];
  const server = createServer((request, response) => {
    void body(request).then((raw) => {
      requests.push({ contentType: request.headers['content-type'], raw });
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      if (request.headers['content-type'] !== 'application/json') {
        // Protobuf: kept raw (the third test looks for the ids' bytes); an empty message is success.
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        return;
      }
      const decoded = JSON.parse(raw.toString('utf8')) as { resourceSpans?: Array<{ resource?: { attributes?: OtlpSpan['attributes'] }; scopeSpans?: Array<{ spans?: OtlpSpan[] }> }> };
      for (const resourceSpans of decoded.resourceSpans ?? []) {
        const service = resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({ service, span: { ...span, traceId: hexId(span.traceId), spanId: hexId(span.spanId), parentSpanId: hexId(span.parentSpanId), links: (span.links ?? []).map((l) => ({ traceId: hexId(l.traceId), spanId: hexId(l.spanId) })) } });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await listen(server);
  // closeAllConnections: the exporter keeps its connection alive, which would hold close() open.
  return { url: `http://127.0.0.1:${port}`, spans, requests, close: () => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }) };
}

async function login(url: string): Promise<Record<string, string>> {
  const response = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  assert.equal(response.status, 200);
  return { authorization: `Bearer ${((await response.json()) as { accessToken: string }).accessToken}`, 'content-type': 'application/json' };
}

test('with OTEL_EXPORTER_OTLP_ENDPOINT set, requests, database statements and attempts are exported as linked spans, and the http task sends the attempt traceparent', async () => {
  const receiver = await startReceiver();
  // The target of an http job: records the traceparent it receives.
  const received: string[] = [];
  const target = createServer((request, response) => {
    received.push(String(request.headers.traceparent ?? ''));
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  const targetPort = await listen(target);
  try {
    const jobplane = db.track(await startJobplaneProcess({
      DATABASE_URL: db.url,
      JOBPLANE_ADMIN_PASSWORD: PASSWORD,
      JOBPLANE_POLL_INTERVAL: '200ms',
      JOBPLANE_HTTP_ALLOWED_HOSTS: '127.0.0.1',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'jobplane-under-test',
    }));
    assert.ok(jobplane.output.some((line) => line.includes('OpenTelemetry tracing on')));
    const auth = await login(jobplane.url);
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const submitted = await fetch(`${jobplane.url}/api/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: JSON.stringify({ task: 'http', queue: 'traced', payload: { url: `http://127.0.0.1:${targetPort}/hook`, method: 'POST', body: { hello: 'world' } } }),
    });
    assert.equal(submitted.status, 201, await submitted.clone().text());
    const job = (await submitted.json()) as { id: string; traceParent: string | null };

    // The server span continues the caller's trace, with the route as its name.
    const server = await eventually(() => Promise.resolve(receiver.spans.find((r) => r.span.name === 'POST /api/v1/jobs' && r.span.traceId === traceId)), 15_000, 50);
    assert.equal(server.service, 'jobplane-under-test');
    assert.equal(server.span.parentSpanId, callerSpanId);
    assert.equal(server.span.kind, 2, 'SERVER');
    assert.equal(attr(server.span, 'http.request.method'), 'POST');
    assert.equal(attr(server.span, 'http.route'), '/api/v1/jobs');
    assert.equal(attr(server.span, 'url.path'), '/api/v1/jobs');
    assert.equal(attr(server.span, 'http.response.status_code'), 201);
    // The job stores the server span as its submitter.
    assert.equal(job.traceParent, `00-${traceId}-${server.span.spanId}-01`);

    // Database statements of the request are client spans in its trace, below the server span.
    const dbSpans = await eventually(() => {
      const found = receiver.spans.filter((r) => r.span.traceId === traceId && attr(r.span, 'db.system.name') === 'postgresql');
      return Promise.resolve(found.some((r) => String(attr(r.span, 'db.query.text')).includes('INSERT')) ? found : null);
    }, 15_000, 50);
    const inTrace = new Set(receiver.spans.filter((r) => r.span.traceId === traceId).map((r) => r.span.spanId));
    for (const d of dbSpans) {
      assert.equal(d.span.kind, 3, 'CLIENT');
      assert.ok(inTrace.has(d.span.parentSpanId ?? ''), `db span ${d.span.name} has a parent in the request's trace`);
    }
    assert.ok(dbSpans.some((d) => d.span.parentSpanId === server.span.spanId), 'some statements are direct children of the server span');

    // One consumer span for the attempt, linked to the submitting span, in its own trace.
    const attempt = await eventually(() => Promise.resolve(receiver.spans.find((r) => r.span.name === 'job http' && attr(r.span, 'jobplane.job.id') === job.id)), 15_000, 50);
    assert.equal(attempt.span.kind, 5, 'CONSUMER');
    assert.deepEqual(attempt.span.links, [{ traceId, spanId: server.span.spanId }]);
    assert.equal(attr(attempt.span, 'jobplane.job.attempt'), 1);
    assert.equal(attr(attempt.span, 'jobplane.job.queue'), 'traced');
    assert.equal(attr(attempt.span, 'jobplane.job.outcome'), 'completed');
    // The http task handed the attempt's span to the target as its parent.
    assert.deepEqual(received, [`00-${attempt.span.traceId}-${attempt.span.spanId}-01`]);
    // Statements made while the attempt ran (none for http) would be its children; probes are not traced.
    assert.equal(receiver.spans.filter((r) => r.span.name.includes('/healthz')).length, 0);
    assert.ok(receiver.requests.every((r) => r.contentType?.startsWith('application/json')), 'OTLP/HTTP JSON');

    // A schedule's fire is a span, and the attempt of the job it made links back to it.
    const created = await fetch(`${jobplane.url}/api/v1/schedules`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'traced-tick', intervalMs: 1000, task: 'noop', queue: 'ticks' }) });
    assert.equal(created.status, 201, await created.clone().text());
    const scheduleId = ((await created.json()) as { id: string }).id;
    const fire = await eventually(() => Promise.resolve(receiver.spans.find((r) => r.span.name === 'schedule fire traced-tick' && attr(r.span, 'jobplane.schedule.jobs_created') === 1)), 15_000, 50);
    assert.equal(attr(fire.span, 'jobplane.schedule.id'), scheduleId);
    // Due schedules are fired in batches: the fire is a child of its cron pass, whose statements are the pass's children.
    const pass = await eventually(() => Promise.resolve(receiver.spans.find((r) => r.span.spanId === fire.span.parentSpanId)), 15_000, 50);
    assert.equal(pass.span.name, 'cron pass');
    assert.ok(receiver.spans.some((r) => r.span.parentSpanId === pass.span.spanId && r.span.name.startsWith('db.query')), "the pass's statements are its children");
    const fired = await eventually(async () => {
      const { rows } = await db.pool.query<{ id: string; traceParent: string | null }>(`SELECT id, trace_parent AS "traceParent" FROM jobplane.jobs WHERE schedule_id = $1 AND trace_parent LIKE $2`, [scheduleId, `%-${fire.span.spanId}-%`]);
      return rows[0] ?? null;
    }, 15_000, 50);
    const tickAttempt = await eventually(() => Promise.resolve(receiver.spans.find((r) => r.span.name === 'job noop' && attr(r.span, 'jobplane.job.id') === fired.id)), 15_000, 50);
    assert.deepEqual(tickAttempt.span.links, [{ traceId: fire.span.traceId, spanId: fire.span.spanId }]);
    // Only a due schedule makes a span: idle scheduler passes (every few hundred ms) export none,
    // so there are no more fire spans than fire times (one more may still be committing).
    const fireSpans = receiver.spans.filter((r) => r.span.name.startsWith('schedule fire')).length;
    const { rows: [runs] } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.schedule_runs WHERE schedule_id = $1`, [scheduleId]);
    assert.ok(fireSpans <= runs!.n + 1, `${fireSpans} fire spans for ${runs!.n} fire times`);

    // A manual trigger's job is submitted by the trigger request.
    const triggerTrace = randomBytes(16).toString('hex');
    const triggered = await fetch(`${jobplane.url}/api/v1/schedules/${scheduleId}/trigger`, { method: 'POST', headers: { authorization: auth.authorization!, traceparent: `00-${triggerTrace}-${randomBytes(8).toString('hex')}-01` } });
    assert.equal(triggered.status, 201, await triggered.clone().text());
    const triggeredJob = ((await triggered.json()) as { jobId: string }).jobId;
    const triggerSpan = await eventually(() => Promise.resolve(receiver.spans.find((r) => r.span.name === 'POST /api/v1/schedules/:id/trigger' && r.span.traceId === triggerTrace)), 15_000, 50);
    const { rows: [triggeredRow] } = await db.pool.query<{ traceParent: string }>(`SELECT trace_parent AS "traceParent" FROM jobplane.jobs WHERE id = $1`, [triggeredJob]);
    assert.equal(triggeredRow?.traceParent, `00-${triggerTrace}-${triggerSpan.span.spanId}-01`);
    await jobplane.stop();
  } finally {
    await new Promise<void>((resolve) => {
      target.close(() => resolve());
      target.closeAllConnections();
    });
    await receiver.close();
  }
});

test('without OTEL_EXPORTER_OTLP_ENDPOINT nothing is exported, and an incoming traceparent is still stored and handed on', async () => {
  const receiver = await startReceiver();
  const received: string[] = [];
  const target = createServer((request, response) => {
    received.push(String(request.headers.traceparent ?? ''));
    response.writeHead(204).end();
  });
  const targetPort = await listen(target);
  try {
    // The variable is empty (as good as unset): no SDK starts, yet the W3C context still travels.
    const jobplane = db.track(await startJobplaneProcess({
      DATABASE_URL: db.url,
      JOBPLANE_ADMIN_PASSWORD: PASSWORD,
      JOBPLANE_POLL_INTERVAL: '200ms',
      JOBPLANE_HTTP_ALLOWED_HOSTS: '127.0.0.1',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    }));
    const auth = await login(jobplane.url);
    const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
    const submitted = await fetch(`${jobplane.url}/api/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, traceparent },
      body: JSON.stringify({ task: 'http', queue: 'untraced', payload: { url: `http://127.0.0.1:${targetPort}/hook` } }),
    });
    assert.equal(submitted.status, 201, await submitted.clone().text());
    const job = (await submitted.json()) as { id: string; traceParent: string | null };
    assert.equal(job.traceParent, traceparent);
    // The batch route stores it too.
    const batch = await fetch(`${jobplane.url}/api/v1/jobs/batch`, { method: 'POST', headers: { ...auth, traceparent }, body: JSON.stringify({ jobs: [{ task: 'noop', queue: 'untraced-batch' }] }) });
    assert.equal(batch.status, 201);
    const batchId = ((await batch.json()) as { jobs: Array<{ id: string }> }).jobs[0]!.id;
    const batchJob = (await (await fetch(`${jobplane.url}/api/v1/jobs/${batchId}`, { headers: auth })).json()) as { traceParent: string | null };
    assert.equal(batchJob.traceParent, traceparent);
    await eventually(() => Promise.resolve(received.length > 0), 15_000, 50);
    assert.deepEqual(received, [traceparent]);
    await jobplane.stop();
    assert.equal(receiver.requests.length, 0);
    assert.ok(!jobplane.output.some((line) => line.includes('OpenTelemetry tracing on')), 'tracing stayed off');
  } finally {
    await new Promise<void>((resolve) => {
      target.close(() => resolve());
      target.closeAllConnections();
    });
    await receiver.close();
  }
});

test('OTLP/HTTP protobuf is the default protocol', async () => {
  const receiver = await startReceiver();
  try {
    const jobplane = db.track(await startJobplaneProcess({
      DATABASE_URL: db.url,
      JOBPLANE_ADMIN_PASSWORD: PASSWORD,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: '',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    }, ['--role', 'api']));
    const auth = await login(jobplane.url);
    const traceId = randomBytes(16).toString('hex');
    const submitted = await fetch(`${jobplane.url}/api/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify({ task: 'noop', queue: 'proto' }),
    });
    assert.equal(submitted.status, 201);
    // The trace id travels as 16 raw bytes in the protobuf message; the server span (named after
    // the route) may come in a later export than the database spans of the same trace.
    const request = await eventually(() => Promise.resolve(receiver.requests.find((r) => r.raw.includes(Buffer.from(traceId, 'hex')) && r.raw.includes(Buffer.from('POST /api/v1/jobs')))), 15_000, 50).catch((error: unknown) => {
      throw new Error(`no export with the trace id: ${receiver.requests.length} requests (${receiver.requests.map((r) => `${r.contentType} ${r.raw.length} B`).join(', ')})\n${jobplane.output.join('\n')}`, { cause: error });
    });
    assert.equal(request.contentType, 'application/x-protobuf');
    await jobplane.stop();
  } finally {
    await receiver.close();
  }
});
