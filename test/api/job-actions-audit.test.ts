/**
 * A job action repeated when it has nothing left to change (cancel a cancelled job, cancel a
 * running job whose cancel is already requested, reschedule to the same time and priority) is
 * answered like the first one but writes no second audit entry.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claimJobs } from '../../src/db/queries/jobs.js';
import { as, testApp } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const app = await testApp(db);

interface Entry {
  action: string;
  targetId: string | null;
}

/** The audit entries (newest first) about job `id` with `action`. */
async function entries(id: string, action: string): Promise<Entry[]> {
  const res = await app.inject({ url: `/api/v1/audit?limit=500`, headers: as('admin') });
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ entries: Entry[] }>().entries.filter((e) => e.targetId === id && e.action === action);
}

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: body });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: string }>().id;
}

test('cancelling an already cancelled job answers 200 with the job again but writes one job.cancel audit entry, not two', async () => {
  const id = await submit({ task: 'noop-audit', delayMs: 60_000 });
  const first = await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers: as('manager') });
  const second = await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers: as('manager') });
  assert.equal(first.statusCode, 200);
  assert.equal(second.statusCode, 200);
  assert.equal(second.json<{ status: string }>().status, 'cancelled');
  assert.deepEqual(second.json(), first.json());
  assert.equal((await entries(id, 'job.cancel')).length, 1);
});

test('cancelling a running job twice writes one job.cancel audit entry; the second answer still shows the cancel requested', async () => {
  const id = await submit({ task: 'running-audit', queue: 'running-audit-q' });
  const [claimed] = await claimJobs(db.pool, { workerId: 'audit-test-worker', tasks: ['running-audit'], queues: ['running-audit-q'], tenantId: null, zone: null }, 1, 60_000);
  assert.equal(claimed?.id, id);
  const first = await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers: as('manager') });
  const second = await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers: as('manager') });
  assert.equal(first.statusCode, 200);
  assert.equal(second.statusCode, 200);
  const job = second.json<{ status: string; cancelRequestedAt: string | null }>();
  assert.equal(job.status, 'running');
  assert.equal(job.cancelRequestedAt, first.json<{ cancelRequestedAt: string | null }>().cancelRequestedAt);
  assert.equal((await entries(id, 'job.cancel')).length, 1);
});

test('rescheduling a job to the time and priority it already has writes no second job.reschedule audit entry', async () => {
  const id = await submit({ task: 'reschedule-audit', delayMs: 60_000 });
  const change = { runAt: new Date(Date.now() + 3_600_000).toISOString(), priority: 7 };
  const first = await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/reschedule`, headers: as('manager'), payload: change });
  const second = await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/reschedule`, headers: as('manager'), payload: change });
  assert.equal(first.statusCode, 200);
  assert.equal(second.statusCode, 200);
  assert.equal((await entries(id, 'job.reschedule')).length, 1);
  const third = await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/reschedule`, headers: as('manager'), payload: { priority: 8 } });
  assert.equal(third.statusCode, 200);
  assert.equal((await entries(id, 'job.reschedule')).length, 2, 'a real change is audited');
});

test('retrying a job twice audits the retry once: the second is refused with 409 JOB_NOT_RETRYABLE', async () => {
  const id = await submit({ task: 'retry-audit', delayMs: 60_000 });
  await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers: as('manager') });
  const first = await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/retry`, headers: as('manager') });
  const second = await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/retry`, headers: as('manager') });
  assert.equal(first.statusCode, 200);
  assert.equal(second.statusCode, 409);
  assert.equal(second.json<{ code: string }>().code, 'JOB_NOT_RETRYABLE');
  assert.equal((await entries(id, 'job.retry')).length, 1);
});
