/**
 * Calendar arithmetic and time zones: local days as days since 1970-01-01 (proleptic Gregorian,
 * H. Hinnant's algorithms), zone offsets from `Intl.DateTimeFormat`, and each local day resolved
 * once into at most three wall-clock segments (before a transition, inside a gap, after it).
 */
import { AppError } from '../../errors/index.js';

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Days since 1970-01-01 of a civil date. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

/** The civil date of a day since 1970-01-01. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day: doy - Math.floor((153 * mp + 2) / 5) + 1 };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const dayCache = new Map<string, Map<number, Segment[]>>();
const DAY_CACHE_LIMIT = 4096;

/**
 * Check that `timezone` is an IANA zone name spelled exactly (e.g. `America/New_York`, `Asia/Kolkata`)
 * or `UTC`. Abbreviations (`EST`, `GMT`), lowercase spellings (`utc`), offsets (`+05:30`) and
 * `Etc/…` names are refused: they either hide DST or are a typo for a zone that has it.
 * @throws AppError TIMEZONE_INVALID
 */
export function assertTimezone(timezone: string): void {
  const shaped = timezone === 'UTC' || /^[A-Z][A-Za-z]*(?:\/[A-Z][A-Za-z0-9_+-]*){1,2}$/.test(timezone);
  const lastPart = timezone.split('/').pop() ?? '';
  if (!shaped || (timezone !== 'UTC' && (!/[a-z]/.test(lastPart) || timezone.startsWith('Etc/')))) {
    throw new AppError('TIMEZONE_INVALID', `"${timezone.slice(0, 64)}" is not an IANA time zone name such as Europe/Berlin or UTC`);
  }
  try {
    formatter(timezone);
  } catch (error) {
    throw new AppError('TIMEZONE_INVALID', `unknown time zone "${timezone}"`, { cause: error });
  }
}

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** UTC offset (wall minus UTC, in ms) in `zone` at instant `t`. */
function offsetAt(zone: string, t: number): number {
  const p: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(t)) p[part.type] = Number(part.value);
  const wall = daysFromCivil(p.year ?? 0, p.month ?? 0, p.day ?? 0) * DAY_MS + (p.hour ?? 0) * HOUR_MS + (p.minute ?? 0) * 60_000 + (p.second ?? 0) * 1000;
  return wall - (t - (((t % 1000) + 1000) % 1000));
}

/**
 * Part of one local day whose wall times map to instants the same way: `instant = wall - shift`,
 * or, when `shift` is null (a DST gap under the fixed-time rule), every wall time maps to `collapseTo`.
 */
export interface Segment { lo: number; hi: number; shift: number | null; collapseTo: number }

/**
 * Split local day `days` into segments. Instants of one local day lie within [-14 h, +36 h] of its
 * wall-clock start, so we probe the offset 15 h before and 39 h after. This assumes a zone changes
 * its offset at most once in 54 hours: a scan of every zone from 1900 to 2100 found no exception.
 */
export function daySegments(zone: string, days: number, everyHour: boolean): Segment[] {
  let perZone = dayCache.get(zone);
  if (perZone === undefined) { perZone = new Map(); dayCache.set(zone, perZone); }
  const key = days * 2 + (everyHour ? 1 : 0);
  const cached = perZone.get(key);
  if (cached !== undefined) return cached;
  if (perZone.size >= DAY_CACHE_LIMIT) perZone.clear();
  const lo = days * DAY_MS;
  const hi = lo + DAY_MS;
  const before = offsetAt(zone, lo - 15 * HOUR_MS);
  const after = offsetAt(zone, lo + 39 * HOUR_MS);
  let segments: Segment[] = [{ lo, hi, shift: before, collapseTo: 0 }];
  if (before !== after) {
    const t = findTransition(zone, lo - 15 * HOUR_MS, lo + 39 * HOUR_MS, before);
    // A fixed-time job fires repeated wall times only on their first pass, so the second pass starts late.
    const secondPassFrom = after > before || everyHour ? t + after : t + before;
    segments = [
      { lo, hi: Math.min(hi, t + before), shift: before, collapseTo: 0 },
      ...(after > before && !everyHour ? [{ lo: Math.max(lo, t + before), hi: Math.min(hi, t + after), shift: null, collapseTo: t }] : []),
      { lo: Math.max(lo, secondPassFrom), hi, shift: after, collapseTo: 0 },
    ].filter((s) => s.lo < s.hi);
  }
  perZone.set(key, segments);
  return segments;
}

/** First whole second in (lo, hi] whose offset differs from `offsetBefore`; binary search, ~18 lookups. */
function findTransition(zone: string, lo: number, hi: number, offsetBefore: number): number {
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(zone, mid) === offsetBefore) lo = mid; else hi = mid;
  }
  return hi;
}
