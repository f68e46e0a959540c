/**
 * Cron expressions evaluated in an IANA time zone, returned as UTC instants.
 *
 * We match cron fields ourselves instead of wrapping croner: croner's DST rule decides "fixed
 * time" by single values in seconds/minutes/hours, while our policy (DESIGN §4, D10) decides it
 * by the hour field alone, and we must reject Quartz syntax croner accepts. Time zone offsets
 * come from `Intl.DateTimeFormat`; each local day is resolved once into at most three wall-clock
 * segments (before a transition, inside a gap, after it), so `next()` never scans minute by minute.
 *
 * DST policy: a job whose hour field covers all 24 hours fires at every real instant whose wall
 * time matches (both passes of a repeated hour; nothing for times in a gap). Any other job is
 * "fixed-time": a repeated wall time fires once, at its first occurrence, and wall times inside
 * a gap fire once, at the first instant after the gap.
 */
import { AppError } from '../errors/index.js';

/** A cron expression with the IANA zone its wall-clock fields are read in. */
export interface CronSchedule {
  /** 5 fields (minute hour day-of-month month day-of-week), 6 with leading seconds, or a macro. */
  expression: string;
  /** IANA zone name such as `Europe/Berlin`, or `UTC`. */
  timezone: string;
}

/** A validated cron schedule that can compute fire times. All results are whole-second UTC instants. */
export interface CompiledCron {
  /** The expression as given. */
  readonly expression: string;
  /** The IANA zone as given. */
  readonly timezone: string;
  /** Whether the expression has a leading seconds field. */
  readonly hasSeconds: boolean;
  /** First fire strictly after `after`, or null if none within the horizon (100 years, year 9999). */
  next(after: Date): Date | null;
  /** Last fire strictly before `before`, or null if none within the horizon (100 years, year 1900). */
  previous(before: Date): Date | null;
  /** Up to `count` fires strictly after `after`, ascending. */
  nextN(after: Date, count: number): Date[];
  /** English description, e.g. `At 02:30 every day (Europe/Berlin)`. Best effort, for display. */
  describe(): string;
}

const MAX_EXPRESSION_LENGTH = 256;
const MAX_LIST_ITEMS = 100;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
// The longest gap between fires of an accepted expression is ~40 years (29 Feb on a fixed weekday
// across 2100), so a 100-year horizon never cuts a real schedule short yet bounds every search.
const HORIZON_DAYS = 100 * 366;
const MIN_DAY = daysFromCivil(1900, 1, 1);
const MAX_DAY = daysFromCivil(9999, 12, 31);
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

