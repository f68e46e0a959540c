import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../src/api/build-app.js';
import { STREAM_QUOTA_RETRY_AFTER_S } from '../../src/api/routes/events.js';
import { createWorker } from '../../src/worker/worker.js';
import { as, testApp, type TOKENS } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';
import { openSse, type SseEvent, type SseStream } from '../helpers/sse.js';
import { deferred, eventually } from '../helpers/wait.js';

// Two API "processes" on one database: each has its own LISTEN connection and resume buffer.
const db = await testDatabase();
const one = await testApp(db);
const two = await testApp(db);
const baseOf = async (app: FastifyInstance): Promise<string> => {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
};
const base1 = await baseOf(one);
const base2 = await baseOf(two);

async function submit(body: Record<string, unknown>, who: 'admin' | 'other' = 'admin', app = one): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: as(who), payload: body });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: string }>().id;
}

type JobData = { jobId: string; status: string; attempt: number; queue: string; tenantId?: string };
const jobData = (e: SseEvent): JobData => e.data as JobData;
const isJob = (id: string, status?: string) => (e: SseEvent): boolean => e.event === 'job' && jobData(e).jobId === id && (status === undefined || jobData(e).status === status);

test('a job’s transitions reach a stream on another API process in order: queued, running, completed', async () => {
  const stream = await openSse(`${base2}/api/v1/events?types=job&queue=sse-order`, as('admin'));
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
  // The worker publishes through its own publisher, as a worker in a third process would.
  const worker = db.track(createWorker({ pool: db.pool, queues: ['sse-order'], pollIntervalMs: 5000, tasks: { 'sse-step': () => ({ ok: true }) } }));
  await worker.start();
  const ids = [await submit({ task: 'sse-step', queue: 'sse-order' }), await submit({ task: 'sse-step', queue: 'sse-order' })];
  for (const id of ids) await stream.next(isJob(id, 'completed'));
  for (const id of ids) {
    const mine = stream.events.filter(isJob(id)).map(jobData);
    assert.deepEqual(mine.map((d) => d.status), ['queued', 'running', 'completed']);
    assert.deepEqual(mine.map((d) => d.attempt), [0, 1, 1]);
    assert.equal(mine[0]!.tenantId, undefined, 'the tenant id is not repeated to the client');
  }
  // A reset frame repeats the last event's id on purpose (a client resuming from it misses
  // nothing); a slow run sees the hub's warm-up reset here.
  const eventIds = stream.events.filter((e) => e.event !== 'reset').map((e) => e.id);
  assert.equal(new Set(eventIds).size, eventIds.length, 'event ids are unique');
  stream.close();
});

test('a job’s own stream starts with its state, then its output hints and changes; other tenants get 404', async () => {
  const latch = deferred();
  const worker = db.track(createWorker({ pool: db.pool, queues: ['sse-one'], outputFlushMs: 20, tasks: {
    'sse-logs': async (_payload, ctx) => {
      ctx.log('working');
      ctx.progress(50);
      await latch.promise;
      return 'done';
    },
  } }));
  const id = await submit({ task: 'sse-logs', queue: 'sse-one' });
  const stream = await openSse(`${base1}/api/v1/jobs/${id}/events`, as('viewer'));
  const first = await stream.next();
  assert.equal(first.event, 'job');
  assert.equal(first.id, null, 'the snapshot carries no id (it cannot be resumed from)');
  assert.equal(jobData(first).status, 'queued');
  await worker.start();
  await stream.next(isJob(id, 'running'));
  await stream.next((e) => e.event === 'job-output' && (e.data as { jobId: string }).jobId === id);
  latch.resolve();
  await stream.next(isJob(id, 'completed'));
  assert.ok(stream.events.every((e) => e.event !== 'job' || jobData(e).jobId === id), 'only this job');
  stream.close();

  const foreign = await fetch(`${base1}/api/v1/jobs/${id}/events`, { headers: as('other') });
  assert.equal(foreign.status, 404);
  assert.equal((await foreign.json() as { code: string }).code, 'JOB_NOT_FOUND');
});

