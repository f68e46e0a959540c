/**
 * Finding fire times: which local days match, the first/last matching second of a day, and the
 * day-by-day search in both directions, bounded by a 100-year horizon within years 1900–9999.
 */
import type { Matcher } from './parse.js';
import { civilFromDays, DAY_MS, daySegments, daysFromCivil } from './zone.js';

// The longest gap between fires of an accepted expression is ~40 years (29 Feb on a fixed weekday
// across 2100), so a 100-year horizon never cuts a real schedule short yet bounds every search.
const HORIZON_DAYS = 100 * 366;
const MIN_DAY = daysFromCivil(1900, 1, 1);
const MAX_DAY = daysFromCivil(9999, 12, 31);

function dayMatches(m: Matcher, days: number): boolean {
  const { month, day } = civilFromDays(days);
  if (!m.months.values.includes(month)) return false;
  const domOk = m.dom.values.includes(day);
  const dowOk = m.dow.values.includes((((days + 4) % 7) + 7) % 7);
  // Vixie cron: when both day fields are restricted (neither starts with `*`), either may match.
  return m.dom.star || m.dow.star ? domOk && dowOk : domOk || dowOk;
}

// ---- time of day: smallest/largest matching second-of-day at or after/before a bound

function firstAtOrAfter(values: number[], v: number): number {
  for (const x of values) if (x >= v) return x;
  return -1;
}

function lastAtOrBefore(values: number[], v: number): number {
  for (let i = values.length - 1; i >= 0; i--) { const x = values[i] ?? -1; if (x <= v) return x; }
  return -1;
}

function nextTod(m: Matcher, tod: number): number {
  let h = Math.floor(tod / 3600); let mi = Math.floor((tod % 3600) / 60); let s = tod % 60;
  while (h < 24) {
    const h2 = firstAtOrAfter(m.hours.values, h);
    if (h2 < 0) return -1;
    if (h2 > h) { h = h2; mi = 0; s = 0; }
    const m2 = firstAtOrAfter(m.minutes.values, mi);
    if (m2 < 0) { h += 1; mi = 0; s = 0; continue; }
    if (m2 > mi) { mi = m2; s = 0; }
    const s2 = firstAtOrAfter(m.seconds.values, s);
    if (s2 >= 0) return h * 3600 + mi * 60 + s2;
    s = 0; mi += 1;
    if (mi === 60) { mi = 0; h += 1; }
  }
  return -1;
}

function prevTod(m: Matcher, tod: number): number {
  let h = Math.floor(tod / 3600); let mi = Math.floor((tod % 3600) / 60); let s = tod % 60;
  while (h >= 0) {
    const h2 = lastAtOrBefore(m.hours.values, h);
    if (h2 < 0) return -1;
    if (h2 < h) { h = h2; mi = 59; s = 59; }
    const m2 = lastAtOrBefore(m.minutes.values, mi);
    if (m2 < 0) { h -= 1; mi = 59; s = 59; continue; }
    if (m2 < mi) { mi = m2; s = 59; }
    const s2 = lastAtOrBefore(m.seconds.values, s);
    if (s2 >= 0) return h * 3600 + mi * 60 + s2;
    s = 59; mi -= 1;
    if (mi < 0) { mi = 59; h -= 1; }
  }
  return -1;
}

// ---- one local day

function ceilSecond(ms: number): number {
  return Math.ceil(ms / 1000) * 1000;
}

/** Earliest fire of `days` strictly after instant `a`, or null. */
function firstOnDayAfter(m: Matcher, zone: string, days: number, a: number): number | null {
  const dayStart = days * DAY_MS;
  let best: number | null = null;
  for (const seg of daySegments(zone, days, m.everyHour)) {
    if (seg.shift === null && seg.collapseTo <= a) continue;
    const from = seg.shift === null ? seg.lo : Math.max(seg.lo, Math.floor((a + seg.shift) / 1000) * 1000 + 1000);
    const tod = from >= seg.hi ? -1 : nextTod(m, Math.ceil((from - dayStart) / 1000));
    const wall = dayStart + tod * 1000;
    if (tod < 0 || wall >= seg.hi) continue;
    const instant = seg.shift === null ? seg.collapseTo : wall - seg.shift;
    if (best === null || instant < best) best = instant;
  }
  return best;
}

/** Latest fire of `days` strictly before instant `b`, or null. */
function lastOnDayBefore(m: Matcher, zone: string, days: number, b: number): number | null {
  const dayStart = days * DAY_MS;
  let best: number | null = null;
  for (const seg of daySegments(zone, days, m.everyHour)) {
    if (seg.shift === null && seg.collapseTo >= b) continue;
    const until = seg.shift === null ? seg.hi : Math.min(seg.hi, ceilSecond(b + seg.shift));
    const tod = until <= seg.lo ? -1 : prevTod(m, Math.ceil((until - dayStart) / 1000) - 1);
    const wall = dayStart + tod * 1000;
    if (tod < 0 || wall < seg.lo) continue;
    const instant = seg.shift === null ? seg.collapseTo : wall - seg.shift;
    if (best === null || instant > best) best = instant;
  }
  return best;
}

// ---- searching

/** First fire strictly after instant `a` (ms), or null within the horizon. */
export function searchNext(m: Matcher, zone: string, a: number): number | null {
  // The local date of `a` is within a day of its UTC date; one more day back catches a repeated
  // hour that straddles midnight.
  const start = Math.max(MIN_DAY, Math.floor(a / DAY_MS) - 2);
  const end = Math.min(MAX_DAY, start + HORIZON_DAYS);
  for (let d = start; d <= end; d++) {
    if (!dayMatches(m, d)) continue;
    const found = firstOnDayAfter(m, zone, d, a);
    if (found === null) continue;
    const tomorrow = d + 1 <= MAX_DAY && dayMatches(m, d + 1) ? firstOnDayAfter(m, zone, d + 1, a) : null;
    return tomorrow === null ? found : Math.min(found, tomorrow);
  }
  return null;
}

/** Last fire strictly before instant `b` (ms), or null within the horizon. */
export function searchPrevious(m: Matcher, zone: string, b: number): number | null {
  const start = Math.min(MAX_DAY, Math.floor(b / DAY_MS) + 2);
  const end = Math.max(MIN_DAY, start - HORIZON_DAYS);
  for (let d = start; d >= end; d--) {
    if (!dayMatches(m, d)) continue;
    const found = lastOnDayBefore(m, zone, d, b);
    if (found === null) continue;
    const yesterday = d - 1 >= MIN_DAY && dayMatches(m, d - 1) ? lastOnDayBefore(m, zone, d - 1, b) : null;
    return yesterday === null ? found : Math.max(found, yesterday);
  }
  return null;
}

/**
 * Whether some calendar day matches. Over a 400-year Gregorian cycle every valid (month, day),
 * 29 February included, falls on every weekday, so only the (month, day) pairs need checking.
 */
export function someDayMatches(m: Matcher): boolean {
  if (!m.dom.star && !m.dow.star) return true; // OR semantics: the weekday alone fires weekly
  const longest = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return m.months.values.some((month) => m.dom.values.some((day) => day <= (longest[month] ?? 0)));
}
