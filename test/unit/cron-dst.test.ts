import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileCron } from '../../src/core/cron/index.js';

/*
 * DST policy (docs/decisions.md #12). The property tests compare `next()` with a brute-force oracle
 * that walks UTC in 15-minute steps (every offset in these zones is a multiple of 15 minutes)
 * and reads each step's wall clock through its own Intl formatter:
 * - a job whose hour field covers every hour fires at exactly the instants whose wall time matches;
 * - a fixed-time job fires once per matching local date, at the first instant whose wall time
 *   is at or past its time (the first pass of a repeated time; the end of a gap).
 */

const ZONES = ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Kolkata', 'Pacific/Chatham'];
const DAY = 86_400_000;
// One day of margin each side so that every local date of 2026 and 2027 is whole in every zone.
const FROM = Date.UTC(2026, 0, 1) - DAY;
const UNTIL = Date.UTC(2028, 0, 1) + DAY;
const STEP = 15 * 60_000;

/** Fall-backs in 2026-2027 that repeat a whole o'clock hour, per zone. */
const REPEATED_HOURS: Record<string, number> = {
  'America/New_York': 2, 'Europe/Berlin': 2, 'Australia/Lord_Howe': 0, 'America/Santiago': 2, 'Asia/Kolkata': 0, 'Pacific/Chatham': 2,
};

interface Wall { t: number; date: string; minuteOfDay: number; weekday: number }

function wallClock(zone: string): (t: number) => Wall {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  });
  const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  return (t) => {
    const p = Object.fromEntries(format.formatToParts(t).map((x) => [x.type, x.value]));
    return { t, date: `${p.year}-${p.month}-${p.day}`, minuteOfDay: Number(p.hour) * 60 + Number(p.minute), weekday: weekdays.indexOf(p.weekday!) };
  };
}

/** Every 15-minute UTC step from a day before FROM to a day after UNTIL, with its wall clock. */
function walls(zone: string): Wall[] {
  const read = wallClock(zone);
  const out: Wall[] = [];
  for (let t = FROM - DAY; t < UNTIL + DAY; t += STEP) out.push(read(t));
  return out;
}

function enumerate(expression: string, zone: string): number[] {
  const cron = compileCron(expression, zone);
  const out: number[] = [];
  for (let d = cron.next(new Date(FROM - 1)); d !== null && d.getTime() < UNTIL; d = cron.next(d)) out.push(d.getTime());
  return out;
}

/** Fixed-time oracle: per local date that passes `dayOk`, the first step at or past `minuteOfDay`. */
function fixedTimeOracle(steps: Wall[], minuteOfDay: number, dayOk: (w: Wall) => boolean): number[] {
  const seen = new Set<string>();
  const out: number[] = [];
  for (const w of steps) {
    if (w.minuteOfDay < minuteOfDay || !dayOk(w) || seen.has(w.date)) continue;
    seen.add(w.date);
    if (w.t >= FROM && w.t < UNTIL) out.push(w.t);
  }
  return out;
}

function assertSameInstants(actual: number[], expected: number[], label: string): void {
  const i = actual.findIndex((t, k) => t !== expected[k]);
  const where = i >= 0 ? i : Math.min(actual.length, expected.length);
  const show = (list: number[]): string => list.slice(Math.max(0, where - 2), where + 3).map((t) => new Date(t).toISOString()).join(', ');
  assert.ok(i < 0 && actual.length === expected.length, `${label}: differs at #${where}\n  got      ${show(actual)}\n  expected ${show(expected)}`);
}

function assertStrictlyIncreasing(list: number[], label: string): void {
  for (let i = 1; i < list.length; i++) assert.ok(list[i]! > list[i - 1]!, `${label}: not increasing at #${i}`);
}

