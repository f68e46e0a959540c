import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSchedule, previewSchedule, readScheduleRuns, setSchedulePaused, triggerSchedule } from '../../src/engine/schedule-service.js';
import { createScheduler } from '../../src/scheduler/scheduler.js';
import { addJobs } from '../../src/engine/submit.js';
import { claimJobs } from '../../src/db/queries/jobs.js';
import { testDatabase } from '../helpers/db.js';
import { eventually } from '../helpers/wait.js';

const db = await testDatabase();
const actor = { tenantId: null };

async function jobsOf(scheduleId: string): Promise<Array<{ fire_at: Date; status: string }>> {
  const { rows } = await db.pool.query<{ fire_at: Date; status: string }>(
    'SELECT fire_at, status FROM jobplane.jobs WHERE schedule_id = $1 ORDER BY fire_at',
    [scheduleId],
  );
  return rows;
}

test('only one of two schedulers is leader, and the other takes over when it stops', async () => {
  const a = db.track(createScheduler({ pool: db.pool, leaderTtlMs: 2000 }));
  const b = db.track(createScheduler({ pool: db.pool, leaderTtlMs: 2000 }));
  const first = await a.runOnce();
  const second = await b.runOnce();
  assert.equal(first.leader, true);
  assert.equal(second.leader, false);
  await a.stop();
  assert.equal((await b.runOnce()).leader, true);
  await b.stop();
});

test('an every-second schedule yields exactly one job per fire time', async () => {
  const schedule = await createSchedule(db.pool, actor, { name: 'tick', cron: '* * * * * *', task: 'noop', queue: 'sched-q' });
  const scheduler = db.track(createScheduler({ pool: db.pool, tickMs: 100 }));
  await scheduler.start();
  const jobs = await eventually(async () => {
    const rows = await jobsOf(schedule.id);
    return rows.length >= 3 ? rows : null;
  });
  await scheduler.stop();
  const seconds = jobs.map((j) => j.fire_at.getTime());
  assert.equal(new Set(seconds).size, seconds.length, 'no fire time twice');
  for (let i = 1; i < seconds.length; i++) assert.equal(seconds[i]! - seconds[i - 1]!, 1000, 'no fire time skipped');
});

test('preview lists the next fire times in the schedule time zone', async () => {
  const times = await previewSchedule(db.pool, actor, { spec: { name: 'p', cron: '30 2 * * *', timezone: 'Europe/Berlin', task: 'noop' } }, 3);
  assert.equal(times.length, 3);
  for (const t of times) assert.match(t.toISOString(), /T0[01]:30:00\.000Z$/);
});

test('trigger now creates a job at once and records the run as manual', async () => {
  const schedule = await createSchedule(db.pool, actor, { name: 'manual', cron: '0 0 1 1 *', task: 'noop' });
  const { jobId } = await triggerSchedule(db.pool, actor, schedule.id);
  const runs = await readScheduleRuns(db.pool, actor, schedule.id);
  assert.equal(runs[0]!.jobId, jobId);
  assert.equal(runs[0]!.reason, 'manual');
});

test('a paused schedule does not fire', async () => {
  const schedule = await createSchedule(db.pool, actor, { name: 'paused', cron: '* * * * * *', task: 'noop' });
  await setSchedulePaused(db.pool, actor, schedule.id, true);
  const scheduler = db.track(createScheduler({ pool: db.pool }));
  await db.pool.query(`UPDATE jobplane.schedules SET next_fire_at = now() - interval '5 seconds' WHERE id = $1`, [schedule.id]);
  await scheduler.runOnce();
  assert.equal((await jobsOf(schedule.id)).length, 0);
  await scheduler.stop();
});

