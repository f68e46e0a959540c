/**
 * What a caller may ask for when creating or editing a schedule, validated into stored fields.
 * Pure: "now" is passed in (the database clock at the call site).
 */
import { AppError, type FieldError } from '../errors/app-error.js';
import { assertTimezone, compileCron } from './cron/index.js';
import { normalizeJobSpec, type JobSpec } from './job-spec.js';
import { MISFIRE_POLICIES, nextFireAfter, validateInterval, type MisfirePolicy, type ScheduleTiming } from './schedule-plan.js';
import { checkInteger, checkJsonValue, checkString, NAME_PATTERN, parseTimestamp } from './validate.js';

/** What happens when a fire time comes while the previous run is still going. */
export type OverlapPolicy = 'allow' | 'skip' | 'queue-one' | 'cancel-previous';
/** Every overlap policy. */
export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['allow', 'skip', 'queue-one', 'cancel-previous'];

/** Options of the jobs a schedule creates (the job spec minus task, queue and payload). */
export type ScheduleJobOptions = Omit<JobSpec, 'task' | 'queue' | 'payload' | 'runAt' | 'delayMs' | 'idempotencyKey'>;

/** A schedule to create (all fields) or the new state of one being edited. */
export interface ScheduleSpec {
  /** Unique within the tenant; letters, digits and . _ : - */
  name: string;
  description?: string | null;
  /** Cron expression (5 or 6 fields). Give this or `intervalMs`. */
  cron?: string | null;
  /** Fixed interval in ms (≥ 1000). Give this or `cron`. */
  intervalMs?: number | null;
  /** IANA time zone for cron. @defaultValue 'UTC' */
  timezone?: string;
  /** First fire of an interval schedule. @defaultValue now */
  startAt?: Date | string;
  task: string;
  /** @defaultValue 'default' */
  queue?: string;
  payload?: unknown;
  jobOptions?: ScheduleJobOptions;
  /** @defaultValue 'run-once' */
  misfirePolicy?: MisfirePolicy;
  /** Most missed fires replayed by `catch-up`. @defaultValue 10 */
  catchUpMax?: number;
  /** A fire this late still counts as on time. @defaultValue 60000 */
  misfireGraceMs?: number;
  /** @defaultValue 'allow' */
  overlapPolicy?: OverlapPolicy;
  /** @defaultValue false */
  paused?: boolean;
}

/** Stored fields of a schedule (camelCase, as in the store). */
export interface NormalizedSchedule {
  name: string;
  description: string | null;
  cron: string | null;
  intervalMs: number | null;
  timezone: string;
  anchorAt: Date;
  task: string;
  queue: string;
  payload: unknown;
  jobOptions: Record<string, unknown>;
  misfirePolicy: MisfirePolicy;
  catchUpMax: number;
  misfireGraceMs: number;
  overlapPolicy: OverlapPolicy;
  paused: boolean;
  nextFireAt: Date | null;
}

const KEYS = new Set([
  'name', 'description', 'cron', 'intervalMs', 'timezone', 'startAt', 'task', 'queue', 'payload', 'jobOptions',
  'misfirePolicy', 'catchUpMax', 'misfireGraceMs', 'overlapPolicy', 'paused',
]);

/** The timing of stored schedule fields. */
export function timingOf(s: Pick<NormalizedSchedule, 'cron' | 'intervalMs' | 'timezone' | 'anchorAt'>): ScheduleTiming {
  return s.cron !== null
    ? { kind: 'cron', cron: compileCron(s.cron, s.timezone) }
    : { kind: 'interval', everyMs: s.intervalMs!, anchor: s.anchorAt };
}

/**
 * Validate a schedule. Cron problems surface with their own codes (CRON_INVALID, CRON_NEVER_FIRES,
 * TIMEZONE_INVALID); everything else is VALIDATION_FAILED with JSON pointers. `nextFireAt` is the
 * first fire strictly after `now` (null while paused is still computed, so resume is instant).
 */