for (const zone of ZONES) {
  void test(`fires match the DST policy in ${zone} for 2026-2027`, () => {
    const steps = walls(zone);
    const byInstant = new Map(steps.map((w) => [w.t, w]));
    const covering = (minuteOk: (m: number) => boolean): number[] =>
      steps.filter((w) => w.t >= FROM && w.t < UNTIL && minuteOk(w.minuteOfDay % 60)).map((w) => w.t);

    const daily = enumerate('30 2 * * *', zone);
    const hourly = enumerate('0 * * * *', zone);
    const quarterly = enumerate('*/15 * * * *', zone);
    const weekly = enumerate('0 0 * * 0', zone);
    for (const [label, list] of [['30 2 * * *', daily], ['0 * * * *', hourly], ['*/15 * * * *', quarterly], ['0 0 * * 0', weekly]] as const) {
      assertStrictlyIncreasing(list, `${zone} ${label}`);
    }
    assertSameInstants(daily, fixedTimeOracle(steps, 150, () => true), `${zone} 30 2 * * *`);
    assertSameInstants(weekly, fixedTimeOracle(steps, 0, (w) => w.weekday === 0), `${zone} 0 0 * * 0`);
    assertSameInstants(hourly, covering((m) => m === 0), `${zone} 0 * * * *`);
    assertSameInstants(quarterly, covering((m) => m % 15 === 0), `${zone} */15 * * * *`);

    // Hourly fires at both passes of a repeated hour (one per fall-back in zones that shift by a
    // whole hour; Lord Howe repeats only 01:30-01:59); fixed-time jobs never repeat a wall time.
    const repeatedWallTimes = (list: number[]): number => {
      const keys = list.map((t) => `${byInstant.get(t)!.date} ${byInstant.get(t)!.minuteOfDay}`);
      return keys.length - new Set(keys).size;
    };
    assert.equal(repeatedWallTimes(hourly), REPEATED_HOURS[zone], `${zone}: hourly fires in a repeated hour`);
    assert.equal(repeatedWallTimes(daily) + repeatedWallTimes(weekly), 0, `${zone}: a fixed-time job fired twice`);

    // The daily job fires exactly once per local date: 365 in 2026 and 365 in 2027.
    const perDate = new Map<string, number>();
    for (const t of daily) { const date = byInstant.get(t)!.date; perDate.set(date, (perDate.get(date) ?? 0) + 1); }
    assert.ok([...perDate.values()].every((n) => n === 1), `${zone}: a local date fired twice`);
    assert.equal([...perDate.keys()].filter((d) => d.startsWith('2026-')).length, 365, `${zone}: 2026 local dates`);
    assert.equal([...perDate.keys()].filter((d) => d.startsWith('2027-')).length, 365, `${zone}: 2027 local dates`);
  });
}

test('the daily 02:30 job fires on all 366 local dates of leap year 2028 in New York', () => {
  const cron = compileCron('30 2 * * *', 'America/New_York');
  const list = cron.nextN(new Date('2028-01-01T05:00:00Z'), 366);
  assert.equal(list[365]!.toISOString(), '2028-12-31T07:30:00.000Z');
  assert.equal(new Set(list.map((d) => new Date(d.getTime() - 5 * 3_600_000).toISOString().slice(0, 10))).size, 366);
});

