import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failureRate, fillBuckets, planBuckets } from '../../src/core/stats.js';
import { testDatabase } from '../helpers/db.js';
import { as, testApp } from '../helpers/api.js';

const db = await testDatabase();
const app = await testApp(db);

interface Stats {
  windowMinutes: number;
  from: string;
  to: string;
  bucketMs: number;
  counts: Record<'queued' | 'scheduled' | 'running' | 'completed' | 'failed' | 'cancelled', number>;
  buckets: Array<{ at: string; completed: number; failed: number; started: number; latencyAvgMs: number | null; latencyP95Ms: number | null }>;
}

async function submit(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: { task: 'stats-task', queue: 'stats' } });
    assert.equal(res.statusCode, 201, res.body);
    ids.push(res.json<{ id: string }>().id);
  }
  return ids;
}

/** Move a queued job to running, started `startedAgoS` seconds ago after waiting `latencyMs` since it was created, due at once. */
async function start(id: string, startedAgoS: number, latencyMs: number): Promise<Date> {
  const { rows } = await db.pool.query<{ started_at: Date }>(
    `UPDATE jobplane.jobs SET status = 'running', worker_id = 'w-stats', attempt = 1, lease_expires_at = now() + interval '1 minute',
       started_at = now() - $2 * interval '1 second', run_at = now() - $2 * interval '1 second' - $3 * interval '1 millisecond',
       created_at = now() - $2 * interval '1 second' - $3 * interval '1 millisecond'
     WHERE id = $1 RETURNING started_at`,
    [id, startedAgoS, latencyMs],
  );
  return rows[0]!.started_at;
}

async function finish(id: string, status: 'completed' | 'failed', finishedAgoS: number): Promise<Date> {
  const { rows } = await db.pool.query<{ finished_at: Date }>(
    `UPDATE jobplane.jobs SET status = $2, lease_expires_at = NULL, finished_at = now() - $3 * interval '1 second'
     WHERE id = $1 RETURNING finished_at`,
    [id, status, finishedAgoS],
  );
  return rows[0]!.finished_at;
}

function bucketOf(stats: Stats, at: Date): Stats['buckets'][number] {
  const bucket = stats.buckets.find((b) => Date.parse(b.at) <= at.getTime() && at.getTime() < Date.parse(b.at) + stats.bucketMs);
  assert.ok(bucket, `no bucket holds ${at.toISOString()}`);
  return bucket;
}

test('counts and buckets reflect jobs started, completed, failed and cancelled in the window; viewers may read them', async () => {
  const [a, b, c, d, e] = await submit(5);
  const startedAt = await start(a!, 300, 1000);
  await start(b!, 300, 3000);
  await start(c!, 120, 500);
  const completedAt = await finish(a!, 'completed', 240);
  await finish(b!, 'failed', 240);
  await db.pool.query(`UPDATE jobplane.jobs SET status = 'cancelled', finished_at = now() WHERE id = $1`, [d]);
  // e stays queued; c stays running.
  void e;

  const res = await app.inject({ url: '/api/v1/stats', headers: as('viewer') });
  assert.equal(res.statusCode, 200, res.body);
  const stats = res.json<Stats>();
  assert.equal(stats.windowMinutes, 60);
  assert.deepEqual(stats.counts, { queued: 1, scheduled: 0, running: 1, completed: 1, failed: 1, cancelled: 1 });
  assert.ok(stats.buckets.length >= 55 && stats.buckets.length <= 65, `${stats.buckets.length} buckets`);
  assert.equal(Date.parse(stats.buckets[0]!.at), Date.parse(stats.from));
  assert.equal(Date.parse(stats.buckets.at(-1)!.at) + stats.bucketMs, Date.parse(stats.to));

  const startBucket = bucketOf(stats, startedAt);
  assert.equal(startBucket.started, 2);
  assert.equal(startBucket.latencyAvgMs, 2000);
  assert.equal(startBucket.latencyP95Ms, 2900); // percentile_cont: 1000 + 0.95 * (3000 - 1000)
  const finishBucket = bucketOf(stats, completedAt);
  assert.equal(finishBucket.completed, 1);
  assert.equal(finishBucket.failed, 1);
  const sum = (k: 'completed' | 'failed' | 'started') => stats.buckets.reduce((n, x) => n + x[k], 0);
  assert.deepEqual([sum('completed'), sum('failed'), sum('started')], [1, 1, 3]);
  assert.ok(stats.buckets.filter((x) => x.started === 0).every((x) => x.latencyAvgMs === null && x.latencyP95Ms === null));

  // A shorter window that ends before the finishes leaves them out but keeps the live counts.
  const short = (await app.inject({ url: '/api/v1/stats?windowMinutes=5', headers: as('viewer') })).json<Stats>();
  assert.equal(short.counts.running, 1);
  assert.equal(short.counts.queued, 1);
  assert.equal(short.buckets.reduce((n, x) => n + x.started, 0), 1 + (Date.parse(short.from) <= startedAt.getTime() ? 2 : 0));
});

