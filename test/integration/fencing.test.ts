/**
 * Fencing (docs/decisions.md #7): a worker that lost its lease can neither complete, renew nor
 * write output for the job any more; only the current lease token counts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttemptError } from '../../src/core/attempt-outcome.js';
import { addJob } from '../../src/engine/submit.js';
import { readJob, readJobLogs } from '../../src/engine/job-service.js';
import { withTransaction } from '../../src/db/pool.js';
import {
  claimJobs,
  recordOutput,
  recordReports,
  renewLeases,
  type AttemptReport,
  type ClaimedJob,
  type ClaimFilter,
} from '../../src/db/queries/jobs.js';
import { lockExpiredLeases, resolveExpiredLeases } from '../../src/db/queries/maintenance.js';
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
  // These tests expire, rescue and place jobs themselves: no maintenance leader may do it for them.
  return db.track(createWorker({ pool: db.pool, pollIntervalMs: 100, maintenance: false, ...options }));
}

function filter(workerId: string, queue: string, tasks: string[]): ClaimFilter {
  return { workerId, tasks, queues: [queue], tenantId: null, zone: null };
}

function lostLease(attempt: number, workerId: string | null): AttemptError {
  return { attempt, kind: 'lease-expired', message: 'lease expired', workerId, at: new Date().toISOString() };
}

/** Play the rescuer: once the job's lease has expired on the database clock, put it back to queued. */
async function rescueWhenExpired(jobId: string, delayMs = 0): Promise<void> {
  await eventually(() =>
    withTransaction(db.pool, async (tx) => {
      const expired = (await lockExpiredLeases(tx, 1000)).filter((e) => e.id === jobId);
      await resolveExpiredLeases(
        tx,
        expired.map((e) => ({ id: e.id, status: 'queued' as const, delayMs, error: lostLease(e.attempt, e.workerId) })),
      );
      return expired.length === 1;
    }),
  );
}

/** Claim exactly one job of a queue for a worker id (retrying until the job is due). */
async function claimOne(workerId: string, queue: string, leaseMs: number): Promise<ClaimedJob> {
  return eventually(async () => (await claimJobs(db.pool, filter(workerId, queue, ['fenced']), 1, leaseMs))[0]);
}

test("a stale worker's late completion is rejected and the new attempt's result is kept", async () => {
  const job = await addJob(db.pool, { task: 'fenced', queue: 'q-fence-1', maxAttempts: 5 });
  const a = await claimOne('worker-a', 'q-fence-1', 300);
  assert.equal(a.id, job.id);
  assert.equal(a.attempt, 1);

  await rescueWhenExpired(job.id);
  // A's report while the job waits in the queue changes nothing.
  const early = await recordReports(db.pool, [{ kind: 'completed', id: job.id, leaseToken: a.leaseToken, resultJson: '{"by":"A"}' }]);
  assert.equal(early.accepted.size, 0);
  assert.equal((await readJob(db.pool, operator, job.id)).status, 'queued');

  const b = await claimOne('worker-b', 'q-fence-1', 30_000);
  assert.equal(b.id, job.id);
  assert.equal(b.attempt, 2);
  assert.ok(BigInt(b.leaseToken) > BigInt(a.leaseToken), `B's token ${b.leaseToken} is not above A's ${a.leaseToken}`);

  const done = await recordReports(db.pool, [{ kind: 'completed', id: job.id, leaseToken: b.leaseToken, resultJson: '{"by":"B"}' }]);
  assert.equal(done.accepted.get(job.id), 'completed');
  const afterB = await readJob(db.pool, operator, job.id);

  const stale: AttemptReport[] = [
    { kind: 'completed', id: job.id, leaseToken: a.leaseToken, resultJson: '{"by":"A"}' },
    { kind: 'failed', id: job.id, leaseToken: a.leaseToken, error: lostLease(1, 'worker-a') },
    { kind: 'retry', id: job.id, leaseToken: a.leaseToken, error: lostLease(1, 'worker-a'), delayMs: 0 },
    { kind: 'cancelled', id: job.id, leaseToken: a.leaseToken, error: lostLease(1, 'worker-a') },
    { kind: 'released', id: job.id, leaseToken: a.leaseToken },
  ];
  for (const report of stale) {
    const late = await recordReports(db.pool, [report]);
    assert.equal(late.accepted.size, 0, `stale ${report.kind} report was accepted`);
  }
  // B's own token cannot report twice either: the job is no longer running.
  const twice = await recordReports(db.pool, [{ kind: 'completed', id: job.id, leaseToken: b.leaseToken, resultJson: '{"by":"B2"}' }]);
  assert.equal(twice.accepted.size, 0);

  const row = await readJob(db.pool, operator, job.id);
  assert.equal(row.status, 'completed');
  assert.deepEqual(row.result, { by: 'B' });
  assert.equal(row.attempt, 2);
  assert.equal(row.leaseToken, b.leaseToken);
  assert.deepEqual(row.errors, afterB.errors);
  assert.deepEqual(row.finishedAt, afterB.finishedAt);
});

