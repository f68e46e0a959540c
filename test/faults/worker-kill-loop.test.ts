/**
 * Fault battery 1 (docs/decisions.md #8, #9): two worker processes under a few hundred jobs with a deep
 * backlog behind them on the same queue; every ~2 s one of them is SIGKILLed and restarted. The
 * jobs a killed worker held must run again within lease + rescue interval + slack — rescued jobs
 * keep their place in line, they do not wait behind the backlog — and nothing is lost, completed
 * from a dead lease, left stuck, or run more often than the kills that caught it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createScheduler } from '../../src/scheduler/scheduler.js';
import { testDatabase } from '../helpers/db.js';
import { assertInvariants, rerunDelays, runningOn, waitForSettled, type Fault } from '../helpers/faults/invariants.js';
import { createLedger } from '../helpers/faults/ledger.js';
import { startFaultFixture, unexpectedExits, type FaultProcess } from '../helpers/faults/procs.js';
import { submitJobs } from '../helpers/faults/submit.js';

const LEASE_MS = 1500;
const RESCUE_INTERVAL_MS = 250;
/** Heartbeat timing, the claim after the rescue's wake-up, and a loaded 2-core machine. */
const SLACK_MS = 3000;
const KILLS = 6;

const db = await testDatabase();
await createLedger(db.pool);

let started = 0;
async function startWorker(): Promise<{ proc: FaultProcess; workerId: string }> {
  const proc = db.track(startFaultFixture(`worker-${++started}`, 'test/fixtures/fault-worker.ts', {
    DATABASE_URL: db.url,
    LEASE_MS: String(LEASE_MS),
    CONCURRENCY: '5',
  }));
  const ready = await proc.waitFor((m) => m.ready === true, 60_000);
  return { proc, workerId: ready.workerId as string };
}

test('workers SIGKILLed every ~2 s lose nothing, and their jobs run again within lease + rescue interval even behind a deep backlog', async (t) => {
  const scheduler = db.track(createScheduler({ pool: db.pool, tickMs: 100, rescueIntervalMs: RESCUE_INTERVAL_MS, leaderTtlMs: 5000 }));
  await scheduler.start();
  // The work the kills hit, then a backlog on the same queue that becomes due after it.
  const main = await submitJobs(db.pool, 300, { prefix: 'main', ms: 200 });
  const backlog = await submitJobs(db.pool, 2000, { prefix: 'backlog', ms: 50 });
  const workers = await Promise.all([startWorker(), startWorker()]);
  const everyone = workers.map((w) => w.proc);
  const faults: Fault[] = [];

  for (let k = 0; k < KILLS; k++) {
    await delay(2000);
    const slot = k % 2;
    const victim = workers[slot]!;
    const at = Date.now();
    await victim.proc.kill();
    // Dead now: whatever still runs under its id is exactly what it held.
    const inFlight = await runningOn(db.pool, victim.workerId);
    faults.push({ label: `kill ${k + 1}: SIGKILL ${victim.proc.name}`, at, inFlight });
    const replacement = await startWorker();
    workers[slot] = replacement;
    everyone.push(replacement.proc);
  }
  const dead = unexpectedExits(everyone);
  assert.equal(dead, '', `a worker exited on its own:\n${dead}`);

  // Both surviving workers still work: jobs placed on each of them complete.
  const afterwards = (await Promise.all(workers.map((w, i) => submitJobs(db.pool, 10, { prefix: `after-${i}`, ms: 10, placement: { workerId: w.workerId } })))).flat();
  const all = [...main, ...backlog, ...afterwards];
  await waitForSettled(db.pool, all, 60_000);

  const report = await assertInvariants(db.pool, { title: 'worker-kill-loop', ledgerJobs: all, faults, processes: everyone });
  const delays = await rerunDelays(db.pool, faults);
  const bound = LEASE_MS + RESCUE_INTERVAL_MS + SLACK_MS;
  const measured = delays.flatMap((d) => (d.delayMs === null ? [] : [d.delayMs])).sort((a, b) => a - b);
  t.diagnostic(JSON.stringify({
    kills: faults.map((f) => ({ label: f.label, inFlight: f.inFlight.length })),
    duplicates: report.duplicates,
    inFlightAtFaults: report.inFlightAtFaults,
    settledByOldLease: delays.filter((d) => d.settledByOldLease).length,
    rerunDelayMs: { n: measured.length, p50: measured[Math.floor(measured.length / 2)] ?? null, max: measured.at(-1) ?? null, bound },
  }));
  assert.ok(faults.some((f) => f.inFlight.length > 0), 'the kills caught jobs in flight');
  const late = delays.filter((d) => (d.delayMs === null && !d.settledByOldLease) || (d.delayMs ?? 0) > bound);
  assert.deepEqual(
    late.map((d) => `${d.jobId} (${d.fault}): ${d.delayMs === null ? 'never ran again' : `ran again after ${d.delayMs} ms`}`),
    [],
    `killed jobs must run again within lease ${LEASE_MS} + rescue ${RESCUE_INTERVAL_MS} + slack ${SLACK_MS} = ${bound} ms, backlog or not`,
  );
  await Promise.all(workers.map((w) => w.proc.stop()));
  await scheduler.stop();
});
