import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { compileCron } from '../../src/core/cron/index.js';
import {
  nextFireAfter, planFires, previewFires, validateInterval,
  type FirePlanInput, type MisfirePolicy, type ScheduleTiming,
} from '../../src/core/schedule-plan.js';
import { isAppError } from '../../src/errors/index.js';

const at = (text: string): Date => new Date(text);
const hhmm = (dates: Date[]): string[] => dates.map((d) => d.toISOString().slice(11, 16));
const cron = (expression: string, zone = 'UTC'): ScheduleTiming => ({ kind: 'cron', cron: compileCron(expression, zone) });
const everyMinute = cron('* * * * *');

/** Eleven due minutes, 11:50 … 12:00; with a 90 s grace, 11:59 and 12:00 are on time and 11:50 … 11:58 misfired. */
function outage(misfirePolicy: MisfirePolicy, catchUpMax = 3): FirePlanInput {
  return { timing: everyMinute, dueFrom: at('2026-05-01T11:50:00Z'), now: at('2026-05-01T12:00:30Z'), misfirePolicy, catchUpMax, misfireGraceMs: 90_000 };
}

test('skip enqueues only the on-time fires and records the misfired ones as skipped', () => {
  const plan = planFires(outage('skip'));
  assert.deepEqual(hhmm(plan.fires), ['11:59', '12:00']);
  assert.equal(plan.skipped.count, 9);
  assert.equal(plan.skipped.countIsLowerBound, false);
  assert.equal(plan.skipped.first?.toISOString(), '2026-05-01T11:50:00.000Z');
  assert.equal(plan.skipped.last?.toISOString(), '2026-05-01T11:58:00.000Z');
  assert.deepEqual(hhmm(plan.skipped.sample), ['11:50', '11:51', '11:52', '11:53', '11:54', '11:55', '11:56', '11:57', '11:58']);
  assert.equal(plan.nextFireAt?.toISOString(), '2026-05-01T12:01:00.000Z');
});

test('run-once enqueues the latest misfired fire and skips the older ones', () => {
  const plan = planFires(outage('run-once'));
  assert.deepEqual(hhmm(plan.fires), ['11:58', '11:59', '12:00']);
  assert.equal(plan.skipped.count, 8);
  assert.equal(plan.skipped.first?.toISOString(), '2026-05-01T11:50:00.000Z');
  assert.equal(plan.skipped.last?.toISOString(), '2026-05-01T11:57:00.000Z');
});

test('catch-up enqueues the latest catchUpMax misfired fires and skips the older ones', () => {
  const plan = planFires(outage('catch-up', 3));
  assert.deepEqual(hhmm(plan.fires), ['11:56', '11:57', '11:58', '11:59', '12:00']);
  assert.equal(plan.skipped.count, 6);
  assert.deepEqual(hhmm(plan.skipped.sample), ['11:50', '11:51', '11:52', '11:53', '11:54', '11:55']);
});

test('catch-up with a large enough max enqueues every due fire and skips none', () => {
  const plan = planFires(outage('catch-up', 100));
  assert.equal(plan.fires.length, 11);
  assert.deepEqual(plan.skipped, { count: 0, countIsLowerBound: false, first: null, last: null, sample: [] });
});

test('catch-up with a max of zero behaves like skip', () => {
  assert.deepEqual(planFires(outage('catch-up', 0)), planFires(outage('skip')));
});

test('the skipped sample holds the latest ten skipped fires', () => {
  const plan = planFires({ ...outage('skip'), dueFrom: at('2026-05-01T11:30:00Z') });
  assert.equal(plan.skipped.count, 29);
  assert.deepEqual(hhmm(plan.skipped.sample), ['11:49', '11:50', '11:51', '11:52', '11:53', '11:54', '11:55', '11:56', '11:57', '11:58']);
  assert.equal(plan.skipped.first?.toISOString(), '2026-05-01T11:30:00.000Z');
});

test('a fire exactly at now is due, and one exactly the grace before now is still on time', () => {
  const plan = planFires({ timing: everyMinute, dueFrom: at('2026-05-01T11:58:00Z'), now: at('2026-05-01T12:00:00Z'), misfirePolicy: 'skip', catchUpMax: 0, misfireGraceMs: 60_000 });
  assert.deepEqual(hhmm(plan.fires), ['11:59', '12:00']);
  assert.deepEqual(hhmm(plan.skipped.sample), ['11:58']);
  assert.equal(plan.nextFireAt?.toISOString(), '2026-05-01T12:01:00.000Z');
});