test('a stream shows only its own tenant', async () => {
  const mine = await openSse(`${base1}/api/v1/events?queue=sse-iso`, as('admin'));
  const theirs = await openSse(`${base2}/api/v1/events?queue=sse-iso`, as('other'));
  const a = await submit({ task: 'x', queue: 'sse-iso' });
  const b = await submit({ task: 'x', queue: 'sse-iso' }, 'other');
  await mine.next(isJob(a));
  await theirs.next(isJob(b));
  // Each stream has seen both submissions by now (same notification order everywhere); neither shows the other's job.
  await mine.next(() => true, 200).catch(() => undefined);
  assert.ok(!mine.events.some(isJob(b)));
  assert.ok(!theirs.events.some(isJob(a)));
  mine.close();
  theirs.close();
});

test('Last-Event-ID resumes after the last event seen, on any API process; an unknown id gets a reset', async () => {
  const first = await openSse(`${base1}/api/v1/events?queue=sse-resume`, as('admin'));
  const x = await submit({ task: 'x', queue: 'sse-resume', delayMs: 60_000 });
  const seen = await first.next(isJob(x));
  assert.ok(seen.id);
  first.close();
  const y = await submit({ task: 'x', queue: 'sse-resume', delayMs: 60_000 });
  const z = await submit({ task: 'x', queue: 'sse-resume', delayMs: 60_000 });
  const cancelled = await one.inject({ method: 'POST', url: `/api/v1/jobs/${y}/cancel`, headers: as('admin') });
  assert.equal(cancelled.statusCode, 200);

  // Resumed on the other process: the missed events come first, in order, then live ones.
  const resumed = await openSse(`${base2}/api/v1/events?queue=sse-resume`, { ...as('admin'), 'last-event-id': seen.id });
  await resumed.next(isJob(y, 'cancelled'));
  assert.deepEqual(resumed.events.slice(0, 3).map((e) => [jobData(e).jobId, jobData(e).status]), [[y, 'queued'], [z, 'queued'], [y, 'cancelled']]);
  resumed.close();

  const lost = await openSse(`${base1}/api/v1/events?lastEventId=${encodeURIComponent('gone.12')}`, as('admin'));
  const reset = await lost.next();
  assert.equal(reset.event, 'reset');
  assert.equal((reset.data as { reason: string }).reason, 'resume-unavailable');
  lost.close();
});

test('schedule and queue changes are streamed too, and filters by type work', async () => {
  const stream = await openSse(`${base1}/api/v1/events?types=schedule,queue`, as('admin'));
  const created = await one.inject({ method: 'POST', url: '/api/v1/schedules', headers: as('admin'), payload: { name: 'sse-sched', intervalMs: 3_600_000, task: 'x' } });
  assert.equal(created.statusCode, 201);
  const scheduleId = created.json<{ id: string }>().id;
  await one.inject({ method: 'POST', url: `/api/v1/schedules/${scheduleId}/pause`, headers: as('admin') });
  await one.inject({ method: 'POST', url: '/api/v1/queues/sse-q/pause', headers: as('admin') });
  await stream.next((e) => e.event === 'queue' && (e.data as { queue: string; action: string }).action === 'paused');
  assert.deepEqual(
    stream.events.filter((e) => e.event === 'schedule').map((e) => (e.data as { scheduleId: string; action: string }).action),
    ['created', 'paused'],
  );
  assert.ok(stream.events.every((e) => e.event === 'schedule' || e.event === 'queue'));
  stream.close();
});

test('bad filters are a 400 problem, and a stream needs jobs:read', async () => {
  for (const query of ['types=nope', 'status=done', 'jobId=12', 'unknown=1']) {
    const res = await one.inject({ url: `/api/v1/events?${query}`, headers: as('admin') });
    assert.equal(res.statusCode, 400, query);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  }
  assert.equal((await one.inject({ url: '/api/v1/events' })).statusCode, 401);
});

test('closing the app ends its open streams instead of hanging the shutdown', async () => {
  const three = await testApp(db);
  const stream = await openSse(`${await baseOf(three)}/api/v1/events`, as('admin'));
  await three.close();
  await stream.ended;
});


