/**
 * Fault battery 4 (docs/decisions.md #9): PostgreSQL itself restarts mid-load — `fast` shutdown, then
 * `immediate` (no checkpoint; WAL replay at start) — under a `jobplane start` process (all roles),
 * a worker process and a scheduler process. It runs on a private cluster started for this file
 * (test/fixtures/fault-postgres.ts), never the machine's shared server. Every role reconnects
 * without a restart of its own; while the database is down the API answers 503 (not 500, not a
 * hang); /readyz turns not-ready within one health interval and ready again after; and the
 * battery's invariants hold.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createSchedule, setSchedulePaused } from '../../src/engine/schedule-service.js';
import { ApiProbe, login, type ProbeSample } from '../helpers/faults/api-probe.js';
import { assertInvariants, waitForSettled, type Fault } from '../helpers/faults/invariants.js';
import { createLedger, readLedger } from '../helpers/faults/ledger.js';
import { createMigratedDatabase, startPrivatePostgres } from '../helpers/faults/private-postgres.js';
import { startFaultFixture, startJobplaneChild, unexpectedExits, type FaultProcess } from '../helpers/faults/procs.js';
import { retrying } from '../helpers/faults/retry.js';
import { submitJobs } from '../helpers/faults/submit.js';

const PASSWORD = 'postgres restart password';
const HEALTH_MS = 1000;
/** Longer than the outage: leases held across it can be renewed once the server is back. */
const LEASE_MS = 4000;
const DOWN_MS = 3000;

const server = await startPrivatePostgres();
const pool = await createMigratedDatabase(server, 'jobplane_fault');
const url = server.url('jobplane_fault');
const processes: FaultProcess[] = [];
after(async () => {
  await Promise.allSettled(processes.map((p) => p.stop()));
  await pool.end();
  await server.owner.stop(30_000);
});
await createLedger(pool);

const jobplane = await startJobplaneChild('jobplane-start', {
  DATABASE_URL: url,
  JOBPLANE_ADMIN_PASSWORD: PASSWORD,
  JOBPLANE_LEASE: `${LEASE_MS}ms`,
  JOBPLANE_LEADER_TTL: '3s',
  JOBPLANE_POLL_INTERVAL: '250ms',
  JOBPLANE_HEALTH_INTERVAL: `${HEALTH_MS}ms`,
  JOBPLANE_WORKER_TASKS: 'noop,sleep',
});
const worker = startFaultFixture('worker', 'test/fixtures/fault-worker.ts', { DATABASE_URL: url, LEASE_MS: String(LEASE_MS), CONCURRENCY: '5' });
const scheduler = startFaultFixture('scheduler', 'test/fixtures/fault-scheduler.ts', { DATABASE_URL: url, LEADER_TTL_MS: '3000' });
processes.push(jobplane, worker, scheduler);
const workerId = (await worker.waitFor((m) => m.ready === true, 60_000)).workerId as string;
await scheduler.waitFor((m) => m.ready === true, 60_000);
const schedule = await createSchedule(pool, { tenantId: null }, { name: 'every-second', intervalMs: 1000, task: 'noop', queue: 'ticks', misfirePolicy: 'catch-up' });
const probe = new ApiProbe({ url: jobplane.url, token: await login(jobplane.url, 'admin', PASSWORD), intervalMs: 100, timeoutMs: 5000 });
probe.start();

const faultJobs: string[] = [];
const sleepJobs: string[] = [];
const faults: Fault[] = [];
const outages: Array<{ from: number; to: number }> = [];
let loading = true;
// Steady load through the SDK; batches refused by the outage are sent again (idempotency keys).
const load = (async () => {
  for (let round = 0; loading; round++) {
    faultJobs.push(...(await submitJobs(pool, 10, { prefix: `load-${round}`, ms: 100, retryForMs: 60_000 })));
    sleepJobs.push(...(await submitJobs(pool, 3, { prefix: `sleep-${round}`, task: 'sleep', payload: { ms: 50 }, retryForMs: 60_000 })));
    await delay(300);
  }
})();

const first = (match: (s: ProbeSample) => boolean) => probe.samples.find(match) ?? null;
async function waitFor<T>(check: () => Promise<T | null> | T | null, timeoutMs: number): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null || Date.now() > deadline) return value;
    await delay(50);
  }
}