test('nothing is due before dueFrom, and the stored next fire is kept', () => {
  const plan = planFires({ timing: everyMinute, dueFrom: at('2026-05-01T12:05:00Z'), now: at('2026-05-01T12:00:30Z'), misfirePolicy: 'catch-up', catchUpMax: 5, misfireGraceMs: 0 });
  assert.deepEqual(plan.fires, []);
  assert.equal(plan.skipped.count, 0);
  assert.equal(plan.nextFireAt?.toISOString(), '2026-05-01T12:05:00.000Z');
});

test('planning again from the returned nextFireAt never repeats or loses a fire', () => {
  const timing = cron('*/7 * * * * *', 'Europe/Berlin');
  let dueFrom = at('2026-10-25T00:55:00Z');
  let now = dueFrom.getTime();
  const seen: number[] = [];
  let skipped = 0;
  // Irregular ticks across the fall-back hour, some far longer than the grace.
  for (const step of [3_000, 11_000, 65_000, 1_000, 400_000, 7_000, 2_000, 3_600_000, 90_000]) {
    now += step;
    const plan = planFires({ timing, dueFrom, now: new Date(now), misfirePolicy: 'catch-up', catchUpMax: 2, misfireGraceMs: 10_000 });
    seen.push(...plan.fires.map((d) => d.getTime()));
    skipped += plan.skipped.count;
    dueFrom = plan.nextFireAt!;
  }
  assert.equal(new Set(seen).size, seen.length, 'a fire was planned twice');
  const all = previewFires(timing, new Date(at('2026-10-25T00:55:00Z').getTime() - 1), 100_000).filter((d) => d.getTime() <= now);
  assert.equal(seen.length + skipped, all.length);
});

test('a year-long outage of an every-second cron is planned quickly with a lower-bound skip count', (t) => {
  const started = performance.now();
  const plan = planFires({
    timing: cron('* * * * * *', 'Europe/Berlin'), dueFrom: at('2025-01-01T00:00:00Z'), now: at('2026-01-01T00:00:00.500Z'),
    misfirePolicy: 'catch-up', catchUpMax: 5, misfireGraceMs: 3_000,
  });
  const elapsed = performance.now() - started;
  t.diagnostic(`planned in ${elapsed.toFixed(1)} ms`);
  assert.ok(elapsed < 5_000, 'hang guard');
  assert.deepEqual(plan.fires.map((d) => d.toISOString().slice(11, 19)), ['23:59:53', '23:59:54', '23:59:55', '23:59:56', '23:59:57', '23:59:58', '23:59:59', '00:00:00']);
  assert.equal(plan.skipped.countIsLowerBound, true);
  assert.ok(plan.skipped.count >= 10_000 && plan.skipped.count < 31_536_000);
  assert.equal(plan.skipped.first?.toISOString(), '2025-01-01T00:00:00.000Z');
  assert.equal(plan.skipped.last?.toISOString(), '2025-12-31T23:59:52.000Z');
  assert.equal(plan.skipped.sample.length, 10);
  assert.equal(plan.nextFireAt?.toISOString(), '2026-01-01T00:00:01.000Z');
});

test('a year-long outage of a one-second interval is counted exactly by arithmetic', (t) => {
  const started = performance.now();
  const plan = planFires({
    timing: { kind: 'interval', everyMs: 1000, anchor: at('2020-01-01T00:00:00Z') }, dueFrom: at('2025-01-01T00:00:00Z'),
    now: at('2026-01-01T00:00:00.500Z'), misfirePolicy: 'run-once', catchUpMax: 0, misfireGraceMs: 3_000,
  });
  t.diagnostic(`planned in ${(performance.now() - started).toFixed(1)} ms`);
  assert.equal(plan.fires.length, 4); // 23:59:57 (run-once) then 23:59:58, 23:59:59, 00:00:00 on time
  assert.equal(plan.fires[0]?.toISOString(), '2025-12-31T23:59:57.000Z');
  // 365 days of seconds plus the fire at 00:00:00: 31,536,001 due; 4 enqueued.
  assert.deepEqual({ count: plan.skipped.count, countIsLowerBound: plan.skipped.countIsLowerBound }, { count: 31_535_997, countIsLowerBound: false });
});

test('on-time fires beyond maxEnumerate are handled as misfired, so one call stays bounded', () => {
  const base = { dueFrom: at('2026-05-01T11:00:00Z'), now: at('2026-05-01T12:00:00Z'), misfirePolicy: 'skip', catchUpMax: 0, misfireGraceMs: 3_600_000, maxEnumerate: 100 } as const;
  const viaCron = planFires({ ...base, timing: cron('* * * * * *') });
  assert.equal(viaCron.fires.length, 100);
  assert.equal(viaCron.fires[99]?.toISOString(), '2026-05-01T12:00:00.000Z');
  assert.equal(viaCron.skipped.countIsLowerBound, true);
  assert.ok(viaCron.skipped.count >= 110 && viaCron.skipped.count <= 3_501);
  const viaInterval = planFires({ ...base, timing: { kind: 'interval', everyMs: 1000, anchor: at('2026-01-01T00:00:00Z') } });
  assert.equal(viaInterval.fires.length, 100);
  assert.equal(viaInterval.skipped.count, 3_501);
});

