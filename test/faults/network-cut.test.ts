/**
 * Fault battery 5 (docs/decisions.md #7): one worker reaches PostgreSQL through a TCP proxy the test
 * controls, and is cut off for longer than its lease — first by a black hole (packets vanish,
 * sockets stay open, as in a partition), then by dropping every connection and refusing new ones.
 * Its jobs must run again on the other worker; when the network returns, its late reports must be
 * refused (no stale completion) and it must recover by itself and complete new jobs.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createScheduler } from '../../src/scheduler/scheduler.js';
import { testDatabase } from '../helpers/db.js';
import { eventually } from '../helpers/wait.js';
import { assertInvariants, lateOutcomes, runningOn, waitForSettled, type Fault } from '../helpers/faults/invariants.js';
import { createLedger, readLedger } from '../helpers/faults/ledger.js';
import { startFaultFixture, unexpectedExits, type FaultProcess } from '../helpers/faults/procs.js';
import { submitJobs } from '../helpers/faults/submit.js';
import { TcpProxy } from '../helpers/faults/tcp-proxy.js';

const LEASE_MS = 1500;
const CUT_MS = 3 * LEASE_MS;

const db = await testDatabase();
await createLedger(db.pool);
const proxy = await TcpProxy.start(TcpProxy.forUrl(db.url));
after(() => proxy.close());

async function startWorker(name: string, databaseUrl: string): Promise<{ proc: FaultProcess; workerId: string }> {
  // The ledger bypasses the proxy: the handler's side effect happens whatever the worker's database link does.
  const proc = db.track(startFaultFixture(name, 'test/fixtures/fault-worker.ts', { DATABASE_URL: databaseUrl, LEDGER_URL: db.url, LEASE_MS: String(LEASE_MS), CONCURRENCY: '5' }));
  const ready = await proc.waitFor((m) => m.ready === true, 60_000);
  return { proc, workerId: ready.workerId as string };
}

const scheduler = db.track(createScheduler({ pool: db.pool, tickMs: 100, rescueIntervalMs: 250, leaderTtlMs: 5000 }));
await scheduler.start();
const [cut, other] = await Promise.all([startWorker('worker-behind-proxy', proxy.rewrite(db.url)), startWorker('worker-direct', db.url)]);
const faults: Fault[] = [];
const submitted: string[] = [];

for (const kind of ['blackhole', 'drop'] as const) {
  test(`a worker cut off by a ${kind} for ${CUT_MS} ms loses its jobs to the other worker, is refused when it reports late, and recovers`, async (t) => {
    const jobs = await submitJobs(db.pool, 30, { prefix: `${kind}-work`, ms: 1500 });
    submitted.push(...jobs);
    await eventually(() => Promise.resolve(cut.proc.messages.filter((m) => m.started && jobs.includes(m.jobId as string)).length >= 5), 20_000, 10);
    const at = Date.now();
    const sentBeforeFault = cut.proc.messages.length;
    if (kind === 'blackhole') proxy.blackhole();
    else await proxy.drop();
    const inFlight = await runningOn(db.pool, cut.workerId);
    faults.push({ label: `${kind} ${cut.proc.name} for ${CUT_MS} ms`, at, inFlight });
    assert.ok(inFlight.length > 0, 'the cut caught jobs in flight');

    await eventually(async () => {
      const runs = await readLedger(db.pool, inFlight);
      return inFlight.every((id) => runs.some((r) => r.jobId === id && r.workerId === other.workerId));
    }, 20_000, 100).catch(() => assert.fail(`the cut-off worker's jobs did not run again on the other worker within 20 s:\n${other.proc.describe()}`));
    await delay(Math.max(0, at + CUT_MS - Date.now()));
    await proxy.restore();
    const restoredAt = Date.now();

    // Every job it held ends on its side refused or dropped on a lost lease; none is accepted.
    const outcomes = () => lateOutcomes(cut.proc.messages, sentBeforeFault, inFlight);
    await eventually(() => Promise.resolve([...outcomes().values()].every((o) => o !== 'pending')), 30_000, 50).catch(() => undefined);
    const late = outcomes();
    assert.deepEqual(inFlight.filter((id) => late.get(id) === 'accepted'), [], `STALE: the database accepted late reports from the cut-off worker's dead leases:\n${cut.proc.describe()}`);
    assert.deepEqual(inFlight.filter((id) => late.get(id) === 'pending'), [], `after the network came back the cut-off worker neither reported (refused) nor dropped these jobs within 30 s:\n${cut.proc.describe()}`);
    // It recovers on its own: jobs placed on it complete.
    const placed = await submitJobs(db.pool, 5, { prefix: `${kind}-after`, ms: 10, placement: { workerId: cut.workerId } });
    submitted.push(...placed);
    await eventually(async () => (await readLedger(db.pool, placed)).filter((e) => e.workerId === cut.workerId).length === 5, 30_000, 100).catch(() =>
      assert.fail(`the cut-off worker did not complete the jobs placed on it within 30 s of the network's return:\n${cut.proc.describe()}`),
    );
    const refused = inFlight.filter((id) => late.get(id) === 'refused').length;
    t.diagnostic(JSON.stringify({ kind, inFlight: inFlight.length, refusedReports: refused, leaseLostDrops: inFlight.length - refused, recoveredInMs: Date.now() - restoredAt, proxyConnections: proxy.connections }));
    assert.equal(unexpectedExits([cut.proc, other.proc]), '');
  });
}

test('after both cuts: nothing lost, no stale completion, nothing stuck, duplicates only of jobs caught in flight', async (t) => {
  const more = await submitJobs(db.pool, 20, { prefix: 'final', ms: 10 });
  const all = [...submitted, ...more];
  await waitForSettled(db.pool, all, 60_000);
  const report = await assertInvariants(db.pool, { title: 'network-cut', ledgerJobs: all, faults, processes: [cut.proc, other.proc] });
  t.diagnostic(JSON.stringify({ duplicates: report.duplicates, inFlightAtFaults: report.inFlightAtFaults }));
  await Promise.all([cut.proc.stop(), other.proc.stop()]);
  await scheduler.stop();
});
