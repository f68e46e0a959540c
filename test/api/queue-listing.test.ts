/** Bug 9 of issue 11 §4: pausing a queue with no jobs left a ghost queue listed forever. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { as, testApp } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const app = await testApp(db);
const names = async (): Promise<Array<{ name: string; paused: boolean; concurrencyLimit: number | null; counts: Record<string, number> }>> =>
  (await app.inject({ url: '/api/v1/queues', headers: as('viewer') })).json<{ queues: Array<{ name: string; paused: boolean; concurrencyLimit: number | null; counts: Record<string, number> }> }>().queues;
const act = async (method: 'POST' | 'PUT', path: string, payload?: object) => {
  const res = await app.inject({ method, url: `/api/v1/queues/${path}`, headers: as('admin'), ...(payload ? { payload } : {}) });
  assert.equal(res.statusCode, 200, res.body);
};

test('a paused queue with no jobs is listed as paused with no jobs, and is gone once resumed', async () => {
  await act('POST', 'empty-one/pause');
  assert.deepEqual((await names()).find((q) => q.name === 'empty-one'), { name: 'empty-one', paused: true, concurrencyLimit: null, counts: {}, completedLast5m: 0, failedLast5m: 0 });
  await act('POST', 'empty-one/resume');
  assert.equal((await names()).find((q) => q.name === 'empty-one'), undefined, 'no ghost queue');
});

test('an empty queue keeps being listed while it has a concurrency limit, and a queue with jobs whatever its settings', async () => {
  await act('PUT', 'limited-empty/concurrency', { limit: 3 });
  await act('POST', 'limited-empty/pause');
  await act('POST', 'limited-empty/resume');
  assert.equal((await names()).find((q) => q.name === 'limited-empty')?.concurrencyLimit, 3);
  await act('PUT', 'limited-empty/concurrency', { limit: null });
  assert.equal((await names()).find((q) => q.name === 'limited-empty'), undefined);

  const job = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: { task: 't', queue: 'busy', delayMs: 3_600_000 } });
  assert.equal(job.statusCode, 201, job.body);
  await act('POST', 'busy/pause');
  await act('POST', 'busy/resume');
  const busy = (await names()).find((q) => q.name === 'busy');
  assert.equal(busy?.paused, false);
  assert.equal(Object.values(busy?.counts ?? {}).reduce((a, b) => a + b, 0), 1);
});

test('a settings row left at the defaults by an older version is not listed as a queue', async () => {
  await db.pool.query(`INSERT INTO jobplane.queues (tenant_id, name, paused) VALUES ('00000000-0000-7000-8000-000000000001', 'old-ghost', false)`);
  assert.equal((await names()).find((q) => q.name === 'old-ghost'), undefined);
});