interface FieldSpec { label: string; min: number; max: number; names?: readonly string[]; nameBase?: number }
const SECOND: FieldSpec = { label: 'second', min: 0, max: 59 };
const MINUTE: FieldSpec = { label: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { label: 'hour', min: 0, max: 23 };
const DOM: FieldSpec = { label: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = { label: 'month', min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 };
const DOW: FieldSpec = { label: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, nameBase: 0 };

/** A parsed field: sorted distinct values, and whether its text began with `*` (Vixie's DOM/DOW_STAR). */
interface Field { values: number[]; star: boolean }

interface Matcher {
  seconds: Field; minutes: Field; hours: Field; dom: Field; months: Field; dow: Field;
  /** Hour field covers all 24 hours: DST gaps are skipped and repeated hours fire twice. */
  everyHour: boolean;
}

function fail(detail: string): never {
  throw new AppError('CRON_INVALID', detail);
}

function parseValue(token: string, spec: FieldSpec): number {
  if (/^[0-9]+$/.test(token)) {
    const value = token.length > 2 ? Number.POSITIVE_INFINITY : Number(token);
    if (value < spec.min || value > spec.max) fail(`${spec.label} field: ${token} is outside ${spec.min}-${spec.max}`);
    return value;
  }
  const index = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (index >= 0) return index + (spec.nameBase ?? 0);
  if (/^[0-9]*[LW]+$/i.test(token)) fail(`${spec.label} field: Quartz "L"/"W" is not supported`);
  return fail(`${spec.label} field: "${token}" is not a number${spec.names ? ' or a name' : ''}`);
}

function parseField(text: string, spec: FieldSpec): Field {
  const items = text.split(',');
  if (items.length > MAX_LIST_ITEMS) fail(`${spec.label} field: a list may hold at most ${MAX_LIST_ITEMS} values`);
  const values = new Set<number>();
  for (const item of items) {
    const match = /^(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/([0-9]{1,2}))?$/.exec(item);
    if (!match) fail(`${spec.label} field: cannot read "${item}"`);
    const [, range = '', stepText] = match;
    let low = spec.min;
    let high = spec.max;
    if (range !== '*') {
      const [from = '', to] = range.split('-');
      low = parseValue(from, spec);
      // Vixie reads `5/10` as `5-max/10`; we refuse it so a typo cannot widen a schedule silently.
      if (to === undefined && stepText !== undefined) fail(`${spec.label} field: a step needs "*" or a range, as in "*/${stepText}"`);
      high = to === undefined ? low : parseValue(to, spec);
      if (low > high) fail(`${spec.label} field: range ${range} runs backwards`);
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1 || step > spec.max - spec.min + 1) fail(`${spec.label} field: step ${stepText ?? ''} is outside 1-${spec.max - spec.min + 1}`);
    for (let v = low; v <= high; v += step) values.add(spec === DOW && v === 7 ? 0 : v);
  }
  return { values: [...values].sort((a, b) => a - b), star: text.startsWith('*') };
}

function parseExpression(expression: string): { matcher: Matcher; hasSeconds: boolean } {
  if (expression.length > MAX_EXPRESSION_LENGTH) fail(`the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  if (!/^[\x20-\x7e\t]*$/.test(expression)) fail('the expression contains a character outside printable ASCII');
  if (/[?#]/.test(expression)) fail('Quartz "?" and "#" are not supported');
  let text = expression.trim();
  if (text.startsWith('@')) {
    const macro = MACROS[text.toLowerCase()];
    if (text.toLowerCase() === '@reboot') fail('@reboot is not a time-based schedule');
    if (macro === undefined) fail(`unknown macro ${text}`);
    text = macro;
  }
  const parts = text.split(/[ \t]+/);
  if (parts.length !== 5 && parts.length !== 6) {
    fail(`expected 5 or 6 fields, got ${text === '' ? 0 : parts.length}${parts.length === 7 ? ' (a year field is not supported)' : ''}`);
  }
  const hasSeconds = parts.length === 6;
  const f = hasSeconds ? parts : ['0', ...parts];
  const hours = parseField(f[2] ?? '', HOUR);
  const matcher: Matcher = {
    seconds: parseField(f[0] ?? '', SECOND), minutes: parseField(f[1] ?? '', MINUTE), hours,
    dom: parseField(f[3] ?? '', DOM), months: parseField(f[4] ?? '', MONTH), dow: parseField(f[5] ?? '', DOW),
    everyHour: hours.values.length === 24,
  };
  return { matcher, hasSeconds };
}

// ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01; H. Hinnant's algorithms)

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day: doy - Math.floor((153 * mp + 2) / 5) + 1 };
}

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

// ---- time zones

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
interface Segment { lo: number; hi: number; shift: number | null; collapseTo: number }

/**
 * Split local day `days` into segments. Instants of one local day lie within [-14 h, +36 h] of its
 * wall-clock start, so we probe the offset 15 h before and 39 h after. This assumes a zone changes
 * its offset at most once in 54 hours: a scan of every zone from 1900 to 2100 found no exception.
 */
function daySegments(zone: string, days: number, everyHour: boolean): Segment[] {
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

// ---- searching

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

function assertDate(value: Date, name: string): number {
  const t = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(t)) throw new TypeError(`${name} must be a valid Date`);
  return t;
}

function searchNext(m: Matcher, zone: string, a: number): number | null {
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

function searchPrevious(m: Matcher, zone: string, b: number): number | null {
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
function someDayMatches(m: Matcher): boolean {
  if (!m.dom.star && !m.dow.star) return true; // OR semantics: the weekday alone fires weekly
  const longest = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return m.months.values.some((month) => m.dom.values.some((day) => day <= (longest[month] ?? 0)));
}

// ---- description

function listText(field: Field, spec: FieldSpec, names?: readonly string[]): string {
  const label = (v: number): string => names?.[v - (spec.nameBase ?? 0)] ?? String(v).padStart(spec === MINUTE || spec === SECOND ? 2 : 1, '0');
  const runs: string[] = [];
  const vs = field.values;
  for (let i = 0; i < vs.length; i++) {
    let j = i;
    while (j + 1 < vs.length && (vs[j + 1] ?? 0) === (vs[j] ?? 0) + 1) j++;
    runs.push(j - i >= 2 ? `${label(vs[i] ?? 0)}-${label(vs[j] ?? 0)}` : vs.slice(i, j + 1).map(label).join(', '));
    i = j;
  }
  return runs.join(', ');
}

function timeText(m: Matcher, hasSeconds: boolean): string {
  const [h, mi, s] = [m.hours.values, m.minutes.values, m.seconds.values];
  const two = (v: number | undefined): string => String(v ?? 0).padStart(2, '0');
  if (h.length === 1 && mi.length === 1 && s.length === 1) {
    return `At ${two(h[0])}:${two(mi[0])}${hasSeconds && s[0] !== 0 ? `:${two(s[0])}` : ''}`;
  }
  const part = (field: Field, spec: FieldSpec, unit: string): string => {
    if (field.values.length === spec.max - spec.min + 1) return `every ${unit}`;
    return `${unit}${field.values.length > 1 ? 's' : ''} ${listText(field, spec)}`;
  };
  const pieces = [part(m.minutes, MINUTE, 'minute'), part(m.hours, HOUR, 'hour')];
  if (hasSeconds) pieces.unshift(part(m.seconds, SECOND, 'second'));
  // "every second of every minute of every hour" reads better as just "every second".
  while (pieces.length > 1 && (pieces[pieces.length - 1] ?? '').startsWith('every') && (pieces[pieces.length - 2] ?? '').startsWith('every')) pieces.pop();
  const text = pieces.join(' of ');
  return text.startsWith('every') ? `E${text.slice(1)},` : `At ${text},`;
}

function dayText(m: Matcher): string {
  const domAll = m.dom.values.length === 31;
  const dowAll = m.dow.values.length === 7;
  const dom = `day ${listText(m.dom, DOM)} of the month`;
  const dow = listText(m.dow, DOW, ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']);
  let text = domAll && dowAll ? 'every day' : domAll ? `on ${dow}` : dowAll ? `on ${dom}` : `on ${dom} ${m.dom.star || m.dow.star ? 'if it is a' : 'or on'} ${dow}`;
  if (m.months.values.length < 12) text += ` in ${listText(m.months, MONTH, ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'])}`;
  return text;
}

/**
 * Validate and compile a cron expression for a time zone.
 * @throws AppError CRON_INVALID for bad syntax, TIMEZONE_INVALID for an unknown zone,
 *   CRON_NEVER_FIRES when no calendar day can ever match (e.g. `0 0 30 2 *`).
 */
export function compileCron(expression: string, timezone: string): CompiledCron {
  if (typeof expression !== 'string') fail('the expression must be a string');
  if (typeof timezone !== 'string') throw new AppError('TIMEZONE_INVALID', 'the time zone must be a string');
  const { matcher, hasSeconds } = parseExpression(expression);
  assertTimezone(timezone);
  if (!someDayMatches(matcher)) throw new AppError('CRON_NEVER_FIRES', `"${expression}" matches no calendar day, so it would never fire`);
  const next = (after: Date): Date | null => {
    const t = searchNext(matcher, timezone, assertDate(after, 'after'));
    return t === null ? null : new Date(t);
  };
  return Object.freeze({
    expression, timezone, hasSeconds, next,
    previous(before: Date): Date | null {
      const t = searchPrevious(matcher, timezone, assertDate(before, 'before'));
      return t === null ? null : new Date(t);
    },
    nextN(after: Date, count: number): Date[] {
      if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
      const out: Date[] = [];
      for (let cursor: Date | null = after; out.length < count && (cursor = next(cursor)) !== null;) out.push(cursor);
      return out;
    },
    describe: (): string => `${timeText(matcher, hasSeconds)} ${dayText(matcher)} (${timezone})`,
  });
}
