/**
 * Cron expressions evaluated in an IANA time zone, returned as UTC instants.
 *
 * We match cron fields ourselves instead of wrapping croner: croner's DST rule decides "fixed
 * time" by single values in seconds/minutes/hours, while our policy (docs/decisions.md #12) decides it
 * by the hour field alone, and we must reject Quartz syntax croner accepts. Time zone offsets
 * come from `Intl.DateTimeFormat`; each local day is resolved once into at most three wall-clock
 * segments (before a transition, inside a gap, after it), so `next()` never scans minute by minute.
 *
 * DST policy: a job whose hour field covers all 24 hours fires at every real instant whose wall
 * time matches (both passes of a repeated hour; nothing for times in a gap). Any other job is
 * "fixed-time": a repeated wall time fires once, at its first occurrence, and wall times inside
 * a gap fire once, at the first instant after the gap.
 *
 * Parts: ./parse.ts (expression → matcher), ./zone.ts (calendar, offsets, DST segments),
 * ./search.ts (fire times), ./describe.ts (English text).
 */
import { AppError } from '../../errors/index.js';
import { describeCron } from './describe.js';
import { fail, parseExpression } from './parse.js';
import { searchNext, searchPrevious, someDayMatches } from './search.js';
import { assertTimezone } from './zone.js';

export { assertTimezone } from './zone.js';

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

function assertDate(value: Date, name: string): number {
  const t = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(t)) throw new TypeError(`${name} must be a valid Date`);
  return t;
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
    describe: (): string => describeCron(matcher, hasSeconds, timezone),
  });
}