test('a stale token renews no lease and its progress and log lines are dropped', async () => {
  const job = await addJob(db.pool, { task: 'fenced', queue: 'q-fence-2', maxAttempts: 5 });
  const a = await claimOne('worker-a', 'q-fence-2', 300);
  await rescueWhenExpired(job.id);
  const b = await claimOne('worker-b', 'q-fence-2', 60_000);

  const before = await readJob(db.pool, operator, job.id);
  const renewedStale = await renewLeases(db.pool, [{ id: job.id, leaseToken: a.leaseToken }], 3_600_000);
  assert.deepEqual(renewedStale, []);
  const afterStale = await readJob(db.pool, operator, job.id);
  assert.deepEqual(afterStale.leaseExpiresAt, before.leaseExpiresAt);

  const at = new Date().toISOString();
  await recordOutput(db.pool, [
    { id: job.id, leaseToken: a.leaseToken, attempt: a.attempt, progressJson: '99', logs: [{ level: 'info', message: 'from A', fields: null, at }] },
  ]);
  let row = await readJob(db.pool, operator, job.id);
  assert.equal(row.progress, null);
  assert.deepEqual(await readJobLogs(db.pool, operator, job.id), []);

  // The same calls with the current token do take effect (so the checks above can fail).
  const renewed = await renewLeases(db.pool, [{ id: job.id, leaseToken: b.leaseToken }], 3_600_000);
  assert.deepEqual(renewed, [{ id: job.id, cancelRequested: false }]);
  await recordOutput(db.pool, [
    { id: job.id, leaseToken: b.leaseToken, attempt: b.attempt, progressJson: '40', logs: [{ level: 'info', message: 'from B', fields: null, at }] },
  ]);
  row = await readJob(db.pool, operator, job.id);
  assert.equal(row.progress, 40);
  assert.ok(row.leaseExpiresAt!.getTime() > before.leaseExpiresAt!.getTime());
  const logs = await readJobLogs(db.pool, operator, job.id);
  assert.deepEqual(logs.map((l) => [l.message, l.attempt]), [['from B', 2]]);

  // A mixed batch keeps only the current attempt's part.
  await recordOutput(db.pool, [
    { id: job.id, leaseToken: a.leaseToken, attempt: a.attempt, progressJson: '1', logs: [{ level: 'warn', message: 'A again', fields: null, at }] },
    { id: job.id, leaseToken: b.leaseToken, attempt: b.attempt, progressJson: null, logs: [{ level: 'info', message: 'B again', fields: null, at }] },
  ]);
  row = await readJob(db.pool, operator, job.id);
  assert.equal(row.progress, 40);
  assert.deepEqual((await readJobLogs(db.pool, operator, job.id)).map((l) => l.message), ['from B', 'B again']);
});

