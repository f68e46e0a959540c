/**
 * The retry/fail/cancel decision lives in src/core/attempt-outcome.ts; the report statement
 * (`recordReports`) applies its last rule, `finalStatus`, in SQL so a batch needs no read first,
 * and the rescuer's statement applies `decideExpiredLease` as given. Every case is tried here
 * against real PostgreSQL: report kind × cancel requested × attempts left.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decideExpiredLease,
  finalStatus,
  REPORT_KINDS,
  retryOrFail,
  type AttemptError,
  type ReportKind,
} from '../../src/core/attempt-outcome.js';
import { withTransaction } from '../../src/db/pool.js';
import { claimJobs, recordReports, type AttemptReport, type ClaimedJob } from '../../src/db/queries/jobs.js';
import { lockExpiredLeases, resolveExpiredLeases } from '../../src/db/queries/maintenance.js';
import { addJob } from '../../src/engine/submit.js';
import { testDatabase } from '../helpers/db.js';
import { eventually } from '../helpers/wait.js';

const db = await testDatabase();
let queues = 0;

/** A job claimed once (attempt 1 of `maxAttempts`), its cancel requested if asked. */
async function runningJob(maxAttempts: number, cancelRequested: boolean, leaseMs = 60_000): Promise<ClaimedJob> {
  const queue = `q-outcome-${++queues}`;
  await addJob(db.pool, { task: 'outcome', queue, maxAttempts });
  const [job] = await claimJobs(db.pool, { workerId: 'worker-x', tasks: ['outcome'], queues: [queue], tenantId: null, zone: null }, 1, leaseMs);
  assert.ok(job, 'claimed');
  if (cancelRequested) await db.pool.query(`UPDATE jobplane.jobs SET cancel_requested_at = now() WHERE id = $1`, [job.id]);
  return job;
}

function error(attempt: number): AttemptError {
  return { attempt, kind: 'error', message: 'boom', workerId: 'worker-x', at: new Date().toISOString() };
}

function reportOf(kind: ReportKind, job: ClaimedJob): AttemptReport {
  const base = { id: job.id, leaseToken: job.leaseToken };
  switch (kind) {
    case 'completed': return { ...base, kind, resultJson: '1' };
    case 'retry': return { ...base, kind, error: error(job.attempt), delayMs: 0 };
    case 'released': return { ...base, kind };
    default: return { ...base, kind, error: error(job.attempt) };
  }
}

test('the report statement ends a running job in the status finalStatus gives, for every report kind with and without a cancel request', async () => {
  const mismatches: string[] = [];
  for (const kind of REPORT_KINDS) {
    for (const cancelRequested of [false, true]) {
      const job = await runningJob(3, cancelRequested);
      const { accepted } = await recordReports(db.pool, [reportOf(kind, job)]);
      const expected = finalStatus(kind, cancelRequested);
      const actual = accepted.get(job.id);
      if (actual !== expected) mismatches.push(`${kind}, cancel ${cancelRequested}: core says ${expected}, SQL made ${actual ?? 'nothing'}`);
    }
  }
  assert.deepEqual(mismatches, []);
});

test('a failed attempt with no attempts left is decided failed in core and stored failed; with attempts left it is queued again', async () => {
  for (const [maxAttempts, expected] of [[1, 'failed'], [2, 'queued']] as const) {
    const job = await runningJob(maxAttempts, false);
    const outcome = retryOrFail(job, error(job.attempt), 0);
    const report: AttemptReport = outcome.kind === 'retry'
      ? { kind: 'retry', id: job.id, leaseToken: job.leaseToken, error: outcome.error, delayMs: 0 }
      : { kind: 'failed', id: job.id, leaseToken: job.leaseToken, error: outcome.error };
    const { accepted } = await recordReports(db.pool, [report]);
    assert.equal(accepted.get(job.id), expected, `maxAttempts ${maxAttempts}`);
  }
});

test('the rescuer stores what decideExpiredLease decides for an expired lease, with and without attempts left and a cancel request', async () => {
  const mismatches: string[] = [];
  for (const maxAttempts of [1, 2]) {
    for (const cancelRequested of [false, true]) {
      const job = await runningJob(maxAttempts, cancelRequested, 1);
      const changes = await eventually(() =>
        withTransaction(db.pool, async (tx) => {
          const expired = (await lockExpiredLeases(tx, 1000)).filter((e) => e.id === job.id);
          if (expired.length === 0) return undefined;
          const at = new Date().toISOString();
          const decided = expired.map((e) => ({ id: e.id, ...decideExpiredLease(e, at) }));
          return { decided: decided[0]!.status, changes: await resolveExpiredLeases(tx, decided) };
        }),
      );
      const expected = maxAttempts > 1 ? (cancelRequested ? 'cancelled' : 'queued') : cancelRequested ? 'cancelled' : 'failed';
      const stored = changes.changes.find((c) => c.id === job.id)?.status;
      if (changes.decided !== expected || stored !== expected) {
        mismatches.push(`max ${maxAttempts}, cancel ${cancelRequested}: expected ${expected}, decided ${changes.decided}, stored ${stored ?? 'nothing'}`);
      }
    }
  }
  assert.deepEqual(mismatches, []);
});
