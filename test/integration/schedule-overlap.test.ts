import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/deps.js';
import { createSchedule, readScheduleRuns } from '../../src/engine/schedule-service.js';
import { CronEnqueuer } from '../../src/scheduler/cron-enqueuer.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const actor = { tenantId: null };
const enqueuer = new CronEnqueuer(db.pool, silentLogger);

interface JobRow { id: string; fire_at: Date; status: string }

async function jobsOf(scheduleId: string): Promise<JobRow[]> {
  const { rows } = await db.pool.query<JobRow>('SELECT id, fire_at, status FROM jobplane.jobs WHERE schedule_id = $1 ORDER BY fire_at', [scheduleId]);
  return rows;
}

async function runsOf(scheduleId: string): Promise<Array<{ fireAt: Date; outcome: string; reason: string; jobId: string | null }>> {
  return (await readScheduleRuns(db.pool, actor, scheduleId, { limit: 1000 })).reverse();
}

/** Run one enqueuer pass, then read the schedule's jobs and runs. */
async function fire(scheduleId: string): Promise<{ jobs: JobRow[]; runs: Awaited<ReturnType<typeof runsOf>> }> {
  await enqueuer.runOnce();
  return { jobs: await jobsOf(scheduleId), runs: await runsOf(scheduleId) };
}

/** An every-second schedule whose last four fire times (three seconds ago up to now) are due and within the grace. */
async function dueEverySecond(name: string, overlapPolicy: string): Promise<string> {
  const schedule = await createSchedule(db.pool, actor, { name, cron: '* * * * * *', task: 'noop', queue: `overlap-${name}`, overlapPolicy, misfireGraceMs: 60_000 });
  await db.pool.query(`UPDATE jobplane.schedules SET next_fire_at = date_trunc('second', now()) - interval '3 seconds' WHERE id = $1`, [schedule.id]);
  return schedule.id;
}

async function stateOf(scheduleId: string): Promise<{ pending: Date | null; last: Date | null; next: Date | null }> {
  const { rows } = await db.pool.query<{ pending: Date | null; last: Date | null; next: Date | null }>(
    'SELECT pending_fire_at AS pending, last_fire_at AS last, next_fire_at AS next FROM jobplane.schedules WHERE id = $1',
    [scheduleId],
  );
  return rows[0]!;
}

test('overlap allow: every due fire time within the grace becomes its own job', async () => {
  const id = await dueEverySecond('allow', 'allow');
  const { jobs, runs } = await fire(id);
  assert.ok(jobs.length >= 4, `four or more fires, got ${jobs.length}`);
  assert.deepEqual(runs.map((r) => r.outcome), jobs.map(() => 'enqueued'));
  assert.deepEqual(runs.map((r) => r.jobId), jobs.map((j) => j.id));
  assert.ok(runs.every((r) => r.reason === 'on-time'));
  const state = await stateOf(id);
  assert.equal(state.last?.getTime(), jobs.at(-1)!.fire_at.getTime());
  assert.ok(state.next! > state.last);
});

test('overlap skip: while the first fire is still queued, later fire times are recorded as skipped', async () => {
  const id = await dueEverySecond('skip', 'skip');
  const { jobs, runs } = await fire(id);
  assert.equal(jobs.length, 1);
  assert.ok(runs.length >= 4);
  assert.equal(runs[0]!.jobId, jobs[0]!.id);
  for (const run of runs.slice(1)) {
    assert.equal(run.outcome, 'skipped');
    assert.equal(run.reason, 'overlap: the previous run is still active');
  }
  // The next pass, with the job still queued, skips again.
  await db.pool.query(`UPDATE jobplane.schedules SET next_fire_at = date_trunc('second', now()) WHERE id = $1`, [id]);
  await enqueuer.runOnce();
  assert.equal((await jobsOf(id)).length, 1);
});

test('overlap queue-one: one later fire is buffered and enqueued once the active run has finished', async () => {
  const id = await dueEverySecond('queue-one', 'queue-one');
  const { jobs, runs } = await fire(id);
  assert.equal(jobs.length, 1);
  const state = await stateOf(id);
  assert.ok(state.pending, 'a fire is buffered');
  const replaced = runs.filter((r) => r.reason === 'overlap: replaced by a newer buffered fire');
  assert.equal(replaced.length, runs.length - 1, 'every fire between the first and the buffered one is recorded as replaced');
  assert.ok(state.pending > runs.at(-1)!.fireAt);

  // While the first job is still queued, the buffer stays.
  await enqueuer.runOnce();
  assert.equal((await jobsOf(id)).length, 1);

  await db.pool.query(`UPDATE jobplane.jobs SET status = 'cancelled', finished_at = now() WHERE id = $1`, [jobs[0]!.id]);
  await db.pool.query(`UPDATE jobplane.schedules SET next_fire_at = now() + interval '1 hour' WHERE id = $1`, [id]);
  await enqueuer.runOnce();
  const after = await jobsOf(id);
  assert.equal(after.length, 2);
  assert.equal(after[1]!.fire_at.getTime(), state.pending.getTime());
  const buffered = (await runsOf(id)).find((r) => r.jobId === after[1]!.id);
  assert.equal(buffered?.reason, 'overlap-buffered');
  assert.equal((await stateOf(id)).pending, null);
});

