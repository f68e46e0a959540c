/**
 * A faster parser for `timestamptz` text, used by Jobplane's pools. Every claimed job carries two
 * or three timestamps, and the driver's general parser (postgres-date, regular expressions) was
 * about 1.5 µs per value, a few per cent of a short job's cost in the worker. This handles the
 * form PostgreSQL prints with DateStyle ISO (`2026-12-03 14:41:13.828123+00`, any offset) and
 * hands everything else (infinity, BC, years past 9999) to the driver's own parser.
 */
import pg from 'pg';

/** The type oid of timestamptz. */
const TIMESTAMPTZ_OID = 1184;

const fallback = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => Date;

const CODE_0 = 48;

/** Digits of `s` from `start` to `end` as a number, or -1 when one is not a digit. */
function digits(s: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - CODE_0;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Parse PostgreSQL's ISO text for a timestamptz; anything unusual goes to the driver's parser. */
export function parseTimestamptz(text: string): Date {
  // YYYY-MM-DD HH:MM:SS then optional .f{1,6}, then ±HH[:MM[:SS]]
  if (text.length < 22 || text.charCodeAt(4) !== 45 || text.charCodeAt(10) !== 32) return fallback(text);
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  // Date.UTC reads years below 100 as 19xx: leave those (and any non-digit) to the driver.
  if (year < 100 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return fallback(text);
  let i = 19;
  let ms = 0;
  if (text.charCodeAt(i) === 46) {
    const start = ++i;
    while (i < text.length && text.charCodeAt(i) >= CODE_0 && text.charCodeAt(i) <= CODE_0 + 9) i++;
    const len = i - start;
    if (len === 0 || len > 6) return fallback(text);
    // Milliseconds, truncated as the driver's parser does.
    ms = digits(text, start, start + Math.min(3, len)) * 10 ** (3 - Math.min(3, len));
  }
  const sign = text.charCodeAt(i);
  if (sign !== 43 && sign !== 45) return fallback(text);
  const rest = text.length - i - 1;
  if (rest !== 2 && rest !== 5 && rest !== 8) return fallback(text);
  const oh = digits(text, i + 1, i + 3);
  const om = rest >= 5 && text.charCodeAt(i + 3) === 58 ? digits(text, i + 4, i + 6) : rest >= 5 ? -1 : 0;
  const os = rest === 8 && text.charCodeAt(i + 6) === 58 ? digits(text, i + 7, i + 9) : rest === 8 ? -1 : 0;
  if (oh < 0 || om < 0 || os < 0) return fallback(text);
  const offsetMs = (sign === 43 ? 1 : -1) * ((oh * 60 + om) * 60 + os) * 1000;
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMs);
}

/** Type parsers for a pg pool: timestamptz through {@link parseTimestamptz}, the rest as usual. */
export const jobplaneTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === TIMESTAMPTZ_OID && format !== 'binary') return parseTimestamptz;
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  },
};
