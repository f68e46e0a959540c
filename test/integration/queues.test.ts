/**
 * Queue settings and placement as the claim queries enforce them: paused queues are not claimed,
 * a queue's concurrency limit holds across workers, and placed jobs go only to their zone/worker.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { readJob } from '../../src/engine/job-service.js';
import { addJob, addJobs } from '../../src/engine/submit.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { placeExplicitJobs } from '../../src/db/queries/maintenance.js';
import { upsertQueueSettings } from '../../src/db/queries/queues.js';
import { createWorker, type Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { testDatabase } from '../helpers/db.js';
import { deferred, eventually } from '../helpers/wait.js';

const db = await testDatabase();
const operator = { tenantId: null };

function worker(options: Omit<WorkerOptions, 'pool'> & { pool?: Pool }): Worker {
  // These tests expire, rescue and place jobs themselves: no maintenance leader may do it for them.
  return db.track(createWorker({ pool: db.pool, pollIntervalMs: 100, maintenance: false, ...options }));
}

async function statuses(queue: string): Promise<Record<string, number>> {
  const { rows } = await db.pool.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM jobplane.jobs WHERE queue = $1 GROUP BY status`,
    [queue],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

test('a paused queue is not claimed, and its jobs run once it is resumed', async () => {
  await upsertQueueSettings(db.pool, DEFAULT_TENANT_ID, 'q-paused', { paused: true });
  const ran: number[] = [];
  const w = worker({ tasks: { work: (p: { n: number }) => void ran.push(p.n) }, queues: ['q-paused', 'q-open'] });
  await addJobs(db.pool, [1, 2, 3].map((n) => ({ task: 'work', queue: 'q-paused', payload: { n } })));
  await addJob(db.pool, { task: 'work', queue: 'q-open', payload: { n: 0 } });

  assert.equal(await w.runOnce(), 1);
  assert.deepEqual(ran, [0]);
  assert.deepEqual(await statuses('q-paused'), { queued: 3 });

  const { before, after } = await upsertQueueSettings(db.pool, DEFAULT_TENANT_ID, 'q-paused', { paused: false });
  assert.equal(before?.paused, true);
  assert.equal(after.paused, false);
  assert.equal(await w.runOnce(), 3);
  assert.deepEqual(ran.sort(), [0, 1, 2, 3]);
  assert.deepEqual(await statuses('q-paused'), { completed: 3 });
});

test('a paused queue is not claimed by a started worker until it is resumed', async () => {
  await upsertQueueSettings(db.pool, DEFAULT_TENANT_ID, 'q-paused-live', { paused: true });
  const w = worker({ tasks: { work: () => 'ok' }, queues: ['q-paused-live', 'q-live-marker'] });
  await w.start();
  const paused = await addJob(db.pool, { task: 'work', queue: 'q-paused-live' });
  // A job in an open queue submitted afterwards runs; the paused one, due earlier, must still wait.
  const marker = await addJob(db.pool, { task: 'work', queue: 'q-live-marker' });
  await eventually(async () => (await readJob(db.pool, operator, marker.id)).status === 'completed');
  assert.equal((await readJob(db.pool, operator, paused.id)).status, 'queued');
  await upsertQueueSettings(db.pool, DEFAULT_TENANT_ID, 'q-paused-live', { paused: false });
  await eventually(async () => (await readJob(db.pool, operator, paused.id)).status === 'completed');
});

test('pausing a queue with a concurrency limit stops claims at once, even from a worker that just listed it', async () => {
  await upsertQueueSettings(db.pool, DEFAULT_TENANT_ID, 'q-limited-pause', { concurrencyLimit: 5 });
  const w = worker({ tasks: { work: () => 'ok' }, queues: ['q-limited-pause'] });
  await addJob(db.pool, { task: 'work', queue: 'q-limited-pause' });
  assert.equal(await w.runOnce(), 1);
  await upsertQueueSettings(db.pool, DEFAULT_TENANT_ID, 'q-limited-pause', { paused: true });
  await addJob(db.pool, { task: 'work', queue: 'q-limited-pause' });
  assert.equal(await w.runOnce(), 0);
  assert.deepEqual(await statuses('q-limited-pause'), { completed: 1, queued: 1 });
});

test('a global concurrency limit of 2 holds across two workers of concurrency 10 while 20 jobs run', async () => {
  const queue = 'q-limit-2';
  await upsertQueueSettings(db.pool, DEFAULT_TENANT_ID, queue, { concurrencyLimit: 2 });
  let running = 0;
  let maxRunning = 0;
  let open = false;
  const waiting: Array<() => void> = [];
  const handler = async (): Promise<string> => {
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    if (!open) {
      const latch = deferred();
      waiting.push(() => latch.resolve());
      await latch.promise;
    }
    running -= 1;
    return 'done';
  };
  // Each worker gets its own pool so its database round trips can be counted.
  const pools = [createPool({ connectionString: db.url, max: 4 }), createPool({ connectionString: db.url, max: 4 })];
  const acquires = [0, 0];
  pools.forEach((p, i) => p.on('acquire', () => (acquires[i] = acquires[i]! + 1)));
  let workers: Worker[] = [];
  try {
    workers = pools.map((pool) =>
      worker({ pool, tasks: { gated: handler }, queues: [queue], concurrency: 10, pollIntervalMs: 30 }),
    );
    await addJobs(db.pool, Array.from({ length: 20 }, (_, n) => ({ task: 'gated', queue, payload: { n } })));
    await Promise.all(workers.map((w) => w.start()));

    let released = 0;
    while (released < 20) {
      const expected = Math.min(2, 20 - released);
      await eventually(() => Promise.resolve(waiting.length >= expected));
      // While both slots are taken, let each worker try to claim several more times.
      const seen = [...acquires];
      await eventually(() => Promise.resolve(acquires.every((n, i) => n >= seen[i]! + 6)));
      const { rows } = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM jobplane.jobs WHERE queue = $1 AND status = 'running'`,
        [queue],
      );
      assert.ok(rows[0]!.n <= 2, `${rows[0]!.n} jobs running in a queue limited to 2`);
      assert.equal(waiting.length, expected, `${waiting.length} handlers started with ${expected} slots`);
      for (const release of waiting.splice(0)) release();
      released += expected;
    }
    await eventually(async () => (await statuses(queue)).completed === 20, 20_000);
    assert.ok(maxRunning <= 2, `${maxRunning} handlers ran at once`);
    assert.equal(maxRunning, 2);
  } finally {
    // Unblock everything before stopping, so a failed assertion cannot leave the pools busy.
    open = true;
    for (const release of waiting.splice(0)) release();
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(pools.map((p) => p.end()));
  }
});

test('a job placed on zone eu is not claimed in zone us, waits queued until placed, then runs in eu', async () => {
  const ranIn: string[] = [];
  const us = worker({ zone: 'us', tasks: { zoned: () => void ranIn.push('us') }, queues: ['q-zone'] });
  const eu = worker({ zone: 'eu', tasks: { zoned: () => void ranIn.push('eu') }, queues: ['q-zone'] });
  const job = await addJob(db.pool, { task: 'zoned', queue: 'q-zone', placement: { zone: 'eu' } });

  assert.equal(await us.runOnce(), 0);
  assert.equal(await eu.runOnce(), 0, 'an unplaced job was claimed before placement');
  let row = await readJob(db.pool, operator, job.id);
  assert.equal(row.status, 'queued');
  assert.equal(row.placement, 'zone');
  assert.equal(row.placementZone, 'eu');

  assert.ok((await placeExplicitJobs(db.pool, 100)).some((c) => c.id === job.id && c.status === 'scheduled'));
  row = await readJob(db.pool, operator, job.id);
  assert.equal(row.status, 'scheduled');
  assert.equal(row.assignedZone, 'eu');

  assert.equal(await us.runOnce(), 0);
  assert.equal(await eu.runOnce(), 1);
  assert.deepEqual(ranIn, ['eu']);
  row = await readJob(db.pool, operator, job.id);
  assert.equal(row.status, 'completed');
  assert.equal(row.workerId, eu.id);
});

test('a job placed on one worker is claimed only by that worker', async () => {
  const ranOn: string[] = [];
  const one = worker({ zone: 'eu', tasks: { pinned: () => void ranOn.push('one') }, queues: ['q-pinned'] });
  const two = worker({ zone: 'eu', tasks: { pinned: () => void ranOn.push('two') }, queues: ['q-pinned'] });
  const job = await addJob(db.pool, { task: 'pinned', queue: 'q-pinned', placement: { workerId: two.id } });
  assert.ok((await placeExplicitJobs(db.pool, 100)).some((c) => c.id === job.id && c.status === 'scheduled'));
  const row = await readJob(db.pool, operator, job.id);
  assert.equal(row.status, 'scheduled');
  assert.equal(row.assignedWorker, two.id);
  assert.equal(await one.runOnce(), 0);
  assert.equal(await two.runOnce(), 1);
  assert.deepEqual(ranOn, ['two']);
});
