import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { getJob } from '../../src/db/queries/job-admin.js';
import { addJob } from '../../src/engine/submit.js';
import { createMetrics } from '../../src/server/metrics.js';
import { as, testApp } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';
import { eventually } from '../helpers/wait.js';

// A remote worker speaks plain HTTP: everything below goes through fetch against a listening app.
const db = await testDatabase();
// /metrics on the api port needs its token; the long-poll gauge below is read there.
const METRICS_TOKEN = 'remote-workers-metrics-token';
const app = await testApp(db, { metrics: createMetrics(db.pool), metricsToken: METRICS_TOKEN });
// buildApp mounts the remote-worker routes (default lease 30 s).
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

async function createKey(who: 'admin' | 'other', scopes: string[]): Promise<string> {
  const res = await fetch(`${base}/api/v1/keys`, { method: 'POST', headers: { ...as(who), 'content-type': 'application/json' }, body: JSON.stringify({ name: `k-${scopes.join('-')}`, scopes }) });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json() as { key: string }).key;
}

const workerKey = await createKey('admin', ['worker']);
const readKey = await createKey('admin', ['jobs:read']);
const otherWorkerKey = await createKey('other', ['worker']);

interface Answer<T> { status: number; body: T }

async function call<T = Record<string, unknown>>(path: string, body: unknown, key = workerKey, signal?: AbortSignal): Promise<Answer<T>> {
  const res = await fetch(`${base}/api/v1/worker${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

interface ClaimedJob { id: string; task: string; queue: string; payload: unknown; attempt: number; maxAttempts: number; leaseToken: string; timeoutMs: number | null; labels: Record<string, string> | null; createdAt: string; traceParent: string | null }

/** Resolves once `n` long-polls are parked in the server (its /metrics gauge says so). */
async function parked(n: number): Promise<void> {
  const scrape = async (): Promise<string> => (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  await eventually(async () => (await scrape()).includes(`\njobplane_remote_claims_waiting ${n}\n`), 10_000, 10);
}

async function register(tasks: string[], key = workerKey): Promise<string> {
  const res = await call<{ workerId: string; leaseMs: number; heartbeatMs: number }>('/register', { name: 'py-worker', tasks, zone: 'eu-1', labels: { lang: 'python' }, capacity: 4 }, key);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.leaseMs, 30_000);
  assert.equal(res.body.heartbeatMs, 10_000);
  return res.body.workerId;
}

async function claimOne(workerId: string, key = workerKey): Promise<ClaimedJob> {
  const res = await call<{ jobs: ClaimedJob[] }>('/claim', { workerId, max: 1, waitMs: 5000 }, key);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.jobs.length, 1);
  return res.body.jobs[0]!;
}

test('a remote worker registers, long-polls, logs, reports progress and completes over HTTP', async () => {
  const workerId = await register(['remote-echo']);
  const started = Date.now();
  const poll = call<{ jobs: ClaimedJob[] }>('/claim', { workerId, max: 10, waitMs: 20_000 });
  // The submit must wake a parked poll, not be found by one still starting.
  await parked(1);
  const traceParent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const submitted = await addJob(db.pool, { task: 'remote-echo', payload: { n: 21 }, labels: { team: 'a' } }, { tenantId: DEFAULT_TENANT_ID, traceParent });
  const claimed = await poll;
  const elapsed = Date.now() - started;
  assert.equal(claimed.status, 200);
  assert.ok(elapsed < 5000, `the long-poll should return promptly on submit, took ${elapsed} ms`);
  const job = claimed.body.jobs[0]!;
  assert.equal(claimed.body.jobs.length, 1);
  assert.equal(job.id, submitted.id);
  assert.deepEqual(job.payload, { n: 21 });
  assert.equal(job.attempt, 1);
  assert.equal(typeof job.leaseToken, 'string');
  assert.deepEqual(job.labels, { team: 'a' });
  assert.equal(job.traceParent, traceParent, 'the submitting span is handed on');

  const logged = await call<{ accepted: boolean }>(`/jobs/${job.id}/logs`, { leaseToken: job.leaseToken, lines: [{ message: 'starting' }, { level: 'warn', message: 'slow disk', fields: { ms: 12 } }] });
  assert.deepEqual([logged.status, logged.body], [200, { accepted: true }]);
  const progressed = await call<{ accepted: boolean }>(`/jobs/${job.id}/progress`, { leaseToken: job.leaseToken, progress: { done: 1, of: 2 } });
  assert.deepEqual(progressed.body, { accepted: true });
  const beat = await call('/heartbeat', { workerId, jobs: [{ id: job.id, leaseToken: job.leaseToken }] });
  assert.deepEqual(beat.body, { renewed: [job.id], lost: [], cancelled: [] });
  const done = await call(`/jobs/${job.id}/complete`, { leaseToken: job.leaseToken, result: { answer: 42 } });
  assert.deepEqual([done.status, done.body], [200, { accepted: true, status: 'completed' }]);

  const row = await getJob(db.pool, DEFAULT_TENANT_ID, job.id);
  assert.equal(row?.status, 'completed');
  assert.deepEqual(row?.result, { answer: 42 });
  assert.deepEqual(row?.progress, { done: 1, of: 2 });
  assert.equal(row?.workerId, workerId);
  const logs = await app.inject({ url: `/api/v1/jobs/${job.id}/logs`, headers: as('viewer') });
  const lines = logs.json<{ lines: Array<{ level: string; message: string; fields: unknown; attempt: number }> }>().lines;
  assert.deepEqual(lines.map((l) => [l.level, l.message, l.fields, l.attempt]), [['info', 'starting', null, 1], ['warn', 'slow disk', { ms: 12 }, 1]]);

  // Reporting again with the same token is refused: the attempt is over.
  const again = await call(`/jobs/${job.id}/complete`, { leaseToken: job.leaseToken, result: 'twice' });
  assert.deepEqual(again.body, { accepted: false, status: null });

  const stopped = await call('/stop', { workerId });
  assert.equal(stopped.status, 204);
  const gone = await call<{ code: string }>('/claim', { workerId, max: 1, waitMs: 0 });
  assert.deepEqual([gone.status, gone.body.code], [404, 'WORKER_NOT_FOUND']);
});

test('a claim for seven due jobs hands out all seven, although claims run in fixed sizes', async () => {
  const res = await call<{ workerId: string }>('/register', { name: 'batch-worker', tasks: ['seven'], capacity: 7 });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  for (let i = 0; i < 7; i++) await addJob(db.pool, { task: 'seven', queue: 'seven-q', payload: { i } });
  const claimed = await call<{ jobs: ClaimedJob[] }>('/claim', { workerId: res.body.workerId, max: 7, waitMs: 0 });
  assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
  assert.equal(claimed.body.jobs.length, 7);
});

test('an empty long-poll answers no jobs after waitMs; a client that leaves ends the wait', async () => {
  const workerId = await register(['remote-never']);
  const started = Date.now();
  const empty = await call<{ jobs: unknown[] }>('/claim', { workerId, max: 1, waitMs: 1200 });
  assert.deepEqual(empty.body, { jobs: [] });
  assert.ok(Date.now() - started >= 1100);
  const controller = new AbortController();
  const left = call('/claim', { workerId, max: 1, waitMs: 30_000 }, workerKey, controller.signal).catch((e: unknown) => e);
  // The request reached the server and parked; then the client leaves, and the poll is dropped.
  await parked(1);
  controller.abort();
  await parked(0);
  assert.ok((await left) instanceof Error);
  // A job submitted after the client left is not taken by the abandoned poll: the next worker to
  // ask gets it as its first attempt, on the lease token right after the fresh row's (a claim and
  // release by the abandoned poll would have burned one).
  const submitted = await addJob(db.pool, { task: 'remote-never' }, { tenantId: DEFAULT_TENANT_ID });
  const fresh = await getJob(db.pool, DEFAULT_TENANT_ID, submitted.id);
  const next = await claimOne(await register(['remote-never']));
  assert.equal(next.id, submitted.id);
  assert.equal(next.attempt, 1);
  assert.equal(BigInt(next.leaseToken), BigInt(fresh!.leaseToken) + 1n);
});

test("a stale lease token's reports are refused and leave the row unchanged", async () => {
  const workerId = await register(['remote-stale']);
  const submitted = await addJob(db.pool, { task: 'remote-stale' }, { tenantId: DEFAULT_TENANT_ID });
  const job = await claimOne(workerId);
  assert.equal(job.id, submitted.id);
  const stale = String(BigInt(job.leaseToken) - 1n);
  const before = await getJob(db.pool, DEFAULT_TENANT_ID, job.id);
  const refused = await call(`/jobs/${job.id}/complete`, { leaseToken: stale, result: 'late' });
  assert.deepEqual([refused.status, refused.body], [200, { accepted: false, status: null }]);
  const failRefused = await call(`/jobs/${job.id}/fail`, { leaseToken: stale, error: { message: 'late' } });
  assert.deepEqual(failRefused.body, { accepted: false, status: null });
  const logRefused = await call(`/jobs/${job.id}/logs`, { leaseToken: stale, lines: [{ message: 'late' }] });
  assert.deepEqual(logRefused.body, { accepted: false });
  const beat = await call('/heartbeat', { workerId, jobs: [{ id: job.id, leaseToken: stale }] });
  assert.deepEqual(beat.body, { renewed: [], lost: [job.id], cancelled: [] });
  const after = await getJob(db.pool, DEFAULT_TENANT_ID, job.id);
  assert.deepEqual(after, before);
  const ok = await call(`/jobs/${job.id}/complete`, { leaseToken: job.leaseToken, result: null });
  assert.deepEqual(ok.body, { accepted: true, status: 'completed' });
});

test('failures retry with server-side backoff, permanent ones fail, unstorable results are a 400', async () => {
  const workerId = await register(['remote-flaky']);
  const submitted = await addJob(db.pool, { task: 'remote-flaky', maxAttempts: 3, backoff: { type: 'fixed', baseMs: 60_000, jitter: 0 } }, { tenantId: DEFAULT_TENANT_ID });
  const job = await claimOne(workerId);
  const nul = await call(`/jobs/${job.id}/complete`, `{"leaseToken":"${job.leaseToken}","result":{"s":"a\\u0000b"}}`);
  assert.equal(nul.status, 400);
  assert.equal((nul.body as { code: string }).code, 'VALIDATION_FAILED');
  const extra = await call(`/jobs/${job.id}/complete`, { leaseToken: job.leaseToken, result: 1, bogus: true });
  assert.equal(extra.status, 400);
  const retried = await call(`/jobs/${job.id}/fail`, { leaseToken: job.leaseToken, error: { message: 'boom', name: 'IOError' } });
  assert.deepEqual(retried.body, { accepted: true, status: 'queued' });
  const row = await getJob(db.pool, DEFAULT_TENANT_ID, submitted.id);
  const delay = row!.runAt.getTime() - Date.now();
  assert.ok(delay > 50_000 && delay <= 61_000, `backoff from the job's options, got ${delay} ms`);
  assert.deepEqual(row!.errors.map((e) => [e.kind, e.message, e.name, e.attempt, e.workerId]), [['error', 'boom', 'IOError', 1, workerId]]);

  await db.pool.query(`UPDATE jobplane.jobs SET run_at = now() WHERE id = $1`, [submitted.id]);
  const second = await claimOne(workerId);
  assert.equal(second.attempt, 2);
  const permanent = await call(`/jobs/${second.id}/fail`, { leaseToken: second.leaseToken, error: { message: 'bad input', retryable: false } });
  assert.deepEqual(permanent.body, { accepted: true, status: 'failed' });
  assert.equal((await getJob(db.pool, DEFAULT_TENANT_ID, submitted.id))?.errors[1]?.kind, 'permanent');
});

