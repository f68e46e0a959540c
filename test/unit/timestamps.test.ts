import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { jobplaneTypes, parseTimestamptz } from '../../src/db/timestamps.js';

const driver = pg.types.getTypeParser(1184, 'text') as (text: string) => Date;

test("timestamptz text parses to the same instant as the driver's own parser, for every offset and fraction form", () => {
  const samples = [
    '2026-12-03 14:41:13+00',
    '2026-12-03 14:41:13.8+00',
    '2026-12-03 14:41:13.82+00',
    '2026-12-03 14:41:13.828+00',
    '2026-12-03 14:41:13.828999+00',
    '2026-12-03 14:41:13.000001-08',
    '2026-03-29 01:59:59.999+05:30',
    '1999-12-31 23:59:59.5-03:30:15',
    '2024-02-29 00:00:00+14',
    '0100-01-01 00:00:00+00',
  ];
  for (const s of samples) assert.equal(parseTimestamptz(s).getTime(), driver(s).getTime(), s);
});

test('values outside the plain ISO form (infinity, BC, early years, other DateStyles) are parsed by the driver', () => {
  for (const s of ['infinity', '-infinity', '0044-03-15 12:00:00+00 BC', '0050-01-01 00:00:00+00', 'Thu Dec 03 14:41:13 2026 UTC', '2026-12-03 14:41:13.1234567+00']) {
    // The driver answers infinity with a number, the rest with a Date: compare the instants.
    assert.ok(Object.is(Number(parseTimestamptz(s)), Number(driver(s))), s);
  }
});

test('random instants over five centuries round-trip through the text PostgreSQL prints', () => {
  for (let i = 0; i < 2000; i++) {
    const ms = Math.floor((Math.random() - 0.5) * 2 * 16e12);
    const d = new Date(ms);
    const iso = d.toISOString(); // 2026-12-03T14:41:13.828Z
    if (!/^\d{4}-/.test(iso)) continue;
    const text = `${iso.slice(0, 10)} ${iso.slice(11, 23)}+00`;
    assert.equal(parseTimestamptz(text).getTime(), ms, text);
  }
});

test('the pool type set uses it for timestamptz text only', () => {
  assert.equal(jobplaneTypes.getTypeParser(1184, 'text'), parseTimestamptz);
  assert.notEqual(jobplaneTypes.getTypeParser(1114, 'text'), parseTimestamptz);
});
