import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { buildOpsApp } from '../../src/api/build-ops-app.js';
import { silentLogger } from '../../src/core/deps.js';
import { createMetrics } from '../../src/server/metrics.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
let objection: string | null = null;
const app = await buildOpsApp({ pool: db.pool, logger: silentLogger, metrics: createMetrics(db.pool), readiness: () => objection });
after(() => app.close());

test('the operations listener answers probes and serves Prometheus metrics', async () => {
  assert.deepEqual((await app.inject({ url: '/healthz' })).json(), { status: 'ok' });
  const ready = await app.inject({ url: '/readyz' });
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ready.json(), { status: 'ready', pendingMigrations: [] });
  const metrics = await app.inject({ url: '/metrics' });
  assert.equal(metrics.statusCode, 200);
  assert.match(metrics.headers['content-type'] as string, /^text\/plain/);
  assert.match(metrics.body, /^# HELP jobplane_claimed_jobs_total/m);
});

test('a draining process is alive but not ready', async () => {
  objection = 'stopping';
  try {
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    const ready = await app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.deepEqual(ready.json(), { status: 'not-ready', reason: 'stopping' });
  } finally {
    objection = null;
  }
});

test('nothing else is served there: API paths are a 404 problem, not tenant data', async () => {
  for (const url of ['/api/v1/jobs', '/', '/api/v1/openapi.json']) {
    const res = await app.inject({ url });
    assert.equal(res.statusCode, 404, url);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(res.json<{ code: string }>().code, 'NOT_FOUND');
  }
});