test("a remote worker's error keeps its name and stack: stored, and shown on the job's page", async () => {
  const workerId = await register(['remote-stack']);
  const submitted = await addJob(db.pool, { task: 'remote-stack', maxAttempts: 1 }, { tenantId: DEFAULT_TENANT_ID });
  const job = await claimOne(workerId);
  const stack = 'HTTPError: upstream 503\n    at fetch_thing (thing.py:12)\n    at main (thing.py:40)';
  const failed = await call(`/jobs/${job.id}/fail`, { leaseToken: job.leaseToken, error: { message: 'upstream 503', name: 'HTTPError', stack, retryable: false } });
  assert.deepEqual(failed.body, { accepted: true, status: 'failed' });
  const stored = (await getJob(db.pool, DEFAULT_TENANT_ID, submitted.id))!.errors[0]!;
  assert.deepEqual([stored.kind, stored.message, stored.name, stored.stack], ['permanent', 'upstream 503', 'HTTPError', stack]);
  const shown = await fetch(`${base}/api/v1/jobs/${submitted.id}`, { headers: { 'x-api-key': readKey } });
  assert.equal(shown.status, 200);
  const view = (await shown.json()) as { errors: Array<Record<string, unknown>> };
  assert.equal(view.errors[0]?.name, 'HTTPError');
  assert.equal(view.errors[0]?.stack, stack);
});

