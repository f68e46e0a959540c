/**
 * Graceful shutdown (docs/decisions.md #8) and cancellation of handlers that do not stop: jobs a stopping worker
 * cannot finish go back to the queue without burning an attempt, and a cancel is enforced after
 * its grace period by the worker and by the lease revoker.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addJob, addJobs } from '../../src/engine/submit.js';
import { cancelJob, readJob } from '../../src/engine/job-service.js';
import { claimJobs, recordReports } from '../../src/db/queries/jobs.js';
import type { JobRow } from '../../src/db/queries/job-rows.js';
import { revokeOverdueCancels } from '../../src/db/queries/maintenance.js';
import type { JobContext } from '../../src/worker/types.js';
import { createWorker, type Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { testDatabase } from '../helpers/db.js';
import { deferred, eventually, waitForEvent } from '../helpers/wait.js';

const db = await testDatabase();

/** The payload of a worker's `job:end` event, as far as these tests read it. */
interface JobEnd {
  job: { id: string };
  outcome: string;
  status: string | null;
}
const operator = { tenantId: null };

function worker(options: Omit<WorkerOptions, 'pool'>): Worker {
  return db.track(createWorker({ pool: db.pool, pollIntervalMs: 100, ...options }));
}

async function jobsOf(queue: string): Promise<JobRow[]> {
  const { rows } = await db.pool.query<{ id: string }>(`SELECT id FROM jobplane.jobs WHERE queue = $1 ORDER BY id`, [queue]);
  return Promise.all(rows.map((r) => readJob(db.pool, operator, r.id)));
}

/** Records which jobs started and why their signals fired. */
function recorder() {
  const started: string[] = [];
  const aborted = new Map<string, string>();
  /** Takes 5 s unless its signal fires; honours the signal. */
  const slow = (_p: unknown, ctx: JobContext): Promise<string> =>
    new Promise((resolve, reject) => {
      started.push(ctx.job.id);
      const timer = setTimeout(() => resolve('slow done'), 5000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        aborted.set(ctx.job.id, (ctx.signal.reason as { reason: string }).reason);
        reject(ctx.signal.reason as Error);
      });
    });
  return { started, aborted, slow };
}

test('stop() puts buffered and running jobs back to queued without burning an attempt and leaves none running', async () => {
  const queue = 'q-stop';
  const { started, aborted, slow } = recorder();
  const w = worker({ tasks: { slow }, queues: [queue], concurrency: 4, prefetch: 4, shutdownGraceMs: 300 });
  const runningJobs = await addJobs(db.pool, Array.from({ length: 4 }, () => ({ task: 'slow', queue })));
  await w.start();
  await eventually(() => Promise.resolve(started.length === 4));
  const bufferedJobs = await addJobs(db.pool, Array.from({ length: 4 }, () => ({ task: 'slow', queue })));
  await eventually(() => Promise.resolve(w.load.buffered === 4));
  assert.equal((await jobsOf(queue)).filter((j) => j.status === 'running').length, 8);

  await w.stop();

  assert.deepEqual(started.sort(), runningJobs.map((j) => j.id).sort());
  assert.deepEqual([...aborted.values()], ['shutdown', 'shutdown', 'shutdown', 'shutdown']);
  const rows = await jobsOf(queue);
  assert.equal(rows.length, 8);
  for (const row of rows) {
    const kind = bufferedJobs.some((b) => b.id === row.id) ? 'buffered' : 'running';
    assert.equal(row.status, 'queued', `${kind} job ${row.id} is ${row.status}`);
    assert.equal(row.attempt, 0, `${kind} job ${row.id} burned an attempt`);
    assert.equal(row.leaseExpiresAt, null);
    assert.equal(row.leaseToken, '2', 'the release must bump the lease token past the claim');
    assert.deepEqual(row.errors, []);
  }

  // The released jobs run normally afterwards, as their first attempt.
  const next = worker({ tasks: { slow: () => 'ran later' }, queues: [queue], concurrency: 8 });
  assert.equal(await next.runOnce(), 8);
  assert.ok((await jobsOf(queue)).every((j) => j.status === 'completed' && j.attempt === 1));
});

