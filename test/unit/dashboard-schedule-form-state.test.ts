import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLANK, fromSchedule, intervalMsOf, scheduleBody } from '../../dashboard/src/schedule-form-state.js';
import type { ApiSchedule as Schedule } from '../../src/client/client.js';

test('an interval form reads "every 90 seconds" as 90,000 ms, and a non-number as NaN (the API refuses it with a pointer)', () => {
  assert.equal(intervalMsOf({ every: '90', unit: 'seconds' }), 90_000);
  assert.equal(intervalMsOf({ every: '1.5', unit: 'hours' }), 5_400_000);
  assert.ok(Number.isNaN(intervalMsOf({ every: 'soon', unit: 'minutes' })));
  assert.ok(Number.isNaN(intervalMsOf({ every: ' ', unit: 'minutes' })));
});

test('the body carries only the fields the chosen timing and policies use, and keeps job options the form has no field for', () => {
  const body = scheduleBody({ ...BLANK, name: ' nightly ', task: 'http', kind: 'interval', every: '2', unit: 'minutes', timezone: '', graceS: '', timeoutS: '30', otherJobOptions: { labels: { team: 'a' } } }, { url: 'x' });
  assert.equal(body.name, 'nightly');
  assert.equal(body.intervalMs, 120_000);
  assert.equal('cron' in body, false);
  assert.equal(body.timezone, 'UTC');
  assert.equal('misfireGraceMs' in body, false, 'an empty grace means the default');
  assert.equal('catchUpMax' in body, false, 'only catch-up sends catchUpMax');
  assert.deepEqual(body.jobOptions, { labels: { team: 'a' }, timeoutMs: 30_000 });
  assert.equal(scheduleBody({ ...BLANK, kind: 'cron', cron: ' 0 2 * * * ', misfirePolicy: 'catch-up', catchUpMax: '3' }, {}).cron, '0 2 * * *');
});

test('a schedule read back into the form and submitted again gives the same timing and options', () => {
  const schedule = {
    name: 'n', description: null, cron: null, intervalMs: 7_200_000, timezone: 'Europe/Berlin', task: 't', queue: 'q', payload: { a: 1 },
    misfirePolicy: 'skip', catchUpMax: 10, overlapPolicy: 'allow', misfireGraceMs: 60_000, paused: true, jobOptions: { priority: 5, backoff: { type: 'fixed' } },
  } as unknown as Schedule;
  const form = fromSchedule(schedule);
  assert.equal(form.every, '2');
  assert.equal(form.unit, 'hours');
  const body = scheduleBody(form, schedule.payload);
  assert.equal(body.intervalMs, 7_200_000);
  assert.equal(body.misfireGraceMs, 60_000);
  assert.deepEqual(body.jobOptions, { priority: 5, backoff: { type: 'fixed' } });
});