test('interval fires are the anchor plus whole multiples of the interval, starting at the anchor', () => {
  const timing: ScheduleTiming = { kind: 'interval', everyMs: 60_000, anchor: at('2026-01-01T00:00:07Z') };
  assert.equal(nextFireAfter(timing, at('2025-06-01T00:00:00Z'))?.toISOString(), '2026-01-01T00:00:07.000Z');
  assert.equal(nextFireAfter(timing, at('2026-01-01T00:00:07Z'))?.toISOString(), '2026-01-01T00:01:07.000Z');
  assert.deepEqual(previewFires(timing, at('2026-03-01T10:00:30Z'), 3).map((d) => d.toISOString()), [
    '2026-03-01T10:01:07.000Z', '2026-03-01T10:02:07.000Z', '2026-03-01T10:03:07.000Z',
  ]);
  const plan = planFires({ timing, dueFrom: at('2026-03-01T10:00:00Z'), now: at('2026-03-01T10:05:00Z'), misfirePolicy: 'run-once', catchUpMax: 0, misfireGraceMs: 30_000 });
  assert.deepEqual(plan.fires.map((d) => d.toISOString()), ['2026-03-01T10:04:07.000Z']);
  assert.equal(plan.skipped.count, 4);
  assert.equal(plan.nextFireAt?.toISOString(), '2026-03-01T10:05:07.000Z');
});

test('nextFireAt is null when the schedule never fires again', () => {
  const yearly = planFires({ timing: cron('0 0 1 1 *'), dueFrom: at('9999-01-01T00:00:00Z'), now: at('9999-06-01T00:00:00Z'), misfirePolicy: 'run-once', catchUpMax: 0, misfireGraceMs: 0 });
  assert.deepEqual(yearly.fires.map((d) => d.toISOString()), ['9999-01-01T00:00:00.000Z']);
  assert.equal(yearly.nextFireAt, null);
  const end = new Date(8.64e15 - 1000);
  const interval = planFires({ timing: { kind: 'interval', everyMs: 86_400_000, anchor: end }, dueFrom: end, now: end, misfirePolicy: 'skip', catchUpMax: 0, misfireGraceMs: 0 });
  assert.equal(interval.fires.length, 1);
  assert.equal(interval.nextFireAt, null);
});

test('a daily 02:30 job missed across the spring-forward night is enqueued once, at 03:00', () => {
  const plan = planFires({ timing: cron('30 2 * * *', 'America/New_York'), dueFrom: at('2026-03-08T00:00:00Z'), now: at('2026-03-08T07:00:20Z'), misfirePolicy: 'skip', catchUpMax: 0, misfireGraceMs: 60_000 });
  assert.deepEqual(plan.fires.map((d) => d.toISOString()), ['2026-03-08T07:00:00.000Z']);
  assert.equal(plan.nextFireAt?.toISOString(), '2026-03-09T06:30:00.000Z');
});

test('interval lengths must be whole milliseconds from 1 second to 366 days', () => {
  assert.equal(validateInterval(1000), 1000);
  assert.equal(validateInterval(366 * 86_400_000), 366 * 86_400_000);
  for (const bad of [999, 366 * 86_400_000 + 1, 1500.5, 0, -1000]) {
    assert.throws(() => validateInterval(bad), (e: unknown) => isAppError(e, 'SCHEDULE_INVALID') && e.errors[0]?.pointer === '/everyMs', String(bad));
  }
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '1000', null, undefined]) {
    assert.throws(() => validateInterval(bad), (e: unknown) => isAppError(e, 'VALIDATION_FAILED'), String(bad));
  }
  assert.throws(() => validateInterval(5, '/schedule/interval'), (e: unknown) => isAppError(e) && e.errors[0]?.pointer === '/schedule/interval');
});

test('bad planning input is refused as a validation failure', () => {
  for (const patch of [{ catchUpMax: -1 }, { catchUpMax: 1.5 }, { misfireGraceMs: -1 }, { maxEnumerate: 0 }, { misfirePolicy: 'all' as MisfirePolicy }, { now: new Date(Number.NaN) }]) {
    assert.throws(() => planFires({ ...outage('skip'), ...patch }), (e: unknown) => isAppError(e, 'VALIDATION_FAILED'), JSON.stringify(patch));
  }
  assert.throws(() => previewFires(everyMinute, at('2026-01-01T00:00:00Z'), -1), (e: unknown) => isAppError(e, 'VALIDATION_FAILED'));
});
