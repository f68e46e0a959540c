import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/deps.js';
import { createSchedule } from '../../src/engine/schedule-service.js';
import { CronEnqueuer } from '../../src/scheduler/cron-enqueuer.js';
import { testDatabase } from '../helpers/db.js';
import { eventually } from '../helpers/wait.js';

const db = await testDatabase();
const actor = { tenantId: null };
// A lead far longer than preparing a few hundred schedules takes, even on a loaded machine.
const LEAD = { minLeadMs: 1500 };
const THIS_DATABASE = `l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/** `n` schedules firing every minute from the returned time, `inMs` from now (database clock, whole ms), named `<prefix>-i`. */
async function manyDueSoon(prefix: string, n: number, inMs: number): Promise<Date> {
  await db.pool.query('UPDATE jobplane.schedules SET paused = true');
  const template = await createSchedule(db.pool, actor, { name: `${prefix}-0`, intervalMs: 60_000, task: 'noop', queue: `ahead-${prefix}` });
  await db.pool.query(
    `INSERT INTO jobplane.schedules (id, tenant_id, name, interval_ms, timezone, anchor_at, task, queue, payload, job_options, next_fire_at)
     SELECT gen_random_uuid(), tenant_id, $2 || '-' || i, interval_ms, timezone, anchor_at, task, queue, payload, job_options, next_fire_at
     FROM jobplane.schedules, generate_series(1, $3::int - 1) i WHERE id = $1`,
    [template.id, prefix, n],
  );
  const { rows } = await db.pool.query<{ at: Date }>(
    `UPDATE jobplane.schedules SET next_fire_at = date_trunc('milliseconds', clock_timestamp()) + $2 * interval '1 millisecond'
     WHERE name LIKE $1 || '-%' RETURNING next_fire_at AS at`,
    [prefix, inMs],
  );
  // One statement, one clock reading per row: use the latest.
  const at = new Date(Math.max(...rows.map((r) => r.at.getTime())));
  await db.pool.query(`UPDATE jobplane.schedules SET next_fire_at = $2, anchor_at = $2 WHERE name LIKE $1 || '-%'`, [prefix, at]);
  return at;
}

async function visibleJobs(queue: string): Promise<{ jobs: number; clock: Date }> {
  const { rows } = await db.pool.query<{ jobs: number; clock: Date }>(
    'SELECT (SELECT count(*)::int FROM jobplane.jobs WHERE queue = $1) AS jobs, clock_timestamp() AS clock',
    [queue],
  );
  return rows[0]!;
}

test('a fire prepared ahead becomes visible all at once at its fire time, not before, with the fire time as due and created time', async () => {
  const enqueuer = new CronEnqueuer(db.pool, silentLogger, undefined, undefined, LEAD);
  const at = await manyDueSoon('visible', 500, 1000);
  let done = false;
  const running = enqueuer.runOnce().finally(() => (done = true));
  const seen: Array<{ jobs: number; clock: Date }> = [];
  while (!done) seen.push(await visibleJobs('ahead-visible'));
  assert.equal(await running, 500);
  const before = seen.filter((s) => s.clock < at);
  assert.ok(before.length > 0, 'the test looked before the fire time');
  assert.ok(before.every((s) => s.jobs === 0), 'no job is visible before its fire time');
  assert.equal((await visibleJobs('ahead-visible')).jobs, 500);
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM jobplane.jobs WHERE queue = 'ahead-visible' AND run_at = $1 AND created_at = $1 AND fire_at = $1 AND status = 'queued'`,
    [at],
  );
  assert.equal(rows[0]!.n, 500);
});

test('when the prepared transaction dies before the fire time, nothing was written and the next pass makes the fire once', async () => {
  const enqueuer = new CronEnqueuer(db.pool, silentLogger, undefined, undefined, LEAD);
  await manyDueSoon('killed', 300, 1000);
  let done = false;
  const running = enqueuer.runOnce().finally(() => (done = true));
  // Kill the backend that holds the prepared fire while it waits for the fire time.
  let killed = 0;
  while (killed === 0 && !done) {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(l.pid))::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
       WHERE ${THIS_DATABASE} AND c.relname = 'schedule_runs' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()`,
    );
    killed = rows[0]!.n;
  }
  assert.ok(killed > 0, 'the transaction holding the prepared fire was found and killed');
  await assert.rejects(running);
  assert.equal((await visibleJobs('ahead-killed')).jobs, 0);
  // Passes before the fire time make nothing (the prepared attempt is not retried); the first pass after it makes the fire.
  assert.equal(await eventually(async () => (await enqueuer.runOnce()) || null, 10_000, 10), 300);
  const { rows } = await db.pool.query<{ n: number; fires: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT (schedule_id, fire_at))::int AS fires FROM jobplane.jobs WHERE queue = 'ahead-killed'`,
  );
  assert.deepEqual(rows[0], { n: 300, fires: 300 });
});

test('a pause arriving while a fire is prepared waits for that fire and then stops the next ones', async () => {
  const enqueuer = new CronEnqueuer(db.pool, silentLogger, undefined, undefined, LEAD);
  const at = await manyDueSoon('paused', 300, 1000);
  let done = false;
  const running = enqueuer.runOnce().finally(() => (done = true));
  // Wait until the enqueuer holds the schedules, then pause them all.
  let held = false;
  while (!done && !held) {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE ${THIS_DATABASE} AND c.relname = 'schedule_runs' AND l.pid <> pg_backend_pid()`,
    );
    held = rows[0]!.n > 0;
  }
  assert.ok(held, 'the pause was sent while the enqueuer held the prepared fire');
  const paused = await db.pool.query<{ clock: Date }>(`UPDATE jobplane.schedules SET paused = true WHERE name LIKE 'paused-%' RETURNING clock_timestamp() AS clock`);
  assert.ok(paused.rows.every((r) => r.clock >= at), 'the pause waited for the fire time');
  assert.equal(await running, 300);
  assert.equal((await visibleJobs('ahead-paused')).jobs, 300);
  assert.equal(await new CronEnqueuer(db.pool, silentLogger).runOnce(), 0, 'nothing more fires once paused');
});