const transitions: [string, string, string, string[]][] = [
  // zone, expression, search from (UTC), expected fires (UTC)
  ['America/New_York', '30 2 * * *', '2026-03-07T12:00:00Z', ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']],
  ['America/New_York', '0 * * * *', '2026-03-08T05:30:00Z', ['2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z']],
  ['America/New_York', '30 1 * * *', '2026-10-31T12:00:00Z', ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']],
  ['America/New_York', '0 * * * *', '2026-11-01T04:30:00Z', ['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z']],
  ['Europe/Berlin', '30 2 * * *', '2026-03-28T12:00:00Z', ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']],
  ['Europe/Berlin', '0 * * * *', '2026-03-28T23:30:00Z', ['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z']],
  ['Europe/Berlin', '30 2 * * *', '2026-10-24T12:00:00Z', ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']],
  ['Europe/Berlin', '0 * * * *', '2026-10-24T23:30:00Z', ['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z']],
  ['America/New_York', '30 2 * * *', '2027-03-13T12:00:00Z', ['2027-03-14T07:00:00.000Z']],
  ['America/New_York', '0 * * * *', '2027-03-14T05:30:00Z', ['2027-03-14T06:00:00.000Z', '2027-03-14T07:00:00.000Z']],
  ['America/New_York', '30 1 * * *', '2027-11-06T12:00:00Z', ['2027-11-07T05:30:00.000Z', '2027-11-08T06:30:00.000Z']],
  ['America/New_York', '0 * * * *', '2027-11-07T04:30:00Z', ['2027-11-07T05:00:00.000Z', '2027-11-07T06:00:00.000Z', '2027-11-07T07:00:00.000Z']],
  ['Europe/Berlin', '30 2 * * *', '2027-03-27T12:00:00Z', ['2027-03-28T01:00:00.000Z']],
  ['Europe/Berlin', '0 * * * *', '2027-03-27T23:30:00Z', ['2027-03-28T00:00:00.000Z', '2027-03-28T01:00:00.000Z']],
  ['Europe/Berlin', '30 2 * * *', '2027-10-30T12:00:00Z', ['2027-10-31T00:30:00.000Z', '2027-11-01T01:30:00.000Z']],
  ['Europe/Berlin', '0 * * * *', '2027-10-30T23:30:00Z', ['2027-10-31T00:00:00.000Z', '2027-10-31T01:00:00.000Z', '2027-10-31T02:00:00.000Z']],
  ['Australia/Lord_Howe', '30 1 * * *', '2026-04-04T00:00:00Z', ['2026-04-04T14:30:00.000Z', '2026-04-05T15:00:00.000Z']],
  ['Australia/Lord_Howe', '*/30 * * * *', '2026-04-04T14:00:00Z', ['2026-04-04T14:30:00.000Z', '2026-04-04T15:00:00.000Z', '2026-04-04T15:30:00.000Z']],
  ['Australia/Lord_Howe', '15 2 * * *', '2026-10-03T00:00:00Z', ['2026-10-03T15:30:00.000Z', '2026-10-04T15:15:00.000Z']],
  ['Australia/Lord_Howe', '0 * * * *', '2026-10-03T14:00:00Z', ['2026-10-03T14:30:00.000Z', '2026-10-03T16:00:00.000Z']],
  ['America/Santiago', '0 0 * * *', '2026-09-05T12:00:00Z', ['2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z']],
  ['America/Santiago', '0 23 * * *', '2026-04-04T12:00:00Z', ['2026-04-05T02:00:00.000Z', '2026-04-06T03:00:00.000Z']],
  ['Pacific/Chatham', '0 3 * * *', '2026-09-25T15:00:00Z', ['2026-09-26T14:00:00.000Z', '2026-09-27T13:15:00.000Z']],
  ['Asia/Kolkata', '30 2 * * *', '2026-03-08T00:00:00Z', ['2026-03-08T21:00:00.000Z', '2026-03-09T21:00:00.000Z']],
];

test('the 2026 and 2027 transitions fire at the instants listed in docs/scheduling.md', () => {
  for (const [zone, expression, from, expected] of transitions) {
    const got = compileCron(expression, zone).nextN(new Date(from), expected.length).map((d) => d.toISOString());
    assert.deepEqual(got, expected, `${zone} ${expression}`);
  }
});

test('a 02:30 daily job fires at 03:00 on the spring-forward night in New York', () => {
  assert.equal(compileCron('30 2 * * *', 'America/New_York').next(new Date('2026-03-08T05:00:00Z'))?.toISOString(), '2026-03-08T07:00:00.000Z');
});

test('a job with several fixed hours fires each gap time once at the end of the gap', () => {
  // 02:00, 02:20, 02:40 do not exist on 2026-03-08 in New York: one fire at 03:00 EDT, then 03:00 itself is not repeated.
  const got = compileCron('0,20,40 2,3 * * *', 'America/New_York').nextN(new Date('2026-03-08T06:00:00Z'), 4).map((d) => d.toISOString());
  assert.deepEqual(got, ['2026-03-08T07:00:00.000Z', '2026-03-08T07:20:00.000Z', '2026-03-08T07:40:00.000Z', '2026-03-09T06:00:00.000Z']);
});

test('a stepped minute job in a fixed hour fires the repeated hour once, on its first pass', () => {
  const got = compileCron('*/30 1 * * *', 'America/New_York').nextN(new Date('2026-11-01T04:00:00Z'), 3).map((d) => d.toISOString());
  assert.deepEqual(got, ['2026-11-01T05:00:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:00:00.000Z']);
});

test('an every-hour range such as 0-23 is treated like * and skips the gap', () => {
  for (const hours of ['0-23', '*/1']) {
    const got = compileCron(`30 ${hours} * * *`, 'America/New_York').nextN(new Date('2026-03-08T06:00:00Z'), 2).map((d) => d.toISOString());
    assert.deepEqual(got, ['2026-03-08T06:30:00.000Z', '2026-03-08T07:30:00.000Z'], hours);
  }
});

test('previous mirrors next across both transitions', () => {
  for (const [zone, expression, from, expected] of transitions) {
    const cron = compileCron(expression, zone);
    const last = new Date(expected[expected.length - 1]!);
    const back = [last];
    while (back.length < expected.length) back.unshift(cron.previous(back[0]!)!);
    assert.deepEqual(back.map((d) => d.toISOString()), expected, `${zone} ${expression} from ${from}`);
  }
});