test('a claim still in flight when stop() begins has its jobs released before the worker closes its pool', async () => {
  const queue = 'q-claim-in-flight';
  const w = db.track(createWorker({ databaseUrl: db.url, tasks: { slow: () => new Promise(() => undefined) }, queues: [queue], concurrency: 1, pollIntervalMs: 50, maintenance: false }));
  await w.start();
  // Hold the jobs table: the job exists only once this commits, and every claim until then waits.
  const holder = await db.pool.connect();
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    await holder.query('COMMIT');
    holder.release();
  };
  try {
    await holder.query('BEGIN');
    const job = await addJob(holder, { task: 'slow', queue });
    await holder.query('LOCK TABLE jobplane.jobs IN ACCESS EXCLUSIVE MODE');
    await eventually(async () => {
      const { rows } = await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'jobplane-worker' AND wait_event_type = 'Lock'`);
      return rows.length > 0;
    });
    const stopping = w.stop();
    // Let the claim through once the worker has marked itself stopped (the last step before its pool
    // closes: too late for a worker that does not wait for its claim), or after a second, which a
    // worker that waits needs since it cannot get there first.
    const fallback = setTimeout(() => void release(), 1000);
    await Promise.race([
      stopping,
      eventually(async () => (await db.pool.query(`SELECT 1 FROM jobplane.workers WHERE id = $1 AND stopped_at IS NOT NULL`, [w.id])).rows.length > 0).then(release),
    ]);
    await release();
    clearTimeout(fallback);
    await stopping;
    const row = await eventually(async () => {
      const found = await readJob(db.pool, operator, job.id);
      return found.status !== 'running' && found.leaseToken !== '0' ? found : null;
    });
    assert.equal(row.status, 'queued', 'the claimed job went back to the queue');
    assert.equal(row.attempt, 0, 'without burning an attempt');
    assert.equal(row.leaseExpiresAt, null);
  } finally {
    await release();
  }
});

test('a job that finishes within the shutdown grace completes normally while the others are released', async () => {
  const queue = 'q-stop-grace';
  const { started, aborted, slow } = recorder();
  const latch = deferred();
  const quickStarted = deferred();
  const w = worker({
    tasks: {
      slow,
      quick: async () => {
        quickStarted.resolve();
        await latch.promise;
        return { finished: 'within grace' };
      },
    },
    queues: [queue],
    concurrency: 2,
    shutdownGraceMs: 500,
  });
  const quick = await addJob(db.pool, { task: 'quick', queue });
  const long = await addJob(db.pool, { task: 'slow', queue });
  await w.start();
  await quickStarted.promise;
  await eventually(() => Promise.resolve(started.length === 1));

  const stopping = w.stop();
  latch.resolve();
  await stopping;

  const q = await readJob(db.pool, operator, quick.id);
  assert.equal(q.status, 'completed');
  assert.deepEqual(q.result, { finished: 'within grace' });
  assert.equal(q.attempt, 1);
  const l = await readJob(db.pool, operator, long.id);
  assert.equal(l.status, 'queued');
  assert.equal(l.attempt, 0);
  assert.equal(aborted.get(long.id), 'shutdown');
  assert.equal((await jobsOf(queue)).filter((j) => j.status === 'running').length, 0);
});

test('a stopping worker does not start its prefetched jobs when a slot frees up', async () => {
  const queue = 'q-stop-prefetch';
  const { started, slow } = recorder();
  const latch = deferred();
  const quickStarted = deferred();
  const w = worker({
    tasks: {
      slow,
      quick: async () => {
        quickStarted.resolve();
        await latch.promise;
        return 'ok';
      },
    },
    queues: [queue],
    concurrency: 1,
    prefetch: 2,
    shutdownGraceMs: 300,
  });
  const quick = await addJob(db.pool, { task: 'quick', queue });
  await w.start();
  await quickStarted.promise;
  const buffered = await addJobs(db.pool, [{ task: 'slow', queue }, { task: 'slow', queue }]);
  await eventually(() => Promise.resolve(w.load.buffered === 2));

  const startedAfterStop: string[] = [];
  w.events.on('job:start', (info) => startedAfterStop.push(info.id));
  const stopping = w.stop();
  // The running job finishes right after stop() was called: its slot frees up while stopping.
  latch.resolve();
  await stopping;

  assert.equal((await readJob(db.pool, operator, quick.id)).status, 'completed');
  for (const job of buffered) {
    const row = await readJob(db.pool, operator, job.id);
    assert.equal(row.status, 'queued');
    assert.equal(row.attempt, 0);
  }
  assert.deepEqual(startedAfterStop, [], 'handlers were started after stop() was called');
  assert.deepEqual(started, []);
});

test('a running job whose handler ignores its cancel signal is reported cancelled after the grace and its slot is freed', async () => {
  const queue = 'q-stubborn';
  const stuck = deferred();
  const stubbornStarted = deferred();
  let signalled = false;
  let settled = false;
  const w = worker({
    tasks: {
      stubborn: async (_p, ctx) => {
        stubbornStarted.resolve();
        ctx.signal.addEventListener('abort', () => (signalled = true));
        await stuck.promise;
        settled = true;
        return 'finished anyway';
      },
      next: () => 'next ran',
    },
    queues: [queue],
    concurrency: 1,
    leaseMs: 5000,
    heartbeatMs: 100,
    cancelGraceMs: 200,
  });
  try {
    await w.start();
    const job = await addJob(db.pool, { task: 'stubborn', queue, maxAttempts: 3 });
    await stubbornStarted.promise;
    const ended = waitForEvent(w.events, 'job:end', (e: JobEnd) => e.job.id === job.id);
    const change = await cancelJob(db.pool, operator, job.id);
    assert.equal(change.after.status, 'running');

    const [end] = await ended;
    assert.equal(end.outcome, 'cancelled');
    assert.equal(end.status, 'cancelled');
    assert.ok(signalled);
    const row = await readJob(db.pool, operator, job.id);
    assert.equal(row.status, 'cancelled');
    assert.ok(row.finishedAt);
    assert.equal(row.attempt, 1);
    assert.equal(row.errors.at(-1)?.kind, 'cancelled');

    // With concurrency 1, another job can only run once the stuck handler's slot is freed.
    const next = await addJob(db.pool, { task: 'next', queue });
    await eventually(async () => (await readJob(db.pool, operator, next.id)).status === 'completed');
    assert.equal(settled, false, 'the stuck handler finished; the slot was not freed by the grace');
    assert.equal((await readJob(db.pool, operator, job.id)).status, 'cancelled');
  } finally {
    stuck.resolve();
  }
});

test('revokeOverdueCancels cancels a running job whose cancel request is older than the grace and bumps its lease token', async () => {
  const queue = 'q-revoke';
  const job = await addJob(db.pool, { task: 'ignore-cancel', queue });
  const [claimed] = await claimJobs(
    db.pool,
    { workerId: 'worker-gone-deaf', tasks: ['ignore-cancel'], queues: [queue], tenantId: null, zone: null },
    1,
    60_000,
  );
  assert.equal(claimed?.id, job.id);
  await cancelJob(db.pool, operator, job.id);

  // Within the grace: left alone.
  assert.ok(!(await revokeOverdueCancels(db.pool, 60_000, 100)).some((c) => c.id === job.id));
  assert.equal((await readJob(db.pool, operator, job.id)).status, 'running');

  await eventually(async () => (await revokeOverdueCancels(db.pool, 150, 100)).some((c) => c.id === job.id));
  const row = await readJob(db.pool, operator, job.id);
  assert.equal(row.status, 'cancelled');
  assert.ok(row.finishedAt);
  assert.equal(row.leaseExpiresAt, null);
  assert.equal(BigInt(row.leaseToken), BigInt(claimed.leaseToken) + 1n);
  assert.equal(row.errors.at(-1)?.kind, 'cancelled');
  assert.equal(row.errors.at(-1)?.workerId, 'worker-gone-deaf');

  // The deaf worker's late completion is fenced off.
  const late = await recordReports(db.pool, [{ kind: 'completed', id: job.id, leaseToken: claimed.leaseToken, resultJson: '"late"' }]);
  assert.equal(late.accepted.size, 0);
  assert.equal((await readJob(db.pool, operator, job.id)).status, 'cancelled');
  // Revoking again finds nothing.
  assert.ok(!(await revokeOverdueCancels(db.pool, 0, 100)).some((c) => c.id === job.id));
});

// A worker driven by runOnce() has no LISTEN connection and no heartbeat loop, so it stands for a
// worker that has not (yet) learned of a cancel request: a missed notification, or a request that
// arrives after the last heartbeat of the shutdown grace.
test('a job whose cancel was requested is cancelled, not re-queued, when a stopping worker releases it', async () => {
  const queue = 'q-cancel-release';
  const { started, aborted, slow } = recorder();
  const w = worker({ tasks: { slow }, queues: [queue], concurrency: 1, shutdownGraceMs: 100 });
  const job = await addJob(db.pool, { task: 'slow', queue });
  const running = w.runOnce();
  running.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  await eventually(() => Promise.resolve(started.length === 1));
  const change = await cancelJob(db.pool, operator, job.id);
  assert.equal(change.after.status, 'running');
  assert.ok(change.after.cancelRequestedAt);

  await w.stop();
  await running;
  assert.equal(aborted.get(job.id), 'shutdown');
  const row = await readJob(db.pool, operator, job.id);
  assert.equal(row.status, 'cancelled', `the cancel request was dropped: the job is ${row.status} and will run again`);
});

test('a job whose cancel was requested is cancelled, not retried, when its attempt fails with attempts left', async () => {
  const queue = 'q-cancel-retry';
  const letGo = deferred();
  const started = deferred();
  const w = worker({
    tasks: {
      failing: async () => {
        started.resolve();
        await letGo.promise;
        throw new Error('failed after the cancel request');
      },
    },
    queues: [queue],
  });
  const job = await addJob(db.pool, { task: 'failing', queue, maxAttempts: 5, backoff: { baseMs: 0, jitter: 0 } });
  const running = w.runOnce();
  running.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  await started.promise;
  await cancelJob(db.pool, operator, job.id);
  letGo.resolve();
  assert.equal(await running, 1);
  const row = await readJob(db.pool, operator, job.id);
  assert.equal(row.status, 'cancelled', `the cancel request was dropped: the job is ${row.status} and will run again`);
});
