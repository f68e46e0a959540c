import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testDatabase } from '../helpers/db.js';
import { as, testApp } from '../helpers/api.js';

const db = await testDatabase();
const app = await testApp(db);

interface Preview {
  fireTimes: string[];
  describe: string;
  timezone: string;
}

test('an unsaved cron spec is previewed with its timing in words and its time zone', async () => {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/schedules/preview?count=4',
    headers: as('viewer'),
    payload: { name: 'draft', task: 't', cron: '30 2 * * *', timezone: 'Europe/Berlin' },
  });
  assert.equal(res.statusCode, 200, res.body);
  const preview = res.json<Preview>();
  assert.equal(preview.timezone, 'Europe/Berlin');
  assert.match(preview.describe, /02:30/);
  assert.match(preview.describe, /Europe\/Berlin/);
  assert.equal(preview.fireTimes.length, 4);
  // Every fire time is 02:30 on the wall clock in Berlin, one day apart.
  const wall = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  for (const t of preview.fireTimes) assert.equal(wall.format(new Date(t)), '02:30', t);
  const sorted = [...preview.fireTimes].sort();
  assert.deepEqual(preview.fireTimes, sorted);
});

test('an unsaved interval spec is described in words and defaults to UTC', async () => {
  const res = await app.inject({ method: 'POST', url: '/api/v1/schedules/preview?count=2', headers: as('viewer'), payload: { name: 'draft', task: 't', intervalMs: 300_000 } });
  assert.equal(res.statusCode, 200, res.body);
  const preview = res.json<Preview>();
  assert.equal(preview.describe, 'Every 5 minutes');
  assert.equal(preview.timezone, 'UTC');
  assert.equal(preview.fireTimes.length, 2);
  assert.equal(Date.parse(preview.fireTimes[1]!) - Date.parse(preview.fireTimes[0]!), 300_000);
});

test('the describe of a preview matches the saved schedule view, and the saved preview answers it too', async () => {
  const spec = { name: 'every-five', task: 't', cron: ' */5 * * * * ', timezone: 'America/New_York' };
  const draft = (await app.inject({ method: 'POST', url: '/api/v1/schedules/preview', headers: as('viewer'), payload: spec })).json<Preview>();
  assert.equal(draft.fireTimes.length, 10);
  const created = await app.inject({ method: 'POST', url: '/api/v1/schedules', headers: as('manager'), payload: spec });
  assert.equal(created.statusCode, 201, created.body);
  const schedule = created.json<{ id: string; describe: string; timezone: string }>();
  assert.equal(draft.describe, schedule.describe);
  const saved = await app.inject({ url: `/api/v1/schedules/${schedule.id}/preview?count=3`, headers: as('viewer') });
  assert.equal(saved.statusCode, 200, saved.body);
  const preview = saved.json<Preview>();
  assert.equal(preview.describe, schedule.describe);
  assert.equal(preview.timezone, 'America/New_York');
  assert.equal(preview.fireTimes.length, 3);
  for (const t of preview.fireTimes) assert.equal(new Date(t).getUTCMinutes() % 5, 0, t);
  const interval = await app.inject({ method: 'PATCH', url: `/api/v1/schedules/${schedule.id}`, headers: as('manager'), payload: { intervalMs: 90_000 } });
  assert.equal(interval.statusCode, 200, interval.body);
  const after = (await app.inject({ url: `/api/v1/schedules/${schedule.id}/preview?count=1`, headers: as('viewer') })).json<Preview>();
  assert.equal(after.describe, 'Every 90 seconds');
});

test('invalid crons and zones in a preview are 400 problems with their codes', async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ cron: '0 0 30 2 *' }, 'CRON_NEVER_FIRES'],
    [{ cron: '60 * * * *' }, 'CRON_INVALID'],
    [{ cron: 'every day' }, 'CRON_INVALID'],
    [{ cron: '* * * * *', timezone: 'Mars/Phobos' }, 'TIMEZONE_INVALID'],
    [{ intervalMs: 60_000, timezone: 'Not a zone' }, 'TIMEZONE_INVALID'],
  ];
  for (const [timing, code] of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/schedules/preview', headers: as('viewer'), payload: { name: 'draft', task: 't', ...timing } });
    assert.equal(res.statusCode, 400, `${JSON.stringify(timing)}: ${res.body}`);
    const problem = res.json<{ code: string; detail: string }>();
    assert.equal(problem.code, code, JSON.stringify(timing));
    assert.ok(problem.detail.length > 0);
  }
  const never = await app.inject({ method: 'POST', url: '/api/v1/schedules/preview', headers: as('viewer'), payload: { name: 'draft', task: 't', cron: '0 0 30 2 *' } });
  assert.match(never.json<{ detail: string }>().detail, /never fire/);
});

test('a preview of another tenant’s schedule is a 404 and needs a login', async () => {
  const created = await app.inject({ method: 'POST', url: '/api/v1/schedules', headers: as('manager'), payload: { name: 'mine', task: 't', intervalMs: 60_000 } });
  const id = created.json<{ id: string }>().id;
  assert.equal((await app.inject({ url: `/api/v1/schedules/${id}/preview`, headers: as('other') })).statusCode, 404);
  assert.equal((await app.inject({ url: `/api/v1/schedules/${id}/preview` })).statusCode, 401);
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/schedules/preview', payload: { name: 'draft', task: 't', intervalMs: 60_000 } })).statusCode, 401);
});