/**
 * A listening app of its own for the length of `body`, with the streams `body` opens closed
 * however it ends (each app holds a LISTEN connection, and the test pool is small).
 */
async function withStreamApp(overrides: Partial<AppDeps>, body: (open: (who: keyof typeof TOKENS, path?: string) => Promise<SseStream>, base: string) => Promise<void>): Promise<void> {
  const app = await testApp(db, overrides);
  const opened: SseStream[] = [];
  try {
    const base = await baseOf(app);
    await body(async (who, path = '/api/v1/events') => {
      const stream = await openSse(`${base}${path}`, as(who));
      opened.push(stream);
      return stream;
    }, base);
  } finally {
    for (const stream of opened) stream.close();
    const closing = app.close();
    setTimeout(() => app.server.closeAllConnections(), 100).unref();
    await closing;
  }
}

/** A refused stream's status, Retry-After and problem. */
async function refused(base: string, who: keyof typeof TOKENS, path = '/api/v1/events'): Promise<{ status: number; retryAfter: string | null; code: string; detail: string }> {
  const res = await fetch(`${base}${path}`, { headers: { accept: 'text/event-stream', ...as(who) } });
  assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  const problem = await res.json() as { code: string; detail: string };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), code: problem.code, detail: problem.detail };
}

test('one tenant cannot take every live stream: past its share a caller gets 429 STREAM_QUOTA_EXCEEDED with Retry-After, and another tenant still gets one', async () => {
  // SSE_MAX_STREAMS=20 with the default shares: half of them per tenant, 10 per user or key.
  await withStreamApp({ maxEventStreams: 20 }, async (open, base) => {
    for (let i = 0; i < 10; i++) assert.equal((await open('viewer')).status, 200);
    const mine = await refused(base, 'viewer');
    assert.deepEqual([mine.status, mine.code, mine.retryAfter], [429, 'STREAM_QUOTA_EXCEEDED', String(STREAM_QUOTA_RETRY_AFTER_S)]);
    assert.match(mine.detail, /user or key/);
    // Another user of the same tenant finds the tenant's share taken.
    const colleague = await refused(base, 'admin');
    assert.deepEqual([colleague.status, colleague.code], [429, 'STREAM_QUOTA_EXCEEDED']);
    assert.match(colleague.detail, /tenant/);
    // Per-job streams count against the same shares.
    const job = await submit({ task: 'x', queue: 'sse-quota', delayMs: 60_000 });
    assert.equal((await refused(base, 'viewer', `/api/v1/jobs/${job}/events`)).status, 429);
    // Another tenant's admin still gets a stream, and it delivers.
    const foreign = await open('other');
    assert.equal(foreign.status, 200);
    const theirs = await submit({ task: 'x', queue: 'sse-quota' }, 'other');
    await foreign.next(isJob(theirs));
  });
});

test('the process-wide cap still answers 503 TOO_MANY_STREAMS once every tenant is within its share', async () => {
  await withStreamApp({ maxEventStreams: 3, maxEventStreamsPerTenant: 2, maxEventStreamsPerPrincipal: 2 }, async (open, base) => {
    assert.equal((await open('viewer')).status, 200);
    assert.equal((await open('admin')).status, 200);
    assert.equal((await open('other')).status, 200);
    const full = await refused(base, 'other');
    assert.deepEqual([full.status, full.code, full.retryAfter], [503, 'TOO_MANY_STREAMS', null]);
  });
});

test('a stream that ends gives its place back', async () => {
  await withStreamApp({ maxEventStreamsPerPrincipal: 1 }, async (open, base) => {
    const first = await open('viewer');
    assert.equal(first.status, 200);
    assert.equal((await refused(base, 'viewer')).status, 429);
    // The client leaves; once the server has seen the connection close, the place is free again.
    first.close();
    const next = await eventually(async () => {
      const stream = await open('viewer');
      if (stream.status === 200) return stream;
      await stream.ended;
      return null;
    });
    assert.equal(next.status, 200);
  });
});
