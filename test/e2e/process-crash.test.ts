/**
 * Process-level guarantees (docs/decisions.md #9): real worker and scheduler processes, killed with SIGKILL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addJobs } from '../../src/engine/submit.js';
import { createSchedule } from '../../src/engine/schedule-service.js';
import { createScheduler } from '../../src/scheduler/scheduler.js';
import { testDatabase } from '../helpers/db.js';
import { startFixture } from '../helpers/processes.js';
import { eventually } from '../helpers/wait.js';

const db = await testDatabase();
const WORKER = 'test/fixtures/worker-process.ts';
const SCHEDULER = 'test/fixtures/scheduler-process.ts';
await db.pool.query('CREATE TABLE effects (job_id uuid, attempt int, pid int, at timestamptz DEFAULT now())');

test('a worker killed with SIGKILL mid-job loses no job: its jobs run again after the lease', async () => {
  const jobs = await addJobs(db.pool, Array.from({ length: 12 }, () => ({ task: 'effect', queue: 'default', maxAttempts: 3, backoff: { baseMs: 10, jitter: 0 } })));
  const doomed = db.track(startFixture(WORKER, { DATABASE_URL: db.url, MODE: 'hang', CONCURRENCY: '5', LEASE_MS: '1000' }));
  await doomed.waitFor((m) => m.ready === true);
  await eventually(() => Promise.resolve(doomed.messages.filter((m) => m.started).length >= 5));
  await doomed.kill();
  const inFlight = doomed.messages.filter((m) => m.started).map((m) => m.started as string);

  const rescuer = db.track(createScheduler({ pool: db.pool, tickMs: 100, rescueIntervalMs: 200 }));
  await rescuer.start();
  // The survivor's own lease is long, so a loaded machine cannot expire it mid-job and add an attempt.
  const survivor = db.track(startFixture(WORKER, { DATABASE_URL: db.url, MODE: 'work', CONCURRENCY: '5', LEASE_MS: '10000' }));
  await survivor.waitFor((m) => m.ready === true);
  const { rows } = await eventually(async () => {
    const r = await db.pool.query<{ id: string; status: string; attempt: number; errors: Array<{ kind: string }> }>(
      `SELECT id, status, attempt, errors FROM jobplane.jobs WHERE id = ANY($1)`,
      [jobs.map((j) => j.id)],
    );
    return r.rows.every((row) => row.status === 'completed') ? r : null;
  }, 30_000);
  assert.equal(rows.length, 12, 'every accepted job is still there');
  for (const row of rows.filter((r) => inFlight.includes(r.id))) {
    assert.equal(row.attempt, 2, 'the killed attempt counts, the rerun completes');
    assert.equal(row.errors[0]!.kind, 'lease-expired');
  }
  const { rows: ledger } = await db.pool.query<{ job_id: string; n: number }>('SELECT job_id, count(*)::int AS n FROM effects GROUP BY job_id');
  assert.equal(ledger.length, 12, 'every job executed');
  for (const entry of ledger) assert.ok(entry.n === (inFlight.includes(entry.job_id) ? 2 : 1), 'only the killed attempts ran twice');
  await survivor.stop();
  await rescuer.stop();
});

test('with nothing but SDK workers (no scheduler anywhere), a killed worker\'s jobs are rescued and run again', async () => {
  const SDK = 'test/fixtures/sdk-worker-process.ts';
  const jobs = await addJobs(db.pool, Array.from({ length: 6 }, () => ({ task: 'effect', queue: 'sdk-only', maxAttempts: 3 })));
  const doomed = db.track(startFixture(SDK, { DATABASE_URL: db.url, MODE: 'hang', LEASE_MS: '1000' }));
  const ready = await doomed.waitFor((m) => m.ready === true);
  assert.ok(ready.maintenanceId, 'the worker joined the maintenance election');
  await eventually(() => Promise.resolve(doomed.messages.filter((m) => m.started).length >= 5));
  await doomed.kill();
  const survivor = db.track(startFixture(SDK, { DATABASE_URL: db.url, MODE: 'work', LEASE_MS: '10000' }));
  await survivor.waitFor((m) => m.ready === true);
  await eventually(async () => {
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE id = ANY($1) AND status = 'completed'`, [jobs.map((j) => j.id)]);
    return rows[0]!.n === jobs.length;
  }, 30_000);
  await survivor.stop();
});

test('three scheduler processes yield exactly one job per fire time, across a SIGKILL of the leader', async () => {
  const schedule = await createSchedule(db.pool, { tenantId: null }, { name: 'every-second', cron: '* * * * * *', task: 'tick' });
  const procs = [1, 2, 3].map(() => db.track(startFixture(SCHEDULER, { DATABASE_URL: db.url, LEADER_TTL_MS: '1000' })));
  const ids = await Promise.all(procs.map(async (p) => (await p.waitFor((m) => m.ready === true)).schedulerId as string));
  const count = async () =>
    (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM jobplane.jobs WHERE schedule_id = $1', [schedule.id])).rows[0]!.n;
  await eventually(async () => (await count()) >= 3, 20_000);
  const leaseOwner = async (): Promise<string | null> =>
    (await db.pool.query<{ owner: string }>(`SELECT owner FROM jobplane.leader_leases WHERE name = 'scheduler'`)).rows[0]?.owner ?? null;
  // One of the three leads (not a scheduler left over from an earlier test of this file).
  const owner = await eventually(async () => {
    const o = await leaseOwner();
    return o !== null && ids.includes(o) ? o : null;
  }, 20_000);
  const leader = procs[ids.indexOf(owner)]!;
  await leader.kill();
  const before = await count();
  await eventually(async () => (await count()) >= before + 4, 20_000);
  assert.notEqual(await leaseOwner(), owner, 'another process took over');
  await Promise.all(procs.map((p) => p.stop()));
  const { rows } = await db.pool.query<{ fire_at: Date; n: number }>(
    'SELECT fire_at, count(*)::int AS n FROM jobplane.jobs WHERE schedule_id = $1 GROUP BY fire_at ORDER BY fire_at',
    [schedule.id],
  );
  assert.ok(rows.every((r) => r.n === 1), 'no fire time produced two jobs');
  const times = rows.map((r) => r.fire_at.getTime());
  for (let i = 1; i < times.length; i++) assert.equal(times[i]! - times[i - 1]!, 1000, 'no fire time was lost across the failover');
});
