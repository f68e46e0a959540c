/**
 * The job service's operations on real rows: retry, reschedule, cancel, search with cursor
 * pagination, id validation and tenant scoping.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import {
  cancelJob,
  readJob,
  readJobLogs,
  rescheduleJob,
  retryJob,
  searchJobs,
  type Actor,
} from '../../src/engine/job-service.js';
import { addJob, addJobs } from '../../src/engine/submit.js';
import { AppError, type ErrorCode } from '../../src/errors/index.js';
import { uuidv7 } from '../../src/db/ids.js';
import { createWorker, type Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { testDatabase } from '../helpers/db.js';
import { deferred, eventually } from '../helpers/wait.js';

const db = await testDatabase();
const operator: Actor = { tenantId: null };
const tenant: Actor = { tenantId: DEFAULT_TENANT_ID, name: 'alice' };
const fast = { backoff: { baseMs: 0, jitter: 0 } };

const otherTenantId = uuidv7();
await db.pool.query(`INSERT INTO jobplane.tenants (id, slug, name) VALUES ($1, 'other', 'Other')`, [otherTenantId]);
const otherTenant: Actor = { tenantId: otherTenantId };

function worker(options: Omit<WorkerOptions, 'pool'>): Worker {
  return db.track(createWorker({ pool: db.pool, pollIntervalMs: 100, ...options }));
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, pointer?: string): Promise<void> {
  let caught: unknown = null;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof AppError, `expected AppError ${code}, got ${caught === null ? 'success' : caught instanceof Error ? `${caught.name}: ${caught.message}` : typeof caught}`);
  assert.equal(caught.code, code, caught.message);
  if (pointer !== undefined) assert.equal(caught.errors[0]?.pointer, pointer);
}

test('retrying a failed job starts a fresh run of attempts, keeps the error history and completes', async () => {
  let calls = 0;
  const w = worker({
    tasks: {
      fragile: () => {
        calls += 1;
        if (calls <= 3) throw new Error(`failure ${calls}`);
        return { calls };
      },
    },
    queues: ['q-retry'],
  });
  const job = await addJob(db.pool, { task: 'fragile', queue: 'q-retry', maxAttempts: 2, ...fast });
  await w.runOnce();
  await w.runOnce();
  const failed = await readJob(db.pool, operator, job.id);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.attempt, 2);
  assert.equal(failed.errors.length, 2);

  const change = await retryJob(db.pool, tenant, job.id);
  assert.equal(change.before.status, 'failed');
  assert.equal(change.after.status, 'queued');
  assert.equal(change.after.attemptBase, 2);
  assert.equal(change.after.attempt, 2);
  assert.equal(change.after.finishedAt, null);
  assert.equal(change.after.errors.length, 2);

  // The new run has its own two attempts: the third failure overall retries instead of failing.
  await w.runOnce();
  const retrying = await readJob(db.pool, operator, job.id);
  assert.equal(retrying.status, 'queued');
  assert.equal(retrying.attempt, 3);
  await w.runOnce();
  const done = await readJob(db.pool, operator, job.id);
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.result, { calls: 4 });
  assert.equal(done.attempt, 4);
  assert.deepEqual(done.errors.map((e) => [e.attempt, e.message]), [[1, 'failure 1'], [2, 'failure 2'], [3, 'failure 3']]);
});

test('retrying a cancelled job queues it again; retry with runAt delays it', async () => {
  const job = await addJob(db.pool, { task: 'noop', queue: 'q-retry-cancelled' });
  await cancelJob(db.pool, tenant, job.id);
  const runAt = new Date(Date.now() + 3_600_000);
  const { after } = await retryJob(db.pool, tenant, job.id, { runAt: runAt.toISOString() });
  assert.equal(after.status, 'queued');
  assert.equal(after.runAt.getTime(), runAt.getTime());
  assert.equal(after.errors.length, 1);
  assert.equal(after.errors[0]!.kind, 'cancelled');
});

test('retrying a completed or queued job is refused with JOB_NOT_RETRYABLE', async () => {
  const w = worker({ tasks: { ok: () => 'ok' }, queues: ['q-retry-no'] });
  const completed = await addJob(db.pool, { task: 'ok', queue: 'q-retry-no' });
  assert.equal(await w.runOnce(), 1);
  await rejectsWith(retryJob(db.pool, tenant, completed.id), 'JOB_NOT_RETRYABLE');
  assert.equal((await readJob(db.pool, operator, completed.id)).status, 'completed');
  const queued = await addJob(db.pool, { task: 'ok', queue: 'q-retry-no', delayMs: 3_600_000 });
  await rejectsWith(retryJob(db.pool, tenant, queued.id), 'JOB_NOT_RETRYABLE');
  await rejectsWith(retryJob(db.pool, tenant, queued.id, { runAt: 'tomorrow' }), 'VALIDATION_FAILED', '/runAt');
});

test('rescheduling a queued job changes its due time and priority', async () => {
  const job = await addJob(db.pool, { task: 'noop', queue: 'q-resched', delayMs: 3_600_000, priority: 1 });
  const runAt = '2030-01-02T03:04:05.000Z';
  const { before, after } = await rescheduleJob(db.pool, tenant, job.id, { runAt, priority: 7 });
  assert.equal(before.priority, 1);
  assert.equal(after.status, 'queued');
  assert.equal(after.runAt.toISOString(), runAt);
  assert.equal(after.priority, 7);
  const onlyPriority = await rescheduleJob(db.pool, tenant, job.id, { priority: -3 });
  assert.equal(onlyPriority.after.runAt.toISOString(), runAt);
  assert.equal(onlyPriority.after.priority, -3);
  await rejectsWith(rescheduleJob(db.pool, tenant, job.id, { priority: 1.5 }), 'VALIDATION_FAILED', '/priority');
  await rejectsWith(rescheduleJob(db.pool, tenant, job.id, { priority: 5000 }), 'VALIDATION_FAILED', '/priority');
  await rejectsWith(rescheduleJob(db.pool, tenant, job.id, { runAt: '2026-02-30T00:00:00Z' }), 'VALIDATION_FAILED', '/runAt');
  await rejectsWith(rescheduleJob(db.pool, tenant, job.id, {}), 'VALIDATION_FAILED');
  const row = await readJob(db.pool, operator, job.id);
  assert.equal(row.priority, -3);
});

test('rescheduling with an impossible UTC offset (+24:00) is a VALIDATION_FAILED', async () => {
  const job = await addJob(db.pool, { task: 'noop', queue: 'q-resched-offset', delayMs: 3_600_000 });
  await rejectsWith(rescheduleJob(db.pool, tenant, job.id, { runAt: '2030-01-01T00:00:00+24:00' }), 'VALIDATION_FAILED', '/runAt');
});

test('rescheduling a running job is refused with JOB_NOT_RESCHEDULABLE, and cancelling it twice is idempotent', async () => {
  const started = deferred();
  const letGo = deferred();
  let aborts = 0;
  const w = worker({
    tasks: {
      hold: async (_p, ctx) => {
        ctx.signal.addEventListener('abort', () => (aborts += 1));
        started.resolve();
        await letGo.promise;
        throw ctx.signal.reason as Error;
      },
    },
    queues: ['q-resched-running'],
    cancelGraceMs: 60_000,
  });
  await w.start();
  const job = await addJob(db.pool, { task: 'hold', queue: 'q-resched-running' });
  await started.promise;
  await rejectsWith(rescheduleJob(db.pool, tenant, job.id, { priority: 5 }), 'JOB_NOT_RESCHEDULABLE');
  await rejectsWith(rescheduleJob(db.pool, tenant, job.id, { runAt: '2030-01-01T00:00:00Z' }), 'JOB_NOT_RESCHEDULABLE');

  const first = await cancelJob(db.pool, tenant, job.id);
  assert.equal(first.after.status, 'running');
  assert.ok(first.after.cancelRequestedAt);
  const second = await cancelJob(db.pool, tenant, job.id);
  assert.equal(second.after.status, 'running');
  // A repeated request keeps the first request time, so the grace period is not restarted.
  assert.deepEqual(second.after.cancelRequestedAt, first.after.cancelRequestedAt);

  await eventually(() => Promise.resolve(aborts > 0));
  letGo.resolve();
  const row = await eventually(async () => {
    const r = await readJob(db.pool, operator, job.id);
    return r.status === 'cancelled' ? r : null;
  });
  assert.equal(aborts, 1);
  const third = await cancelJob(db.pool, tenant, job.id);
  assert.equal(third.after.status, 'cancelled');
  assert.equal(row.errors.length, 1);
  assert.equal((await readJob(db.pool, operator, job.id)).errors.length, 1);
});

test('cancelling a queued job twice is idempotent: the second call changes nothing', async () => {
  const job = await addJob(db.pool, { task: 'noop', queue: 'q-cancel-twice', delayMs: 3_600_000 });
  const first = await cancelJob(db.pool, tenant, job.id);
  assert.equal(first.after.status, 'cancelled');
  const second = await cancelJob(db.pool, tenant, job.id);
  assert.equal(second.before.status, 'cancelled');
  assert.deepEqual(second.after, first.after);
  const row = await readJob(db.pool, operator, job.id);
  assert.equal(row.errors.length, 1);
  assert.deepEqual(row.finishedAt, first.after.finishedAt);
});

test('cancelling a completed or failed job is refused with JOB_NOT_CANCELLABLE', async () => {
  const w = worker({
    tasks: {
      ok: () => 'ok',
      bad: () => {
        throw new Error('bad');
      },
    },
    queues: ['q-cancel-done'],
  });
  const completed = await addJob(db.pool, { task: 'ok', queue: 'q-cancel-done' });
  const failed = await addJob(db.pool, { task: 'bad', queue: 'q-cancel-done', maxAttempts: 1 });
  assert.equal(await w.runOnce(), 2);
  await rejectsWith(cancelJob(db.pool, tenant, completed.id), 'JOB_NOT_CANCELLABLE');
  await rejectsWith(cancelJob(db.pool, tenant, failed.id), 'JOB_NOT_CANCELLABLE');
  assert.equal((await readJob(db.pool, operator, completed.id)).status, 'completed');
  assert.equal((await readJob(db.pool, operator, failed.id)).status, 'failed');
});

test('searchJobs filters by comma-separated statuses and rejects an unknown status', async () => {
  const queue = 'q-search-status';
  const w = worker({ tasks: { ok: () => 'ok' }, queues: [queue] });
  const done = await addJob(db.pool, { task: 'ok', queue });
  assert.equal(await w.runOnce(), 1);
  const waiting = await addJob(db.pool, { task: 'ok', queue, delayMs: 3_600_000 });
  const gone = await addJob(db.pool, { task: 'ok', queue, delayMs: 3_600_000 });
  await cancelJob(db.pool, tenant, gone.id);

  const ids = async (status: string | string[]) =>
    (await searchJobs(db.pool, tenant, { queue, status })).jobs.map((j) => j.id).sort();
  assert.deepEqual(await ids('queued,cancelled'), [waiting.id, gone.id].sort());
  assert.deepEqual(await ids(' completed , queued '), [done.id, waiting.id].sort());
  assert.deepEqual(await ids(['completed', 'cancelled']), [done.id, gone.id].sort());
  assert.deepEqual(await ids('running'), []);
  const all = await searchJobs(db.pool, tenant, { queue });
  assert.equal(all.jobs.length, 3);

  await rejectsWith(searchJobs(db.pool, tenant, { queue, status: 'bogus' }), 'VALIDATION_FAILED', '/status');
  await rejectsWith(searchJobs(db.pool, tenant, { queue, status: 'queued,bogus' }), 'VALIDATION_FAILED', '/status');
  await rejectsWith(searchJobs(db.pool, tenant, { queue, limit: 0 }), 'VALIDATION_FAILED', '/limit');
  await rejectsWith(searchJobs(db.pool, tenant, { queue, cursor: 'not-a-uuid' }), 'VALIDATION_FAILED');
});

test('searchJobs pages through 120 jobs with nextCursor, newest first, without repeats or gaps', async () => {
  const queue = 'q-search-pages';
  const created = await addJobs(db.pool, Array.from({ length: 120 }, (_, n) => ({ task: 'noop', queue, payload: { n } })));
  for (const limit of [25, 24, 7]) {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await searchJobs(db.pool, tenant, { queue, limit, ...(cursor === undefined ? {} : { cursor }) });
      pages += 1;
      assert.ok(page.jobs.length <= limit);
      seen.push(...page.jobs.map((j) => j.id));
      if (page.nextCursor === null) break;
      assert.equal(page.jobs.length, limit);
      assert.equal(page.nextCursor, page.jobs.at(-1)!.id);
      cursor = page.nextCursor;
      assert.ok(pages < 50, 'pagination does not end');
    }
    assert.equal(pages, Math.ceil(120 / limit), `limit ${limit}`);
    assert.equal(new Set(seen).size, 120, `limit ${limit}: repeats`);
    assert.deepEqual([...seen].sort(), created.map((c) => c.id).sort(), `limit ${limit}: gaps`);
    assert.deepEqual(seen, [...seen].sort().reverse(), `limit ${limit}: not newest first`);
  }
});

test('ids that are not UUIDs are rejected with VALIDATION_FAILED before any SQL', async () => {
  for (const id of ['not-a-uuid', '../../etc/passwd', '', '1', `${uuidv7()}x`, '{' + uuidv7() + '}', 'x'.repeat(10_000)]) {
    await rejectsWith(readJob(db.pool, tenant, id), 'VALIDATION_FAILED', '/id');
    await rejectsWith(cancelJob(db.pool, tenant, id), 'VALIDATION_FAILED', '/id');
    await rejectsWith(retryJob(db.pool, tenant, id), 'VALIDATION_FAILED', '/id');
    await rejectsWith(rescheduleJob(db.pool, tenant, id, { priority: 1 }), 'VALIDATION_FAILED', '/id');
    await rejectsWith(readJobLogs(db.pool, tenant, id), 'VALIDATION_FAILED', '/id');
  }
});

test('an unknown UUID is JOB_NOT_FOUND, and an upper-case UUID finds the job', async () => {
  for (const id of [uuidv7(), '00000000-0000-0000-0000-000000000000']) {
    await rejectsWith(readJob(db.pool, tenant, id), 'JOB_NOT_FOUND');
    await rejectsWith(cancelJob(db.pool, tenant, id), 'JOB_NOT_FOUND');
    await rejectsWith(retryJob(db.pool, tenant, id), 'JOB_NOT_FOUND');
    await rejectsWith(rescheduleJob(db.pool, tenant, id, { priority: 1 }), 'JOB_NOT_FOUND');
  }
  const job = await addJob(db.pool, { task: 'noop', queue: 'q-upper' });
  assert.equal((await readJob(db.pool, tenant, job.id.toUpperCase())).id, job.id);
});

test("another tenant's job is JOB_NOT_FOUND for every operation and absent from search", async () => {
  const theirs = await addJob(db.pool, { task: 'noop', queue: 'q-tenant', delayMs: 3_600_000 }, { tenantId: otherTenantId });
  const mine = await addJob(db.pool, { task: 'noop', queue: 'q-tenant', delayMs: 3_600_000 });
  await rejectsWith(readJob(db.pool, tenant, theirs.id), 'JOB_NOT_FOUND');
  await rejectsWith(cancelJob(db.pool, tenant, theirs.id), 'JOB_NOT_FOUND');
  await rejectsWith(retryJob(db.pool, tenant, theirs.id), 'JOB_NOT_FOUND');
  await rejectsWith(rescheduleJob(db.pool, tenant, theirs.id, { priority: 9 }), 'JOB_NOT_FOUND');
  await rejectsWith(readJobLogs(db.pool, tenant, theirs.id), 'JOB_NOT_FOUND');
  await rejectsWith(readJob(db.pool, otherTenant, mine.id), 'JOB_NOT_FOUND');

  const row = await readJob(db.pool, otherTenant, theirs.id);
  assert.equal(row.status, 'queued');
  assert.equal(row.priority, 0);
  assert.deepEqual((await searchJobs(db.pool, tenant, { queue: 'q-tenant' })).jobs.map((j) => j.id), [mine.id]);
  assert.deepEqual((await searchJobs(db.pool, otherTenant, { queue: 'q-tenant' })).jobs.map((j) => j.id), [theirs.id]);
  assert.equal((await searchJobs(db.pool, operator, { queue: 'q-tenant' })).jobs.length, 2);
});