test('overlap cancel-previous: each fire cancels the still-waiting job of the one before', async () => {
  const id = await dueEverySecond('cancel-previous', 'cancel-previous');
  await enqueuer.runOnce();
  const jobs = await jobsOf(id);
  assert.ok(jobs.length >= 4);
  assert.deepEqual(jobs.map((j) => j.status), [...jobs.slice(1).map(() => 'cancelled'), 'queued']);
});

test('catch-up after an outage enqueues the latest missed fire times, up to catchUpMax', async () => {
  const schedule = await createSchedule(db.pool, actor, { name: 'catch-up', cron: '* * * * *', task: 'noop', queue: 'overlap-catch-up', misfirePolicy: 'catch-up', catchUpMax: 3, misfireGraceMs: 1000 });
  await db.pool.query(`UPDATE jobplane.schedules SET next_fire_at = date_trunc('minute', now()) - interval '10 minutes' WHERE id = $1`, [schedule.id]);
  await enqueuer.runOnce();
  const runs = await runsOf(schedule.id);
  const enqueued = runs.filter((r) => r.outcome === 'enqueued');
  assert.ok(enqueued.length === 3 || enqueued.length === 4, `three catch-up fires (plus maybe the current minute), got ${enqueued.length}`);
  assert.ok(enqueued.slice(0, 3).every((r) => r.reason === 'catch-up'));
  assert.ok(runs.filter((r) => r.outcome === 'skipped').every((r) => r.reason.startsWith('misfire:')));
  assert.equal((await jobsOf(schedule.id)).length, enqueued.length);
});

test('more due schedules than one batch holds are all fired in one pass, each fire time once, even by two enqueuers at once', async () => {
  await db.pool.query('UPDATE jobplane.schedules SET paused = true');
  const template = await createSchedule(db.pool, actor, { name: 'many-0', cron: '* * * * *', task: 'noop', queue: 'overlap-many' });
  await db.pool.query(
    `INSERT INTO jobplane.schedules (id, tenant_id, name, cron, timezone, anchor_at, task, queue, payload, job_options, next_fire_at)
     SELECT gen_random_uuid(), tenant_id, 'many-' || i, cron, timezone, anchor_at, task, queue, payload, job_options, next_fire_at
     FROM jobplane.schedules, generate_series(1, 1499) i WHERE id = $1`,
    [template.id],
  );
  await db.pool.query(`UPDATE jobplane.schedules SET next_fire_at = date_trunc('minute', now()) WHERE name LIKE 'many-%'`);
  const other = new CronEnqueuer(db.pool, silentLogger);
  const [a, b] = await Promise.all([enqueuer.runOnce(), other.runOnce()]);
  assert.ok(a + b >= 1500, `created ${a + b}`);
  const { rows } = await db.pool.query<{ jobs: number; runs: number; fires: number; next_later: number }>(
    `SELECT (SELECT count(*)::int FROM jobplane.jobs j JOIN jobplane.schedules s ON s.id = j.schedule_id WHERE s.name LIKE 'many-%') AS jobs,
            (SELECT count(*)::int FROM jobplane.schedule_runs r JOIN jobplane.schedules s ON s.id = r.schedule_id WHERE s.name LIKE 'many-%') AS runs,
            (SELECT count(DISTINCT (j.schedule_id, j.fire_at))::int FROM jobplane.jobs j JOIN jobplane.schedules s ON s.id = j.schedule_id WHERE s.name LIKE 'many-%') AS fires,
            (SELECT count(*)::int FROM jobplane.schedules WHERE name LIKE 'many-%' AND next_fire_at > now()) AS next_later`,
  );
  const counts = rows[0]!;
  // Normally 1,500 of each; a minute that turns during the pass adds its fires too.
  assert.ok(counts.jobs >= 1500);
  assert.deepEqual(counts, { jobs: a + b, runs: a + b, fires: a + b, next_later: 1500 }, 'each fire time is one run and one job');
});
