import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../src/api/build-app.js';
import { addJob } from '../../src/engine/submit.js';
import { createMetrics, observeWorker, type Metrics } from '../../src/server/metrics.js';
import { createWorker } from '../../src/worker/worker.js';
import { testApp } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';
import { waitForEvent } from '../helpers/wait.js';

const db = await testDatabase();
const TOKEN = 'scrape-token-0123456789';

function apiApp(metrics: Metrics, overrides: Partial<AppDeps> = {}): Promise<FastifyInstance> {
  return testApp(db, { metrics, ...overrides });
}

test('/metrics exposes job counts by queue and status, API latency, and the in-process worker’s timings', async () => {
  const metrics = createMetrics(db.pool);
  const app = await apiApp(metrics, { metricsToken: TOKEN });
  await addJob(db.pool, { task: 'waiting', queue: 'metrics-q' });
  const worker = db.track(createWorker({ pool: db.pool, tasks: { quick: () => 'ok' }, queues: ['fast-q'] }));
  observeWorker(metrics, worker);
  await worker.start();
  const job = await addJob(db.pool, { task: 'quick', queue: 'fast-q' });
  await waitForEvent(worker.events, 'job:end', (e: { job: { id: string } }) => e.job.id === job.id);
  await app.inject({ url: '/healthz' });
  const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.statusCode, 200);
  const text = res.body;
  assert.match(text, /jobplane_jobs\{queue="metrics-q",status="queued"\} 1/);
  assert.match(text, /jobplane_job_enqueue_to_start_seconds_count\{queue="fast-q",task="quick"\} 1/);
  assert.match(text, /jobplane_job_run_seconds_count\{queue="fast-q",task="quick",outcome="completed"\} 1/);
  assert.match(text, /jobplane_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/);
  assert.match(text, /jobplane_claimed_jobs_total [1-9]/);
  assert.doesNotMatch(text, /tenant/);
});

test('without a metrics token the api port has no /metrics (404 as for any unknown route), yet still times its requests', async () => {
  const metrics = createMetrics(db.pool);
  const app = await apiApp(metrics);
  await addJob(db.pool, { task: 'secret-queue-name', queue: 'tenant-a-payroll' });
  for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }]) {
    const res = await app.inject({ url: '/metrics', headers });
    assert.equal(res.statusCode, 404);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(res.json<{ code: string }>().code, 'NOT_FOUND');
    assert.doesNotMatch(res.body, /payroll/);
  }
  await app.inject({ url: '/healthz' });
  // The process's operations listener (or a token) serves what is recorded here.
  assert.match(await metrics.registry.metrics(), /jobplane_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/);
});

test('with a metrics token, a scrape without it or with another one is a 401 problem that names no queue', async () => {
  const app = await apiApp(createMetrics(db.pool), { metricsToken: TOKEN });
  await addJob(db.pool, { task: 'secret-queue-name', queue: 'tenant-b-payroll' });
  const cases: Array<[Record<string, string>, string]> = [
    [{}, 'UNAUTHENTICATED'],
    [{ authorization: 'Basic c2NyYXBlOnRva2Vu' }, 'UNAUTHENTICATED'],
    [{ authorization: `Bearer ${TOKEN}x` }, 'TOKEN_INVALID'],
    [{ authorization: `Bearer ${TOKEN.slice(0, -1)}` }, 'TOKEN_INVALID'],
    [{ authorization: 'Bearer admin' }, 'TOKEN_INVALID'],
  ];
  for (const [headers, code] of cases) {
    const res = await app.inject({ url: '/metrics', headers });
    assert.equal(res.statusCode, 401, JSON.stringify(headers));
    assert.equal(res.json<{ code: string }>().code, code, JSON.stringify(headers));
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="metrics"');
    assert.doesNotMatch(res.body, /payroll/);
  }
  const ok = await app.inject({ url: '/metrics', headers: { authorization: `bearer ${TOKEN}` } });
  assert.equal(ok.statusCode, 200);
  assert.match(ok.body, /tenant-b-payroll/);
});
