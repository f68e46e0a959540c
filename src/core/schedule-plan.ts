/**
 * Pure planning for the cron enqueuer: which fire times of a schedule to enqueue now, which to
 * record as skipped, and the new stored `next_fire_at`. Time always comes in as arguments (docs/decisions.md #3:
 * the caller passes the database clock). Every walk over fire times is bounded by `maxEnumerate`
 * so a year-long outage of an every-second schedule costs milliseconds, not millions of steps.
 */
import { AppError, invalidField } from '../errors/index.js';
import type { CompiledCron } from './cron/index.js';

/** When a schedule fires: a compiled cron expression, or every `everyMs` starting at `anchor`. */
export type ScheduleTiming =
  | { kind: 'cron'; cron: CompiledCron }
  | { kind: 'interval'; everyMs: number; anchor: Date };

/**
 * What to do with fire times missed by more than the grace (the platform was down or paused):
 * `skip` enqueues none of them, `run-once` enqueues only the latest, `catch-up` the latest `catchUpMax`.
 */
export type MisfirePolicy = 'skip' | 'run-once' | 'catch-up';

/** Every misfire policy, for validation and docs. */
export const MISFIRE_POLICIES: readonly MisfirePolicy[] = Object.freeze(['skip', 'run-once', 'catch-up']);

/** Shortest accepted interval: 1 second. */
export const MIN_INTERVAL_MS = 1000;
/** Longest accepted interval: 366 days. */
export const MAX_INTERVAL_MS = 366 * 86_400_000;
/** Default bound on fire times walked by one `planFires` call. */
export const DEFAULT_MAX_ENUMERATE = 10_000;
/** How many of the latest skipped fire times a plan reports in `skipped.sample`. */
export const SKIPPED_SAMPLE_SIZE = 10;

const MAX_DATE_MS = 8.64e15;

/** Input to {@link planFires}. */
export interface FirePlanInput {
  /** The schedule's timing. */
  timing: ScheduleTiming;
  /** The stored `next_fire_at`: the first fire time not yet handled. Fires before it are never planned again. */
  dueFrom: Date;
  /** The current time (from the database clock). */
  now: Date;
  /** What to do with fire times older than the grace. */
  misfirePolicy: MisfirePolicy;
  /** Most misfired fire times `catch-up` enqueues (the latest ones). Ignored by other policies. */
  catchUpMax: number;
  /** A due fire time at most this many ms before `now` is on time and always enqueued. */
  misfireGraceMs: number;
  /** Bound on fire times walked in each direction. @defaultValue 10,000 */
  maxEnumerate?: number;
}

/** What was skipped by a plan. */
export interface SkippedFires {
  /** How many due fire times were skipped. */
  count: number;
  /** True when `count` stopped at the enumeration bound: at least this many were skipped. */
  countIsLowerBound: boolean;
  /** The earliest skipped fire time, or null when none was skipped. */
  first: Date | null;
  /** The latest skipped fire time, or null when none was skipped. */
  last: Date | null;
  /** The latest ≤ 10 skipped fire times, ascending, to record as "skipped: misfire" runs. */
  sample: Date[];
}

/** The result of {@link planFires}. */
export interface FirePlan {
  /** Fire times to enqueue a job for, ascending. */
  fires: Date[];
  /** Due fire times not enqueued. */
  skipped: SkippedFires;
  /** First fire strictly after `now` and not before `dueFrom` (the new stored `next_fire_at`); null if the schedule never fires again. */
  nextFireAt: Date | null;
}

/**
 * Check an interval length: an integer number of ms from 1 s to 366 days.
 * @throws AppError VALIDATION_FAILED when it is not a number, SCHEDULE_INVALID when out of range.
 */
export function validateInterval(everyMs: unknown, pointer = '/everyMs'): number {
  if (typeof everyMs !== 'number' || !Number.isFinite(everyMs)) throw invalidField(pointer, 'must be a number of milliseconds');
  if (!Number.isInteger(everyMs) || everyMs < MIN_INTERVAL_MS || everyMs > MAX_INTERVAL_MS) {
    const message = `must be a whole number of milliseconds from ${MIN_INTERVAL_MS} (1 second) to ${MAX_INTERVAL_MS} (366 days)`;
    throw new AppError('SCHEDULE_INVALID', `${pointer}: ${message}`, { errors: [{ pointer, message }] });
  }
  return everyMs;
}

function ms(value: Date, pointer: string): number {
  const t = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(t)) throw invalidField(pointer, 'must be a valid date');
  return t;
}

function intervalParts(timing: { everyMs: number; anchor: Date }): { every: number; anchor: number } {
  return { every: validateInterval(timing.everyMs, '/everyMs'), anchor: ms(timing.anchor, '/anchor') };
}

/** First fire strictly after instant `after` (ms), or null. Interval fires are anchor + k·every, k ≥ 0. */
function nextMs(timing: ScheduleTiming, after: number): number | null {
  if (timing.kind === 'cron') return timing.cron.next(new Date(after))?.getTime() ?? null;
  const { every, anchor } = intervalParts(timing);
  const t = after < anchor ? anchor : anchor + (Math.floor((after - anchor) / every) + 1) * every;
  return t > MAX_DATE_MS ? null : t;
}

/** Last fire strictly before instant `before` (ms), or null. */
function previousMs(timing: ScheduleTiming, before: number): number | null {
  if (timing.kind === 'cron') return timing.cron.previous(new Date(before))?.getTime() ?? null;
  const { every, anchor } = intervalParts(timing);
  return before <= anchor ? null : anchor + (Math.ceil((before - anchor) / every) - 1) * every;
}