test("a real worker whose lease expired cannot overwrite the result of the worker that re-claimed the job", async () => {
  const latch = deferred();
  const startedA = deferred();
  const a = worker({
    tasks: {
      fenced: async (_p, ctx) => {
        startedA.resolve();
        await latch.promise;
        ctx.log('A finishing');
        return { by: 'A' };
      },
    },
    queues: ['q-fence-3'],
    concurrency: 1,
    leaseMs: 300,
    heartbeatMs: 3_600_000,
  });
  const b = worker({ tasks: { fenced: () => ({ by: 'B' }) }, queues: ['q-fence-3'], concurrency: 1 });
  const job = await addJob(db.pool, { task: 'fenced', queue: 'q-fence-3', maxAttempts: 5 });

  const endA = waitForEvent(a.events, 'job:end', (e: JobEnd) => e.job.id === job.id, 30_000);
  endA.catch(() => undefined); // awaited below
  // runOnce runs no heartbeat loop, so A's 300 ms lease is never renewed.
  const runA = a.runOnce();
  runA.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  await startedA.promise;
  await rescueWhenExpired(job.id);
  assert.equal(await b.runOnce(), 1);
  assert.equal((await readJob(db.pool, operator, job.id)).status, 'completed');

  latch.resolve();
  assert.equal(await runA, 1);
  const [end] = await endA;
  assert.equal(end.outcome, 'completed');
  assert.equal(end.status, null, "A's completion was recorded");

  const row = await readJob(db.pool, operator, job.id);
  assert.equal(row.status, 'completed');
  assert.deepEqual(row.result, { by: 'B' });
  assert.equal(row.attempt, 2);
  assert.deepEqual(row.errors.map((e) => e.kind), ['lease-expired']);
  const logs = await readJobLogs(db.pool, operator, job.id);
  assert.ok(!logs.some((l) => l.message === 'A finishing'), 'log line of the stale attempt was stored');
});

test("when a worker's heartbeat finds its lease gone, the handler's signal fires with 'lease-lost' and nothing is reported", async () => {
  const started = deferred();
  let reason: unknown = null;
  const w = worker({
    tasks: {
      fenced: (_p, ctx) =>
        new Promise((resolve) => {
          started.resolve();
          ctx.signal.addEventListener('abort', () => {
            reason = (ctx.signal.reason as { reason?: unknown }).reason;
            // The handler ignores the abort and "finishes" anyway, with output: none of it may land.
            ctx.log('after the lease was lost');
            ctx.progress(100);
            resolve({ by: 'lost worker' });
          });
        }),
    },
    queues: ['q-fence-4'],
    concurrency: 1,
    leaseMs: 10_000,
    heartbeatMs: 100,
  });
  await w.start();
  const job = await addJob(db.pool, { task: 'fenced', queue: 'q-fence-4', maxAttempts: 5 });
  await started.promise;
  const claimed = await readJob(db.pool, operator, job.id);
  assert.equal(claimed.status, 'running');

  const lost = waitForEvent(w.events, 'lease-lost', (e: { jobId: string }) => e.jobId === job.id);
  const ended = waitForEvent(w.events, 'job:end', (e: JobEnd) => e.job.id === job.id);
  // As if the worker had been paused past its lease: expire it and let the rescuer take the job
  // back (then delay it, so this worker does not simply claim it again).
  await withTransaction(db.pool, async (tx) => {
    await tx.query(`UPDATE jobplane.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [job.id]);
    const expired = (await lockExpiredLeases(tx, 1000)).filter((e) => e.id === job.id);
    assert.equal(expired.length, 1);
    await resolveExpiredLeases(tx, [{ id: job.id, status: 'queued', error: lostLease(1, w.id) }]);
    await tx.query(`UPDATE jobplane.jobs SET run_at = now() + interval '1 hour' WHERE id = $1`, [job.id]);
  });
  const rescued = await readJob(db.pool, operator, job.id);

  await lost;
  const [end] = await ended;
  assert.equal(reason, 'lease-lost');
  assert.equal(end.outcome, 'dropped');
  assert.equal(end.status, null);

  await w.stop();
  const row = await readJob(db.pool, operator, job.id);
  assert.equal(row.status, 'queued');
  assert.equal(row.result, null);
  assert.equal(row.progress, null);
  assert.equal(row.leaseToken, rescued.leaseToken);
  assert.deepEqual(row.runAt, rescued.runAt);
  assert.deepEqual(row.errors, rescued.errors);
  assert.deepEqual(await readJobLogs(db.pool, operator, job.id), []);
});
