/**
 * Jobplane as five OS processes on one database — one api, two schedulers, two workers — with
 * the leading scheduler and one worker SIGKILLed mid-run. Nothing may be lost and no fire time
 * may produce two jobs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testDatabase } from '../helpers/db.js';
import { startJobplaneProcess, type JobplaneProcess } from '../helpers/jobplane-process.js';
import { eventually } from '../helpers/wait.js';

const PASSWORD = 'multi process password';
const db = await testDatabase();
// Short leases so a killed process's work moves on within seconds, not the production 15–30 s.
const env = { DATABASE_URL: db.url, JOBPLANE_ADMIN_PASSWORD: PASSWORD, JOBPLANE_LEASE: '3s', JOBPLANE_LEADER_TTL: '3s', JOBPLANE_POLL_INTERVAL: '500ms', LOG_LEVEL: 'info' };
// Workers and schedulers have no API: their probes and metrics are on an operations port.
const start = async (role: string): Promise<JobplaneProcess> => db.track(await startJobplaneProcess(env, ['--role', role, ...(role === 'api' ? [] : ['--ops-port', '0'])]));

test('api, two schedulers and two workers as separate processes lose nothing and fire no schedule twice when the leader and a worker are killed', async () => {
  const api = await start('api');
  const schedulers = [await start('scheduler'), await start('scheduler')];
  const workers = [await start('worker'), await start('worker')];
  const login = await fetch(`${api.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  const auth = { authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown): Promise<Response> => fetch(`${api.url}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });

  // A schedule that fires every second and catches up every missed fire: each fire time must
  // give exactly one job, across the failover.
  const created = await post('/api/v1/schedules', { name: 'every-second', intervalMs: 1000, task: 'noop', queue: 'ticks', misfirePolicy: 'catch-up' });
  assert.equal(created.status, 201, await created.clone().text());
  const scheduleId = ((await created.json()) as { id: string }).id;
  // Work in flight when a worker dies: 300 jobs of 300 ms each.
  const batch = await post('/api/v1/jobs/batch', { jobs: Array.from({ length: 300 }, (_, i) => ({ task: 'sleep', queue: 'work', payload: { ms: 300 }, idempotencyKey: `work-${i}` })) });
  assert.equal(batch.status, 201);

  // Kill the scheduler that holds the leader lease, and a worker that holds jobs.
  const leader = await eventually(async () => {
    const { rows } = await db.pool.query<{ owner: string }>(`SELECT owner FROM jobplane.leader_leases WHERE name = 'scheduler' AND expires_at > now()`);
    return schedulers.find((s) => s.schedulerId === rows[0]?.owner) ?? null;
  }, 15_000, 100);
  await eventually(async () => {
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE status = 'running' AND worker_id = $1`, [workers[0]!.workerId]);
    return rows[0]!.n > 0;
  }, 15_000, 20);
  const firedBeforeKill = (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.schedule_runs WHERE schedule_id = $1`, [scheduleId])).rows[0]!.n;
  await Promise.all([leader.kill(), workers[0]!.kill()]);
  const survivor = schedulers.find((s) => s !== leader)!;

  // The other scheduler takes over and the schedule keeps firing; every job finishes.
  await eventually(async () => {
    const { rows } = await db.pool.query<{ owner: string }>(`SELECT owner FROM jobplane.leader_leases WHERE name = 'scheduler' AND expires_at > now()`);
    return rows[0]?.owner === survivor.schedulerId;
  }, 20_000, 100);
  await eventually(async () => {
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.schedule_runs WHERE schedule_id = $1`, [scheduleId]);
    return rows[0]!.n >= firedBeforeKill + 5;
  }, 20_000, 200);
  await eventually(async () => {
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE queue = 'work' AND status = 'completed'`);
    return rows[0]!.n === 300;
  }, 60_000, 200);

  // Nothing lost: all 300 completed, none failed; the killed worker's jobs ran again elsewhere.
  const { rows: work } = await db.pool.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM jobplane.jobs WHERE queue = 'work' GROUP BY status`);
  assert.deepEqual(work, [{ status: 'completed', n: 300 }]);
  const { rows: rescued } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE queue = 'work' AND errors @> '[{"kind":"lease-expired"}]'`);
  assert.ok(rescued[0]!.n > 0, 'some jobs were held by the killed worker and rescued');

  // Every fire time, before, during and after the failover, one second apart, one job each.
  const { rows: fires } = await db.pool.query<{ fireAt: Date; jobs: number }>(
    `SELECT r.fire_at AS "fireAt", (SELECT count(*)::int FROM jobplane.jobs j WHERE j.schedule_id = r.schedule_id AND j.fire_at = r.fire_at) AS jobs
     FROM jobplane.schedule_runs r WHERE r.schedule_id = $1 ORDER BY r.fire_at`,
    [scheduleId],
  );
  assert.ok(fires.length >= firedBeforeKill + 5);
  assert.deepEqual(fires.filter((f) => f.jobs !== 1), [], 'each fire time has exactly one job');
  for (let i = 1; i < fires.length; i++) {
    assert.equal(fires[i]!.fireAt.getTime() - fires[i - 1]!.fireAt.getTime(), 1000, `no fire time lost around ${fires[i]!.fireAt.toISOString()}`);
  }

  // The surviving scheduler and worker answer probes and show their own work in /metrics.
  for (const p of [survivor, workers[1]!]) {
    assert.ok(p.opsUrl, 'the operations listener is announced');
    assert.equal((await fetch(`${p.opsUrl}/healthz`)).status, 200);
    const ready = await fetch(`${p.opsUrl}/readyz`);
    assert.equal(ready.status, 200, await ready.clone().text());
    const api404 = await fetch(`${p.opsUrl}/api/v1/jobs`);
    assert.equal(api404.status, 404, 'no tenant data on the operations port');
    assert.equal(api404.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  }
  const metric = async (p: JobplaneProcess, name: string): Promise<number> => {
    const text = await (await fetch(`${p.opsUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return Number(line?.split(' ')[1] ?? NaN);
  };
  assert.ok((await metric(workers[1]!, 'jobplane_claimed_jobs_total')) > 0, 'the worker counted its claims');
  // The surviving worker stands by as a maintenance candidate too, and may have led for the moment
  // between the old lease's expiry and the scheduler's takeover: together they counted the rescues.
  const rescues = ((await metric(survivor, 'jobplane_lease_expiries_total')) || 0) + ((await metric(workers[1]!, 'jobplane_lease_expiries_total')) || 0);
  assert.ok(rescues > 0, 'the leaders after the kill counted the jobs they rescued');
  await Promise.all([api, survivor, workers[1]!].map((p) => p.stop()));
});