/**
 * First fire time strictly after `after`, or null if the schedule never fires again.
 * For an interval that is `anchor + k × everyMs` for the smallest k ≥ 0 that is after `after`.
 */
export function nextFireAfter(timing: ScheduleTiming, after: Date): Date | null {
  const t = nextMs(timing, ms(after, '/after'));
  return t === null ? null : new Date(t);
}

/** Up to `count` fire times strictly after `after`, ascending: the preview shown to users. */
export function previewFires(timing: ScheduleTiming, after: Date, count: number): Date[] {
  if (!Number.isInteger(count) || count < 0) throw invalidField('/count', 'must be a non-negative integer');
  const out: Date[] = [];
  for (let t = nextMs(timing, ms(after, '/after')); t !== null && out.length < count; t = nextMs(timing, t)) out.push(new Date(t));
  return out;
}

/** The latest fires t with `from` ≤ t < `before`, newest first, at most `limit` of them. */
function latestFires(timing: ScheduleTiming, before: number, from: number, limit: number): number[] {
  const out: number[] = [];
  for (let t = previousMs(timing, before); t !== null && t >= from && out.length < limit; t = previousMs(timing, t)) out.push(t);
  return out;
}

/**
 * Number of fires in [first, until), where `first` is the first of them. Intervals count exactly
 * by arithmetic. Cron walks forward at most `limit` fires; when that falls short it joins the walk
 * to `tail` (the newest fires, already known) and reports a lower bound unless the two meet.
 */
function countFires(timing: ScheduleTiming, first: number, until: number, limit: number, tail: number[]): { count: number; lowerBound: boolean } {
  if (first >= until) return { count: 0, lowerBound: false };
  if (timing.kind === 'interval') {
    const last = previousMs(timing, until) ?? first;
    return { count: Math.round((last - first) / timing.everyMs) + 1, lowerBound: false };
  }
  let walked = 0;
  let newestWalked = first;
  let t: number | null = first;
  for (; t !== null && t < until && walked < limit; t = nextMs(timing, t)) { walked += 1; newestWalked = t; }
  if (t === null || t >= until) return { count: walked, lowerBound: false };
  const unseen = tail.filter((x) => x > newestWalked).length;
  const oldestTail = tail[tail.length - 1];
  return { count: walked + unseen, lowerBound: oldestTail === undefined || oldestTail > newestWalked };
}

function checkPlanInput(input: FirePlanInput): { now: number; dueFrom: number; limit: number } {
  if (!MISFIRE_POLICIES.includes(input.misfirePolicy)) throw invalidField('/misfirePolicy', `must be one of ${MISFIRE_POLICIES.join(', ')}`);
  if (!Number.isInteger(input.catchUpMax) || input.catchUpMax < 0) throw invalidField('/catchUpMax', 'must be a non-negative integer');
  if (!Number.isFinite(input.misfireGraceMs) || input.misfireGraceMs < 0) throw invalidField('/misfireGraceMs', 'must be a non-negative number');
  const limit = input.maxEnumerate ?? DEFAULT_MAX_ENUMERATE;
  if (!Number.isInteger(limit) || limit < 1) throw invalidField('/maxEnumerate', 'must be a positive integer');
  return { now: ms(input.now, '/now'), dueFrom: ms(input.dueFrom, '/dueFrom'), limit };
}

/**
 * Decide which due fire times to enqueue. A fire time t is due when dueFrom ≤ t ≤ now; it is on
 * time when now − t ≤ misfireGraceMs (always enqueued) and misfired otherwise (handled by the
 * policy). At most `maxEnumerate` on-time fires are enqueued: older ones beyond that bound are
 * handled as misfired, so one call never enqueues an unbounded burst.
 */
export function planFires(input: FirePlanInput): FirePlan {
  const { now, dueFrom, limit } = checkPlanInput(input);
  const { timing, misfirePolicy } = input;
  const upcoming = nextMs(timing, Math.max(now, dueFrom - 1));
  const nextFireAt = upcoming === null ? null : new Date(upcoming);
  const firstDue = nextMs(timing, dueFrom - 1);
  if (firstDue === null || firstDue > now) {
    return { fires: [], skipped: { count: 0, countIsLowerBound: false, first: null, last: null, sample: [] }, nextFireAt };
  }

  const onTimeFrom = Math.max(dueFrom, now - input.misfireGraceMs);
  const onTime = latestFires(timing, now + 1, onTimeFrom, limit);
  const oldestOnTime = onTime[onTime.length - 1];
  const truncated = onTime.length === limit && oldestOnTime !== undefined && (previousMs(timing, oldestOnTime) ?? -Infinity) >= onTimeFrom;
  const misfiredUntil = truncated && oldestOnTime !== undefined ? oldestOnTime : onTimeFrom;

  const enqueueCount = misfirePolicy === 'skip' ? 0 : misfirePolicy === 'run-once' ? 1 : Math.min(input.catchUpMax, limit);
  const tail = latestFires(timing, misfiredUntil, dueFrom, enqueueCount + SKIPPED_SAMPLE_SIZE);
  const misfired = countFires(timing, firstDue, misfiredUntil, limit, tail);
  const enqueued = tail.slice(0, enqueueCount);
  const skippedNewest = tail.slice(enqueueCount);
  const skippedCount = Math.max(0, misfired.count - enqueued.length);

  return {
    fires: [...enqueued.reverse(), ...onTime.reverse()].map((t) => new Date(t)),
    skipped: {
      count: skippedCount,
      countIsLowerBound: misfired.lowerBound,
      first: skippedCount > 0 ? new Date(firstDue) : null,
      last: skippedNewest[0] === undefined ? null : new Date(skippedNewest[0]),
      sample: skippedNewest.reverse().map((t) => new Date(t)),
    },
    nextFireAt,
  };
}
