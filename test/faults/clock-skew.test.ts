/**
 * Fault battery 6 (docs/decisions.md #3): worker processes whose clocks run 10 minutes fast and 10
 * minutes slow (their injected `clock`), and a rescuer whose clock runs 10 minutes fast. Leases,
 * due times and retry delays must come from the database clock: no job is lost or completed
 * twice, none is re-claimed while its lease is valid, delayed jobs and retries do not run early,
 * and a killed worker's jobs are rescued after its lease — not at once, not never.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { testDatabase } from '../helpers/db.js';
import { eventually } from '../helpers/wait.js';
import { assertInvariants, rerunDelays, runningOn, waitForSettled, type Fault } from '../helpers/faults/invariants.js';
import { createLedger, readLedger } from '../helpers/faults/ledger.js';
import { startFaultFixture, unexpectedExits, type FaultProcess } from '../helpers/faults/procs.js';
import { submitJobs } from '../helpers/faults/submit.js';

const LEASE_MS = 1500;
const RESCUE_INTERVAL_MS = 250;
const SKEW_MS = 10 * 60_000;
const DELAY_MS = 3000;
const BACKOFF_MS = 1000;

const db = await testDatabase();
await createLedger(db.pool);

async function startWorker(name: string, offsetMs: number): Promise<{ proc: FaultProcess; workerId: string }> {
  const proc = db.track(startFaultFixture(name, 'test/fixtures/fault-worker.ts', { DATABASE_URL: db.url, LEASE_MS: String(LEASE_MS), CONCURRENCY: '5', CLOCK_OFFSET_MS: String(offsetMs) }));
  const ready = await proc.waitFor((m) => m.ready === true, 60_000);
  return { proc, workerId: ready.workerId as string };
}

test('workers 10 minutes fast and 10 minutes slow neither lose nor double-complete jobs, nor run them early', async (t) => {
  const rescuer = db.track(startFaultFixture('scheduler-fast', 'test/fixtures/fault-scheduler.ts', {
    DATABASE_URL: db.url, CLOCK_OFFSET_MS: String(SKEW_MS), RESCUE_INTERVAL_MS: String(RESCUE_INTERVAL_MS), LEADER_TTL_MS: '3000',
  }));
  await rescuer.waitFor((m) => m.ready === true, 60_000);
  const [fast, firstSlow] = await Promise.all([startWorker('worker-fast', SKEW_MS), startWorker('worker-slow', -SKEW_MS)]);
  let slow = firstSlow;
  const everyone = [rescuer, fast.proc, slow.proc];

  const now = await submitJobs(db.pool, 200, { prefix: 'now', ms: 150 });
  const delayed = await submitJobs(db.pool, 30, { prefix: 'delayed', ms: 10, delayMs: DELAY_MS });
  const retried = await submitJobs(db.pool, 30, { prefix: 'retried', ms: 10, payload: { ms: 10, failUntilAttempt: 1 }, backoffMs: BACKOFF_MS });

  // One fault: the slow worker is SIGKILLed mid-job and restarted (same skew).
  await eventually(() => Promise.resolve(slow.proc.messages.filter((m) => m.started).length >= 10), 20_000, 10);
  const at = Date.now();
  await slow.proc.kill();
  const faults: Fault[] = [{ label: 'SIGKILL worker-slow', at, inFlight: await runningOn(db.pool, slow.workerId) }];
  slow = await startWorker('worker-slow-2', -SKEW_MS);
  everyone.push(slow.proc);
  await delay(500);

  const afterwards = [
    ...(await submitJobs(db.pool, 5, { prefix: 'after-fast', ms: 10, placement: { workerId: fast.workerId } })),
    ...(await submitJobs(db.pool, 5, { prefix: 'after-slow', ms: 10, placement: { workerId: slow.workerId } })),
  ];
  const all = [...now, ...delayed, ...retried, ...afterwards];
  await waitForSettled(db.pool, all, 60_000);
  const report = await assertInvariants(db.pool, {
    title: 'clock-skew',
    ledgerJobs: all,
    faults,
    processes: everyone,
    plannedExecutions: new Map(retried.map((id) => [id, 2])),
  });

  // Nothing ran before it was due (database clock): delayed jobs after their run_at, retries after their backoff.
  const { rows } = await db.pool.query<{ id: string; createdAt: Date }>(`SELECT id, created_at AS "createdAt" FROM jobplane.jobs WHERE id = ANY($1::uuid[])`, [delayed]);
  const ledger = await readLedger(db.pool, [...delayed, ...retried]);
  const early: string[] = [];
  for (const row of rows) {
    const first = ledger.find((e) => e.jobId === row.id)!;
    if (first.at.getTime() < row.createdAt.getTime() + DELAY_MS) early.push(`${row.id}: delayed ${DELAY_MS} ms, ran ${first.at.getTime() - row.createdAt.getTime()} ms after it was created`);
  }
  for (const id of retried) {
    const runs = ledger.filter((e) => e.jobId === id);
    const gap = runs[1] && runs[0] ? runs[1].at.getTime() - runs[0].at.getTime() : null;
    if (gap !== null && gap < BACKOFF_MS - 20) early.push(`${id}: retried ${gap} ms after its failed attempt (backoff ${BACKOFF_MS} ms)`);
  }
  assert.deepEqual(early, [], 'no job ran before it was due');

  // The killed worker's jobs were rescued after the lease (DB clock), not at once and not never.
  const delays = await rerunDelays(db.pool, faults);
  const bad = delays.filter((d) => !d.settledByOldLease && (d.delayMs === null || d.delayMs > LEASE_MS + RESCUE_INTERVAL_MS + 3000));
  assert.deepEqual(bad.map((d) => `${d.jobId}: ${d.delayMs === null ? 'never ran again' : `${d.delayMs} ms`}`), [], 'rescue within lease + rescue interval + slack');
  assert.equal(unexpectedExits(everyone), '');
  const byWorker: Record<string, number> = {};
  const nameOf = (workerId: string) => (workerId === fast.workerId ? 'fast' : workerId === slow.workerId ? 'slow-2' : 'slow-1');
  for (const e of await readLedger(db.pool, all)) byWorker[nameOf(e.workerId)] = (byWorker[nameOf(e.workerId)] ?? 0) + 1;
  t.diagnostic(JSON.stringify({ executionsByWorker: byWorker, inFlightAtKill: faults[0]!.inFlight.length, duplicates: report.duplicates, rerunDelayMs: delays.map((d) => d.delayMs) }));
  await Promise.all(everyone.map((p) => p.stop()));
});
