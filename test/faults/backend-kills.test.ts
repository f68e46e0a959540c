/**
 * Fault battery 3: every backend of the database is terminated (pg_terminate_backend) every
 * ~500 ms and then in bursts (10 in 1 s), while a `jobplane start` process (all roles), two
 * worker processes and a scheduler process run jobs and a cron schedule. No process may exit;
 * the API answers only 2xx or 503 (never 500, never a hang); and the battery's invariants hold:
 * nothing lost, no stale completion, nothing stuck, duplicates only of jobs caught in flight, one
 * job per fire time with no fire time missing, and every process still works afterwards.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { createSchedule, setSchedulePaused } from '../../src/engine/schedule-service.js';
import { testDatabase } from '../helpers/db.js';
import { eventually } from '../helpers/wait.js';
import { ApiProbe, login } from '../helpers/faults/api-probe.js';
import { assertInvariants, waitForSettled, type Fault } from '../helpers/faults/invariants.js';
import { createLedger, readLedger } from '../helpers/faults/ledger.js';
import { startFaultFixture, startJobplaneChild, unexpectedExits, type FaultProcess } from '../helpers/faults/procs.js';
import { retrying } from '../helpers/faults/retry.js';
import { submitJobs } from '../helpers/faults/submit.js';

const PASSWORD = 'backend kills password';
const LEASE_MS = 2000;

const db = await testDatabase();
await createLedger(db.pool);

/** Terminates every other backend of the database and notes which jobs were running at that instant. */
class Killer {
  private client: pg.Client | null = null;
  readonly faults: Fault[] = [];
  terminated = 0;
  async kill(label: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (!this.client) {
          const client = new pg.Client({ connectionString: db.url, application_name: 'fault-killer' });
          client.on('error', () => undefined);
          await client.connect();
          this.client = client;
        }
        const at = Date.now();
        const { rows } = await this.client.query<{ ids: string[]; n: number }>(
          `WITH running AS (SELECT coalesce(array_agg(id::text), '{}') AS ids FROM jobplane.jobs WHERE status = 'running'),
                killed AS (SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
                           WHERE datname = current_database() AND pid <> pg_backend_pid())
           SELECT ids, n FROM running, killed`,
        );
        this.terminated += rows[0]!.n;
        this.faults.push({ label: `${label}: ${rows[0]!.n} backends terminated`, at, inFlight: rows[0]!.ids });
        return;
      } catch (error) {
        await this.client?.end().catch(() => undefined);
        this.client = null;
        if (attempt >= 20) throw error;
        await delay(50);
      }
    }
  }
  async close(): Promise<void> {
    await this.client?.end().catch(() => undefined);
  }
}