test('another tenant sees none of these jobs', async () => {
  await submit(1);
  const res = await app.inject({ url: '/api/v1/stats?windowMinutes=1440', headers: as('other') });
  assert.equal(res.statusCode, 200, res.body);
  const stats = res.json<Stats>();
  assert.deepEqual(stats.counts, { queued: 0, scheduled: 0, running: 0, completed: 0, failed: 0, cancelled: 0 });
  assert.ok(stats.buckets.every((b) => b.completed === 0 && b.failed === 0 && b.started === 0));
});

test('a window out of range or not a number is a 400 problem; no credentials is a 401', async () => {
  for (const w of ['4', '1441', 'abc', '60.5']) {
    const res = await app.inject({ url: `/api/v1/stats?windowMinutes=${w}`, headers: as('viewer') });
    assert.equal(res.statusCode, 400, w);
    assert.match(String(res.headers['content-type']), /application\/problem\+json/);
    assert.equal(res.json<{ code: string }>().code, 'VALIDATION_FAILED', w);
  }
  const unknown = await app.inject({ url: '/api/v1/stats?window=5', headers: as('viewer') });
  assert.equal(unknown.statusCode, 400);
  assert.equal((await app.inject({ url: '/api/v1/stats' })).statusCode, 401);
});

test('buckets are aligned, cover the window and are filled with zeros', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 30, 500);
  const plan = planBuckets(60, now);
  assert.equal(plan.bucketMs, 60_000);
  assert.equal(plan.buckets, 60);
  assert.equal(plan.toMs, Date.UTC(2026, 0, 1, 12, 1));
  assert.ok(plan.fromMs <= now - 59 * 60_000 && plan.fromMs % plan.bucketMs === 0);
  const day = planBuckets(1440, now);
  assert.equal(day.bucketMs, 1_440_000);
  assert.equal(planBuckets(7, now).bucketMs, 7000);
  const filled = fillBuckets(plan, [{ index: 2, completed: 3, failed: 1, cancelled: 0, started: 4, latencyAvgMs: 10.4, latencyP95Ms: 20.6 }]);
  assert.equal(filled.length, 60);
  assert.deepEqual(filled[2], { startMs: plan.fromMs + 120_000, completed: 3, failed: 1, started: 4, latencyAvgMs: 10, latencyP95Ms: 21 });
  assert.deepEqual(filled[0], { startMs: plan.fromMs, completed: 0, failed: 0, started: 0, latencyAvgMs: null, latencyP95Ms: null });
  assert.equal(failureRate(0, 0), null);
  assert.equal(failureRate(3, 1), 0.25);
});

test('a job back-dated to 2020 counts its start latency from when it was submitted, not from its runAt', async () => {
  const res = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('other'), payload: { task: 'back-dated', runAt: '2020-01-01T00:00:00Z' } });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json<{ id: string }>().id;
  const { rows } = await db.pool.query<{ started_at: Date }>(
    `UPDATE jobplane.jobs SET status = 'running', worker_id = 'w-stats', attempt = 1, lease_expires_at = now() + interval '1 minute',
       started_at = created_at + interval '250 milliseconds' WHERE id = $1 RETURNING started_at`,
    [id],
  );
  const stats = (await app.inject({ url: '/api/v1/stats', headers: as('other') })).json<Stats>();
  const bucket = bucketOf(stats, rows[0]!.started_at);
  assert.equal(bucket.started, 1);
  assert.equal(bucket.latencyAvgMs, 250, 'the years between runAt and the submit are not waiting');
  assert.equal(bucket.latencyP95Ms, 250);
});
