import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createWorker } from '../../src/worker/worker.js';
import { testDatabase } from '../helpers/db.js';
import { as, testApp } from '../helpers/api.js';

const db = await testDatabase();
const app = await testApp(db);

test('a schedule is created with its timing in words, previewed, paused, triggered and listed with its runs', async () => {
  const created = await app.inject({ method: 'POST', url: '/api/v1/schedules', headers: as('manager'), payload: { name: 'nightly', cron: '30 2 * * *', timezone: 'Europe/Berlin', task: 'report' } });
  assert.equal(created.statusCode, 201, created.body);
  const schedule = created.json<{ id: string; describe: string; nextFireAt: string }>();
  assert.match(schedule.describe, /02:30/);
  const preview = await app.inject({ url: `/api/v1/schedules/${schedule.id}/preview?count=3`, headers: as('viewer') });
  assert.equal(preview.json<{ fireTimes: string[] }>().fireTimes.length, 3);
  const paused = await app.inject({ method: 'POST', url: `/api/v1/schedules/${schedule.id}/pause`, headers: as('manager') });
  assert.equal(paused.json<{ paused: boolean }>().paused, true);
  const trigger = await app.inject({ method: 'POST', url: `/api/v1/schedules/${schedule.id}/trigger`, headers: as('manager') });
  assert.equal(trigger.statusCode, 201);
  const runs = await app.inject({ url: `/api/v1/schedules/${schedule.id}/runs`, headers: as('viewer') });
  assert.equal(runs.json<{ runs: Array<{ reason: string; jobId: string }> }>().runs[0]!.jobId, trigger.json<{ jobId: string }>().jobId);
  const list = await app.inject({ url: '/api/v1/schedules', headers: as('viewer') });
  assert.ok(list.json<{ schedules: Array<{ name: string }> }>().schedules.some((s) => s.name === 'nightly'));
});

test('an unsaved schedule can be previewed, and never-firing or invalid crons are rejected with their codes', async () => {
  const ok = await app.inject({ method: 'POST', url: '/api/v1/schedules/preview?count=2', headers: as('viewer'), payload: { name: 'x', intervalMs: 60_000, task: 't' } });
  assert.equal(ok.json<{ fireTimes: string[] }>().fireTimes.length, 2);
  for (const [cron, code] of [['0 0 30 2 *', 'CRON_NEVER_FIRES'], ['60 * * * *', 'CRON_INVALID'], ['@reboot', 'CRON_INVALID']] as const) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/schedules', headers: as('manager'), payload: { name: `bad-${code}`, cron, task: 't' } });
    assert.equal(res.statusCode, 400, cron);
    assert.equal(res.json<{ code: string }>().code, code, cron);
  }
  const zone = await app.inject({ method: 'POST', url: '/api/v1/schedules', headers: as('manager'), payload: { name: 'z', cron: '* * * * *', timezone: 'Mars/Phobos', task: 't' } });
  assert.equal(zone.json<{ code: string }>().code, 'TIMEZONE_INVALID');
});

test('duplicate schedule names are a 409; edits change the timing; delete is 204; other tenants see 404', async () => {
  const a = await app.inject({ method: 'POST', url: '/api/v1/schedules', headers: as('manager'), payload: { name: 'dup', intervalMs: 5000, task: 't' } });
  const b = await app.inject({ method: 'POST', url: '/api/v1/schedules', headers: as('manager'), payload: { name: 'dup', intervalMs: 5000, task: 't' } });
  assert.equal(b.statusCode, 409);
  assert.equal(b.json<{ code: string }>().code, 'SCHEDULE_NAME_TAKEN');
  const id = a.json<{ id: string }>().id;
  const edited = await app.inject({ method: 'PATCH', url: `/api/v1/schedules/${id}`, headers: as('manager'), payload: { cron: '*/5 * * * *' } });
  assert.equal(edited.json<{ cron: string; intervalMs: null }>().cron, '*/5 * * * *');
  assert.equal((await app.inject({ url: `/api/v1/schedules/${id}`, headers: as('other') })).statusCode, 404);
  assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/schedules/${id}`, headers: as('manager') })).statusCode, 204);
  assert.equal((await app.inject({ url: `/api/v1/schedules/${id}`, headers: as('manager') })).statusCode, 404);
});

test('queues show counts and can be paused only by an admin; a live worker is listed', async () => {
  await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: { task: 'q-task', queue: 'mail' } });
  const byManager = await app.inject({ method: 'POST', url: '/api/v1/queues/mail/pause', headers: as('manager') });
  assert.equal(byManager.statusCode, 403);
  const paused = await app.inject({ method: 'POST', url: '/api/v1/queues/mail/pause', headers: as('admin') });
  assert.equal(paused.json<{ paused: boolean }>().paused, true);
  const limited = await app.inject({ method: 'PUT', url: '/api/v1/queues/mail/concurrency', headers: as('admin'), payload: { limit: 4 } });
  assert.equal(limited.json<{ concurrencyLimit: number }>().concurrencyLimit, 4);
  const queues = await app.inject({ url: '/api/v1/queues', headers: as('viewer') });
  const mail = queues.json<{ queues: Array<{ name: string; paused: boolean; counts: Record<string, number> }> }>().queues.find((q) => q.name === 'mail');
  assert.equal(mail?.paused, true);
  assert.equal(mail?.counts.queued, 1);
  const worker = db.track(createWorker({ pool: db.pool, tasks: { 'q-task': () => null }, zone: 'eu-1' }));
  await worker.start();
  const workers = await app.inject({ url: '/api/v1/workers', headers: as('viewer') });
  assert.ok(workers.json<{ workers: Array<{ id: string; zone: string }> }>().workers.some((w) => w.id === worker.id && w.zone === 'eu-1'));
});