test('terminating every backend, steadily and in bursts, ends no process, gets no 500 or hang from the API, and loses nothing', async (t) => {
  const jobplane = db.track(await startJobplaneChild('jobplane-start', {
    DATABASE_URL: db.url,
    JOBPLANE_ADMIN_PASSWORD: PASSWORD,
    JOBPLANE_LEASE: `${LEASE_MS}ms`,
    JOBPLANE_LEADER_TTL: '2s',
    JOBPLANE_POLL_INTERVAL: '250ms',
    JOBPLANE_HEALTH_INTERVAL: '500ms',
    JOBPLANE_WORKER_TASKS: 'noop,sleep',
    JOBPLANE_WORKER_CONCURRENCY: '5',
  }));
  const workerEnv = { DATABASE_URL: db.url, LEASE_MS: String(LEASE_MS), CONCURRENCY: '5' };
  const workers = [startFaultFixture('worker-a', 'test/fixtures/fault-worker.ts', workerEnv), startFaultFixture('worker-b', 'test/fixtures/fault-worker.ts', workerEnv)].map((w) => db.track(w));
  const scheduler = db.track(startFaultFixture('scheduler', 'test/fixtures/fault-scheduler.ts', { DATABASE_URL: db.url, LEADER_TTL_MS: '2000' }));
  const workerIds = (await Promise.all(workers.map((w) => w.waitFor((m) => m.ready === true, 60_000)))).map((m) => m.workerId as string);
  await scheduler.waitFor((m) => m.ready === true, 60_000);
  const everyone: FaultProcess[] = [jobplane, ...workers, scheduler];
  const schedule = await createSchedule(db.pool, { tenantId: null }, { name: 'every-second', intervalMs: 1000, task: 'noop', queue: 'ticks', misfirePolicy: 'catch-up' });
  const probe = new ApiProbe({ url: jobplane.url, token: await login(jobplane.url, 'admin', PASSWORD), timeoutMs: 5000 });

  const faultJobs = await submitJobs(db.pool, 200, { prefix: 'before', ms: 50 });
  const sleepJobs = await submitJobs(db.pool, 60, { prefix: 'sleep-before', task: 'sleep', payload: { ms: 50 } });
  probe.start();
  // The kills begin once work is under way: some of it finished, some of it running.
  await eventually(async () => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE status = 'completed'`)).rows[0]!.n > 0, 30_000, 50);

  // Load keeps coming during the kills (idempotent batches, retried through the faults).
  let loading = true;
  const load = (async () => {
    for (let round = 0; loading; round++) {
      faultJobs.push(...(await submitJobs(db.pool, 20, { prefix: `during-${round}`, ms: 50 })));
      sleepJobs.push(...(await submitJobs(db.pool, 10, { prefix: `sleep-during-${round}`, task: 'sleep', payload: { ms: 50 } })));
      await delay(400);
    }
  })();
  const killer = new Killer();
  const killsFrom = Date.now();
  for (let i = 0; i < 12; i++) {
    await killer.kill(`steady ${i + 1}`);
    await delay(500);
  }
  for (let burst = 0; burst < 2; burst++) {
    for (let i = 0; i < 10; i++) {
      await killer.kill(`burst ${burst + 1}.${i + 1}`);
      await delay(100);
    }
    await delay(1500);
  }
  const killsTo = Date.now();
  loading = false;
  await load;
  await killer.close();
  await delay(2000);
  await probe.stop();
  const exits = unexpectedExits(everyone);
  assert.equal(exits, '', `processes exited during the backend kills:\n${exits}`);
  assert.deepEqual(probe.violations().length, 0, `the API answered outside 2xx/503 (or not at all) during the kills:\n${probe.describeViolations()}\ntally: ${JSON.stringify(probe.tally())}\n${jobplane.describe()}`);
  assert.ok(killer.terminated >= killer.faults.length, `the kills hit the processes' connections (${killer.terminated} backends in ${killer.faults.length} kills)`);

  // Everyone still works: jobs placed on each worker process, sleep jobs for jobplane's worker,
  // a submission through the API, and fires of the schedule after the last kill.
  await retrying(() => setSchedulePaused(db.pool, { tenantId: null }, schedule.id, true).then(() => undefined));
  const placed = (await Promise.all(workerIds.map((id, i) => submitJobs(db.pool, 5, { prefix: `after-${i}`, ms: 10, placement: { workerId: id } })))).flat();
  const sleepAfter = await submitJobs(db.pool, 5, { prefix: 'sleep-after', task: 'sleep', payload: { ms: 10 } });
  const apiAfter = await eventually(async () => ((await probe.once('submit')).status === 201 ? true : null), 15_000, 200)
    .then(() => probe.accepted.at(-1)!)
    .catch(() => assert.fail(`the API did not accept a job after the kills:\n${probe.describeViolations()}\n${jobplane.describe()}`));
  const { rows: ticks } = await retrying(() => db.pool.query<{ id: string; fireAt: Date }>(`SELECT id, fire_at AS "fireAt" FROM jobplane.jobs WHERE schedule_id = $1 ORDER BY fire_at`, [schedule.id]));
  const all = [...faultJobs, ...placed];
  const others = [...sleepJobs, ...sleepAfter, ...probe.accepted, ...ticks.map((r) => r.id)];
  await waitForSettled(db.pool, [...all, ...others], 60_000);
  const report = await assertInvariants(db.pool, { title: 'backend-kills', ledgerJobs: all, otherJobs: others, faults: killer.faults, processes: everyone });
  const ranPlaced = await readLedger(db.pool, placed);
  for (const [i, id] of workerIds.entries()) assert.equal(ranPlaced.filter((e) => e.workerId === id).length, 5, `${workers[i]!.name} ran the jobs placed on it after the kills`);

  // The schedule: one job per fire time, none missing, and it kept firing after the kills.
  const { rows: fires } = await retrying(() => db.pool.query<{ fireAt: Date; jobs: number }>(
    `SELECT fire_at AS "fireAt", count(*)::int AS jobs FROM jobplane.jobs WHERE schedule_id = $1 GROUP BY fire_at ORDER BY fire_at`,
    [schedule.id],
  ));
  assert.deepEqual(fires.filter((f) => f.jobs !== 1).map((f) => `${f.fireAt.toISOString()}: ${f.jobs} jobs`), [], 'each fire time has exactly one job');
  const gaps = fires.slice(1).flatMap((f, i) => (f.fireAt.getTime() - fires[i]!.fireAt.getTime() !== 1000 ? [`${fires[i]!.fireAt.toISOString()} → ${f.fireAt.toISOString()}`] : []));
  assert.deepEqual(gaps, [], 'no fire time was lost');
  assert.ok(fires.some((f) => f.fireAt.getTime() > killsTo), 'the schedule fired after the last kill');
  assert.equal(unexpectedExits(everyone), '');
  t.diagnostic(JSON.stringify({
    kills: killer.faults.length,
    backendsTerminated: killer.terminated,
    killWindowMs: killsTo - killsFrom,
    api: probe.tally(killsFrom, killsTo + 2000),
    apiAfter,
    fires: fires.length,
    duplicates: report.duplicates,
    inFlightAtFaults: report.inFlightAtFaults,
    submitted: report.submitted,
  }));
  await Promise.all(everyone.map((p) => p.stop()));
});