test('a cancelled job shows up in the heartbeat and ends cancelled when the worker says so', async () => {
  const workerId = await register(['remote-cancel']);
  await addJob(db.pool, { task: 'remote-cancel' }, { tenantId: DEFAULT_TENANT_ID });
  const job = await claimOne(workerId);
  const cancel = await app.inject({ method: 'POST', url: `/api/v1/jobs/${job.id}/cancel`, headers: as('manager') });
  assert.equal(cancel.statusCode, 200, cancel.body);
  const beat = await call('/heartbeat', { workerId, jobs: [{ id: job.id, leaseToken: job.leaseToken }] });
  assert.deepEqual(beat.body, { renewed: [job.id], lost: [], cancelled: [job.id] });
  const ended = await call(`/jobs/${job.id}/fail`, { leaseToken: job.leaseToken, error: { message: 'stopped on request' }, cancelled: true });
  assert.deepEqual(ended.body, { accepted: true, status: 'cancelled' });
});

test('only worker-scoped keys get in, and a remote worker never touches another tenant', async () => {
  const forbidden = await call<{ code: string }>('/register', { name: 'x', tasks: ['remote-iso'], capacity: 1 }, readKey);
  assert.deepEqual([forbidden.status, forbidden.body.code], [403, 'FORBIDDEN']);
  const anon = await fetch(`${base}/api/v1/worker/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(anon.status, 401);

  const ours = await register(['remote-iso']);
  const theirs = await register(['remote-iso'], otherWorkerKey);
  // A worker id of another tenant is unknown.
  const foreignWorker = await call<{ code: string }>('/claim', { workerId: ours, max: 1, waitMs: 0 }, otherWorkerKey);
  assert.deepEqual([foreignWorker.status, foreignWorker.body.code], [404, 'WORKER_NOT_FOUND']);
  const submitted = await addJob(db.pool, { task: 'remote-iso', payload: { secret: true } }, { tenantId: DEFAULT_TENANT_ID });
  const theirClaim = await call<{ jobs: unknown[] }>('/claim', { workerId: theirs, max: 10, waitMs: 300 }, otherWorkerKey);
  assert.deepEqual(theirClaim.body, { jobs: [] });
  const job = await claimOne(ours);
  assert.equal(job.id, submitted.id);
  for (const [path, body] of [
    [`/jobs/${job.id}/complete`, { leaseToken: job.leaseToken, result: 'stolen' }],
    [`/jobs/${job.id}/fail`, { leaseToken: job.leaseToken, error: { message: 'x', retryable: false } }],
    [`/jobs/${job.id}/logs`, { leaseToken: job.leaseToken, lines: [{ message: 'x' }] }],
  ] as const) {
    const res = await call<{ code: string }>(path, body, otherWorkerKey);
    assert.deepEqual([res.status, res.body.code], [404, 'JOB_NOT_FOUND'], path);
  }
  const beat = await call('/heartbeat', { workerId: theirs, jobs: [{ id: job.id, leaseToken: job.leaseToken }] }, otherWorkerKey);
  assert.deepEqual(beat.body, { renewed: [], lost: [job.id], cancelled: [] });
  const row = await getJob(db.pool, DEFAULT_TENANT_ID, job.id);
  assert.equal(row?.status, 'running');
  assert.equal(row?.result, null);
  assert.equal((await call(`/jobs/${job.id}/complete`, { leaseToken: job.leaseToken, result: 'mine' })).body.status, 'completed');
});

test('bad bodies are 400 problems', async () => {
  const workerId = await register(['remote-bad']);
  for (const body of [{ workerId, max: 0 }, { workerId, max: 1, waitMs: 30_001 }, { workerId: 'nope', max: 1 }, { workerId, max: 1, extra: 1 }]) {
    const res = await call<{ code: string }>('/claim', body);
    assert.deepEqual([res.status, res.body.code], [400, 'VALIDATION_FAILED'], JSON.stringify(body));
  }
  const badName = await call('/register', { name: 'a\u0000b', tasks: ['t'], capacity: 1 });
  assert.equal(badName.status, 400);
});

test('the protocol is in the OpenAPI document', async () => {
  const doc = (await app.inject({ url: '/api/v1/openapi.json' })).json<{ paths: Record<string, unknown> }>();
  for (const path of ['register', 'claim', 'heartbeat', 'jobs/{id}/progress', 'jobs/{id}/logs', 'jobs/{id}/complete', 'jobs/{id}/fail', 'stop']) {
    assert.ok(doc.paths[`/api/v1/worker/${path}`], path);
  }
});