export function normalizeScheduleSpec(spec: unknown, now: Date, previousAnchor?: Date): NormalizedSchedule {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new AppError('VALIDATION_FAILED', 'a schedule must be an object', { errors: [{ pointer: '/', message: 'must be an object' }] });
  }
  const s = spec as Record<string, unknown>;
  const errors: FieldError[] = Object.keys(s).filter((k) => !KEYS.has(k)).map((k) => ({ pointer: `/${k}`, message: 'is not a known schedule option' }));
  errors.push(...checkString(s.name, '/name', { max: 128, pattern: NAME_PATTERN, patternHint: 'must be letters, digits and . _ : - (starting with a letter or digit)' }));
  if (s.description !== undefined && s.description !== null) errors.push(...checkString(s.description, '/description', { min: 0, max: 2000 }));
  const hasCron = s.cron !== undefined && s.cron !== null;
  const hasInterval = s.intervalMs !== undefined && s.intervalMs !== null;
  if (hasCron === hasInterval) errors.push({ pointer: '/', message: 'give exactly one of cron or intervalMs' });
  if (hasCron && typeof s.cron !== 'string') errors.push({ pointer: '/cron', message: 'must be a string' });
  if (s.timezone !== undefined && typeof s.timezone !== 'string') errors.push({ pointer: '/timezone', message: 'must be a string' });
  const startAt = s.startAt === undefined ? { errors: [] } : parseTimestamp(s.startAt, '/startAt');
  errors.push(...startAt.errors);
  if (s.misfirePolicy !== undefined && !MISFIRE_POLICIES.includes(s.misfirePolicy as MisfirePolicy)) {
    errors.push({ pointer: '/misfirePolicy', message: `must be one of ${MISFIRE_POLICIES.join(', ')}` });
  }
  if (s.overlapPolicy !== undefined && !OVERLAP_POLICIES.includes(s.overlapPolicy as OverlapPolicy)) {
    errors.push({ pointer: '/overlapPolicy', message: `must be one of ${OVERLAP_POLICIES.join(', ')}` });
  }
  if (s.catchUpMax !== undefined) errors.push(...checkInteger(s.catchUpMax, '/catchUpMax', 1, 1000));
  if (s.misfireGraceMs !== undefined) errors.push(...checkInteger(s.misfireGraceMs, '/misfireGraceMs', 0, 86_400_000));
  if (s.paused !== undefined && typeof s.paused !== 'boolean') errors.push({ pointer: '/paused', message: 'must be a boolean' });
  const jobOptions = s.jobOptions ?? {};
  if (typeof jobOptions !== 'object' || jobOptions === null || Array.isArray(jobOptions)) {
    errors.push({ pointer: '/jobOptions', message: 'must be an object' });
  } else {
    for (const forbidden of ['task', 'queue', 'payload', 'runAt', 'delayMs', 'idempotencyKey']) {
      if (forbidden in jobOptions) errors.push({ pointer: `/jobOptions/${forbidden}`, message: 'is not allowed in a schedule' });
    }
  }
  const payload = checkJsonValue(s.payload === undefined ? {} : s.payload, '/payload');
  errors.push(...payload.errors);
  if (errors.length === 0) {
    try {
      normalizeJobSpec({ ...(jobOptions), task: s.task, queue: s.queue }, '');
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      errors.push(...error.errors.map((e) => ({ pointer: e.pointer.startsWith('/task') || e.pointer.startsWith('/queue') ? e.pointer : `/jobOptions${e.pointer}`, message: e.message })));
    }
  }
  if (errors.length > 0) throw new AppError('VALIDATION_FAILED', `${errors[0]!.pointer}: ${errors[0]!.message}`, { errors });
  const timezone = (s.timezone as string | undefined) ?? 'UTC';
  assertTimezone(timezone);
  const intervalMs = hasInterval ? validateInterval(s.intervalMs, '/intervalMs') : null;
  const anchorAt = startAt.value ?? previousAnchor ?? now;
  const fields = { cron: hasCron ? (s.cron as string).trim() : null, intervalMs, timezone, anchorAt };
  const timing = timingOf(fields);
  // An interval schedule whose start lies ahead fires first at its start.
  const nextFireAt = timing.kind === 'interval' && anchorAt > now ? anchorAt : nextFireAfter(timing, now);
  return {
    name: s.name as string,
    description: (s.description as string | null | undefined) ?? null,
    ...fields,
    task: s.task as string,
    queue: (s.queue as string | undefined) ?? 'default',
    payload: s.payload === undefined ? {} : s.payload,
    jobOptions: jobOptions as Record<string, unknown>,
    misfirePolicy: (s.misfirePolicy as MisfirePolicy | undefined) ?? 'run-once',
    catchUpMax: (s.catchUpMax as number | undefined) ?? 10,
    misfireGraceMs: (s.misfireGraceMs as number | undefined) ?? 60_000,
    overlapPolicy: (s.overlapPolicy as OverlapPolicy | undefined) ?? 'allow',
    paused: (s.paused as boolean | undefined) ?? false,
    nextFireAt,
  };
}