test('after an outage, run-once fires the latest missed time once and records the skipped ones', async () => {
  const schedule = await createSchedule(db.pool, actor, { name: 'outage', cron: '* * * * *', task: 'noop', misfireGraceMs: 1000 });
  await db.pool.query(`UPDATE jobplane.schedules SET next_fire_at = date_trunc('minute', now()) - interval '10 minutes' WHERE id = $1`, [schedule.id]);
  const scheduler = db.track(createScheduler({ pool: db.pool }));
  await scheduler.runOnce();
  await scheduler.stop();
  const jobs = await jobsOf(schedule.id);
  assert.ok(jobs.length === 1 || jobs.length === 2, `one catch-up fire (plus maybe the current minute), got ${jobs.length}`);
  const runs = await readScheduleRuns(db.pool, actor, schedule.id, { limit: 100 });
  assert.ok(runs.filter((r) => r.outcome === 'skipped').length >= 8);
});

test('a worker lease that expired is rescued back to the queue by the leader', async () => {
  await db.pool.query(`INSERT INTO jobplane.jobs (id, tenant_id, queue, task, status, attempt, worker_id, lease_token, lease_expires_at, started_at)
    VALUES ('01900000-0000-7000-8000-00000000abcd', '00000000-0000-7000-8000-000000000001', 'rescue', 'noop', 'running', 1, 'ghost', 1, now() - interval '1 second', now())`);
  const scheduler = db.track(createScheduler({ pool: db.pool }));
  await scheduler.runOnce();
  await scheduler.stop();
  const { rows } = await db.pool.query<{ status: string; lease_token: string; errors: Array<{ kind: string }> }>(
    `SELECT status, lease_token, errors FROM jobplane.jobs WHERE id = '01900000-0000-7000-8000-00000000abcd'`,
  );
  assert.equal(rows[0]!.status, 'queued');
  assert.equal(rows[0]!.lease_token, '2');
  assert.equal(rows[0]!.errors[0]!.kind, 'lease-expired');
});

test('a rescued job keeps its place in line: it runs before a backlog that became due after it', async () => {
  const [first] = await addJobs(db.pool, [{ task: 'noop', queue: 'rescue-line' }]);
  const claimed = await claimJobs(db.pool, { workerId: 'doomed', tasks: ['noop'], queues: ['rescue-line'], tenantId: null, zone: null }, 1, 60_000);
  assert.deepEqual(claimed.map((j) => j.id), [first!.id]);
  // Two thousand jobs arrive behind it while its worker is dead.
  await addJobs(db.pool, Array.from({ length: 2000 }, () => ({ task: 'noop', queue: 'rescue-line' })));
  await db.pool.query(`UPDATE jobplane.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [first!.id]);
  const scheduler = db.track(createScheduler({ pool: db.pool }));
  await scheduler.runOnce();
  await scheduler.stop();
  const next = await claimJobs(db.pool, { workerId: 'survivor', tasks: ['noop'], queues: ['rescue-line'], tenantId: null, zone: null }, 1, 60_000);
  assert.deepEqual(next.map((j) => j.id), [first!.id], 'the rescued job is claimed first, not after the backlog');
  assert.equal(next[0]!.attempt, 2);
});

test('a standby candidate (a worker process) leads only until a scheduler process claims the lease', async () => {
  await db.pool.query(`DELETE FROM jobplane.leader_leases WHERE name = 'scheduler'`);
  const standby = db.track(createScheduler({ pool: db.pool, standby: true }));
  const full = db.track(createScheduler({ pool: db.pool }));
  assert.equal((await standby.runOnce()).leader, true, 'alone, the standby leads');
  assert.equal((await full.runOnce()).leader, true, 'the scheduler takes the lease over at once');
  assert.equal((await standby.runOnce()).leader, false, 'the standby finds out at its next renewal');
  assert.equal((await full.runOnce()).leader, true);
  assert.equal((await standby.runOnce()).leader, false, 'and cannot take it back while the scheduler renews');
  const other = db.track(createScheduler({ pool: db.pool }));
  assert.equal((await other.runOnce()).leader, false, 'a second scheduler does not preempt the first');
  await full.stop();
  assert.equal((await standby.runOnce()).leader, true, 'when the scheduler hands the lease back, the standby may lead again');
  await Promise.all([standby.stop(), other.stop()]);
});