for (const mode of ['fast', 'immediate'] as const) {
  test(`a ${mode} restart of PostgreSQL: every role reconnects, the API answers 503 meanwhile, /readyz follows`, async (t) => {
    await delay(2000);
    const { rows } = await retrying(() => pool.query<{ id: string }>(`SELECT id FROM jobplane.jobs WHERE status = 'running'`));
    const stopping = Date.now();
    const stopMs = await server.stop(mode);
    const stoppedAt = Date.now();
    faults.push({ label: `${mode} restart`, at: stopping, inFlight: rows.map((r) => r.id) });
    outages.push({ from: stopping, to: Date.now() + DOWN_MS });
    await delay(DOWN_MS);
    const starting = Date.now();
    const startMs = await server.start();
    const upAt = Date.now();

    const notReady = first((s) => s.route === 'readyz' && s.at >= stopping && s.status === 503);
    const ready = await waitFor(() => first((s) => s.route === 'readyz' && s.at >= upAt && s.status === 200), HEALTH_MS + 10_000);
    const accepted = await waitFor(() => first((s) => s.route === 'submit' && s.at >= upAt && s.status === 201), 15_000);
    const downSubmits = probe.samples.filter((s) => s.route === 'submit' && s.at >= stoppedAt && s.at + s.ms <= starting);
    // The worker process and jobplane's worker run jobs submitted after the restart; the schedule fires again.
    const workerRan = await waitFor(async () => ((await retrying(() => readLedger(pool, faultJobs))).some((e) => e.at.getTime() > upAt && e.workerId === workerId) ? true : null), 20_000);
    const sleepRan = await waitFor(async () => {
      const { rows: done } = await retrying(() => pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE task = 'sleep' AND status = 'completed' AND finished_at > $1`, [new Date(upAt)]));
      return done[0]!.n > 0 ? true : null;
    }, 20_000);
    const fired = await waitFor(async () => {
      const { rows: runs } = await retrying(() => pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE schedule_id = $1 AND created_at > $2`, [schedule.id, new Date(upAt)]));
      return runs[0]!.n > 0 ? true : null;
    }, 20_000);

    t.diagnostic(JSON.stringify({
      mode,
      stopMs,
      startMs,
      downMs: upAt - stoppedAt,
      notReadyAfterStopBeganMs: notReady ? notReady.at - stopping : null,
      readyAfterStartMs: ready ? ready.at - upAt : null,
      acceptedAfterStartMs: accepted ? accepted.at - upAt : null,
      apiWhileDown: probe.tally(stoppedAt, starting),
    }));
    const exits = unexpectedExits(processes);
    assert.equal(exits, '', `processes exited across the ${mode} restart:\n${exits}`);
    const violations = probe.violations().filter((s) => s.at >= stopping - 1000);
    assert.equal(violations.length, 0, `API answers outside 2xx/503 (or none) around the ${mode} restart:\n${probe.describeViolations()}\n${jobplane.describe()}`);
    assert.ok(notReady, '/readyz went not-ready while the database was down');
    assert.ok(notReady.at - stoppedAt <= HEALTH_MS + 500, `/readyz went not-ready ${notReady.at - stoppedAt} ms after the server stopped (health interval ${HEALTH_MS} ms)`);
    assert.ok(ready, `/readyz was ready again within ${HEALTH_MS + 10_000} ms of the restart`);
    assert.ok(ready.at - upAt <= HEALTH_MS + 2000, `/readyz was ready again ${ready.at - upAt} ms after the server came back (health interval ${HEALTH_MS} ms)`);
    assert.ok(downSubmits.some((s) => s.status === 503), `POST /api/v1/jobs answered 503 while the database was down (got ${JSON.stringify(probe.tally(stoppedAt, starting))})`);
    assert.ok(accepted, `the API accepted jobs again after the restart:\n${jobplane.describe()}`);
    assert.ok(workerRan, `the worker process ran jobs again after the restart:\n${worker.describe()}`);
    assert.ok(sleepRan, `jobplane's own worker role ran jobs again after the restart:\n${jobplane.describe()}`);
    assert.ok(fired, `the schedule fired again after the restart:\n${scheduler.describe()}\n${jobplane.describe()}`);
  });
}

test('after both restarts: nothing lost, no stale completion, nothing stuck, one job per fire time', async (t) => {
  loading = false;
  await load;
  await probe.stop();
  await retrying(() => setSchedulePaused(pool, { tenantId: null }, schedule.id, true).then(() => undefined));
  const placed = await submitJobs(pool, 5, { prefix: 'after', ms: 10, placement: { workerId } });
  const { rows: ticks } = await retrying(() => pool.query<{ id: string }>(`SELECT id FROM jobplane.jobs WHERE schedule_id = $1`, [schedule.id]));
  const all = [...faultJobs, ...placed];
  const others = [...sleepJobs, ...probe.accepted, ...ticks.map((r) => r.id)];
  await waitForSettled(pool, [...all, ...others], 60_000);
  // A job is caught in flight by an outage also when it was claimed between the snapshot above
  // and the server's stop: then its lease ran out during the outage and the rescuer put it back.
  const { rows: expired } = await pool.query<{ id: string; at: string }>(
    `SELECT j.id, e->>'at' AS at FROM jobplane.jobs j, jsonb_array_elements(j.errors) e WHERE e->>'kind' = 'lease-expired'`,
  );
  const ledgerSet = new Set(all);
  const caught = faults.map((fault, i) => ({
    ...fault,
    inFlight: [...new Set([...fault.inFlight, ...expired.filter((e) => {
      const at = Date.parse(e.at);
      return ledgerSet.has(e.id) && at >= outages[i]!.from && at <= Math.min(outages[i]!.to + LEASE_MS + 3000, outages[i + 1]?.from ?? Infinity);
    }).map((e) => e.id)])],
  }));
  const report = await assertInvariants(pool, { title: 'postgres-restart', ledgerJobs: all, otherJobs: others, faults: caught, processes });
  const { rows: fires } = await pool.query<{ fireAt: Date; jobs: number }>(
    `SELECT fire_at AS "fireAt", count(*)::int AS jobs FROM jobplane.jobs WHERE schedule_id = $1 GROUP BY fire_at ORDER BY fire_at`,
    [schedule.id],
  );
  assert.deepEqual(fires.filter((f) => f.jobs !== 1).map((f) => `${f.fireAt.toISOString()}: ${f.jobs} jobs`), [], 'each fire time has exactly one job');
  const gaps = fires.slice(1).flatMap((f, i) => (f.fireAt.getTime() - fires[i]!.fireAt.getTime() !== 1000 ? [`${fires[i]!.fireAt.toISOString()} → ${f.fireAt.toISOString()}`] : []));
  assert.deepEqual(gaps, [], 'no fire time was lost across the restarts');
  t.diagnostic(JSON.stringify({ server: server.source, submitted: report.submitted, duplicates: report.duplicates, inFlightAtFaults: report.inFlightAtFaults, fires: fires.length }));
});
