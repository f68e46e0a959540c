/**
 * Fault battery 2 (docs/decisions.md #7): a worker frozen with SIGSTOP past its lease — a long GC pause,
 * a VM stall. The other worker runs its jobs again; when the frozen one resumes (SIGCONT) its late
 * reports must be refused by the lease fence (no stale completion), and it must go on working.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createScheduler } from '../../src/scheduler/scheduler.js';
import { testDatabase } from '../helpers/db.js';
import { eventually } from '../helpers/wait.js';
import { assertInvariants, lateOutcomes, runningOn, waitForSettled, type Fault } from '../helpers/faults/invariants.js';
import { createLedger, readLedger } from '../helpers/faults/ledger.js';
import { startFaultFixture, unexpectedExits, type FaultProcess } from '../helpers/faults/procs.js';
import { submitJobs } from '../helpers/faults/submit.js';

const LEASE_MS = 1500;
const FREEZE_MS = 3 * LEASE_MS;

const db = await testDatabase();
await createLedger(db.pool);

async function startWorker(name: string): Promise<{ proc: FaultProcess; workerId: string }> {
  const proc = db.track(startFaultFixture(name, 'test/fixtures/fault-worker.ts', { DATABASE_URL: db.url, LEASE_MS: String(LEASE_MS), CONCURRENCY: '5' }));
  const ready = await proc.waitFor((m) => m.ready === true, 60_000);
  return { proc, workerId: ready.workerId as string };
}

test('a worker frozen past its lease has its jobs run elsewhere, its late reports refused, and works on after SIGCONT', async (t) => {
  const scheduler = db.track(createScheduler({ pool: db.pool, tickMs: 100, rescueIntervalMs: 250, leaderTtlMs: 5000 }));
  await scheduler.start();
  const [frozen, other] = await Promise.all([startWorker('worker-frozen'), startWorker('worker-other')]);
  // Jobs long enough that the frozen worker is mid-job when it stops and its handlers finish
  // (and report) only after it resumes.
  const jobs = await submitJobs(db.pool, 40, { prefix: 'work', ms: 2000 });
  // Frozen mid-job: its handlers have started (their executions are in the ledger), not just been claimed.
  await eventually(() => Promise.resolve(frozen.proc.messages.filter((m) => m.started).length >= 5), 20_000, 10);

  const at = Date.now();
  const sentBeforeFault = frozen.proc.messages.length;
  frozen.proc.freeze(FREEZE_MS + 20_000);
  const inFlight = await runningOn(db.pool, frozen.workerId);
  const faults: Fault[] = [{ label: `SIGSTOP ${frozen.proc.name} for ${FREEZE_MS} ms`, at, inFlight }];
  // The other worker runs every job the frozen one held again, under a newer lease.
  await eventually(async () => {
    const runs = await readLedger(db.pool, inFlight);
    return inFlight.every((id) => runs.some((r) => r.jobId === id && r.workerId === other.workerId));
  }, 20_000, 100).catch(() => assert.fail(`the frozen worker's jobs were not run again by the other worker within 20 s:\n${frozen.proc.describe()}\n${other.proc.describe()}`));
  await delay(Math.max(0, at + FREEZE_MS - Date.now()));
  frozen.proc.thaw();
  const thawedAt = Date.now();

  // Every job it held ends on its side with a refused report or a lease found lost — nothing accepted.
  const outcomes = () => lateOutcomes(frozen.proc.messages, sentBeforeFault, inFlight);
  await eventually(() => Promise.resolve([...outcomes().values()].every((o) => o !== 'pending')), 15_000, 50).catch(() => undefined);
  const late = outcomes();
  const accepted = inFlight.filter((id) => late.get(id) === 'accepted');
  assert.deepEqual(accepted, [], `STALE: the database accepted late reports from the frozen worker's dead leases:\n${frozen.proc.describe()}`);
  const pending = inFlight.filter((id) => late.get(id) === 'pending');
  assert.deepEqual(pending, [], `after SIGCONT the frozen worker neither reported (refused) nor dropped these jobs within 15 s:\n${frozen.proc.describe()}`);
  const refused = inFlight.filter((id) => late.get(id) === 'refused').length;
  // Its handlers finished while it was stopped, so it sent their completions on resuming: the fence refused them.
  assert.ok(refused > 0, `the resumed worker sent late completions and they were refused (it dropped all ${inFlight.length} on a lost lease instead)`);

  // It goes on working: jobs placed on it (and on the other) complete.
  const afterwards = [
    ...(await submitJobs(db.pool, 10, { prefix: 'after-frozen', ms: 10, placement: { workerId: frozen.workerId } })),
    ...(await submitJobs(db.pool, 10, { prefix: 'after-other', ms: 10, placement: { workerId: other.workerId } })),
  ];
  await waitForSettled(db.pool, [...jobs, ...afterwards], 60_000);
  const report = await assertInvariants(db.pool, { title: 'worker-freeze', ledgerJobs: [...jobs, ...afterwards], faults, processes: [frozen.proc, other.proc] });
  const ranOnFrozen = (await readLedger(db.pool, afterwards)).filter((e) => e.workerId === frozen.workerId && e.at.getTime() > thawedAt);
  assert.equal(ranOnFrozen.length, 10, `the resumed worker ran the 10 jobs placed on it:\n${frozen.proc.describe()}`);
  assert.equal(unexpectedExits([frozen.proc, other.proc]), '');
  t.diagnostic(JSON.stringify({ inFlight: inFlight.length, refusedReports: refused, leaseLostDrops: inFlight.length - refused, duplicates: report.duplicates }));
  await Promise.all([frozen.proc.stop(), other.proc.stop()]);
  await scheduler.stop();
});
