/**
 * What a caller may ask for when creating or editing a schedule (one TypeBox schema, shared with
 * the API and its OpenAPI document), validated into stored fields. Pure: "now" is passed in (the
 * database clock at the call site).
 */
import { Type, type Static } from 'typebox';
import { AppError, type FieldError } from '../errors/app-error.js';
import { assertTimezone, compileCron } from './cron/index.js';
import { JobSubmitSchema, normalizeJobSpec, type JobSpec } from './job-spec.js';
import { MISFIRE_POLICIES, nextFireAfter, validateInterval, type MisfirePolicy, type ScheduleTiming } from './schedule-plan.js';
import { compileSchema } from './schema-errors.js';
import { checkJsonValue, NAME_PATTERN, parseTimestamp, unstorableText } from './validate.js';

/** What happens when a fire time comes while the previous run is still going. */
export type OverlapPolicy = 'allow' | 'skip' | 'queue-one' | 'cancel-previous';
/** Every overlap policy. */
export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['allow', 'skip', 'queue-one', 'cancel-previous'];

/** A union of string literals, typed as their union (a mapped array would be typed `never`). */
const oneOf = <T extends string>(values: readonly T[]) => Type.Unsafe<T>(Type.Union(values.map((v) => Type.Literal(v))));

const policyFields = {
  misfirePolicy: Type.Optional(oneOf<MisfirePolicy>(MISFIRE_POLICIES)),
  catchUpMax: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  misfireGraceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
  overlapPolicy: Type.Optional(oneOf<OverlapPolicy>(OVERLAP_POLICIES)),
};

const specFields = {
  description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  cron: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
  intervalMs: Type.Optional(Type.Union([Type.Integer({ minimum: 1000 }), Type.Null()])),
  timezone: Type.Optional(Type.String({ maxLength: 64 })),
  startAt: Type.Optional(Type.String()),
  queue: JobSubmitSchema.properties.queue,
  payload: Type.Optional(Type.Unknown()),
  jobOptions: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  paused: Type.Optional(Type.Boolean()),
  ...policyFields,
};

const name = Type.String({ minLength: 1, maxLength: 128, pattern: NAME_PATTERN.source });
const task = JobSubmitSchema.properties.task;

/** A schedule to create (give exactly one of `cron` and `intervalMs`). */
export const ScheduleCreateSchema = Type.Object({ name, task, ...specFields }, { $id: 'ScheduleCreate', additionalProperties: false });

/** Fields to change on a schedule. */
export const SchedulePatchSchema = Type.Object({ name: Type.Optional(name), task: Type.Optional(task), ...specFields }, { $id: 'SchedulePatch', additionalProperties: false });

/** Options of the jobs a schedule creates (the job spec minus task, queue and payload). */
export type ScheduleJobOptions = Omit<JobSpec, 'task' | 'queue' | 'payload' | 'runAt' | 'delayMs' | 'idempotencyKey'>;
const SCHEDULE_FORBIDDEN_JOB_OPTIONS = ['task', 'queue', 'payload', 'runAt', 'delayMs', 'idempotencyKey'] as const;

/** A schedule to create (all fields) or the new state of one being edited: {@link ScheduleCreateSchema}, with a Date allowed for `startAt`. */
export type ScheduleSpec = Omit<Static<typeof ScheduleCreateSchema>, 'startAt' | 'jobOptions'> & { startAt?: Date | string; jobOptions?: ScheduleJobOptions };

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

const scheduleCreate = compileSchema(ScheduleCreateSchema);

/** Rules the schema cannot say: exactly one timing, no per-job fields in the template's options, storable text, a real start. */
function scheduleRules(s: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const hasCron = s.cron !== undefined && s.cron !== null;
  const hasInterval = s.intervalMs !== undefined && s.intervalMs !== null;
  if (hasCron === hasInterval) errors.push({ pointer: '/', message: 'give exactly one of cron or intervalMs' });
  const jobOptions = s.jobOptions;
  if (typeof jobOptions === 'object' && jobOptions !== null) {
    for (const forbidden of SCHEDULE_FORBIDDEN_JOB_OPTIONS) {
      if (forbidden in jobOptions) errors.push({ pointer: `/jobOptions/${forbidden}`, message: 'is not allowed in a schedule' });
    }
  }
  // name, task and queue patterns admit only ASCII; the free-text fields are checked here.
  for (const key of ['description', 'cron', 'timezone']) {
    if (s[key] !== undefined) errors.push(...unstorableText(s[key], `/${key}`));
  }
  if (s.startAt !== undefined) errors.push(...parseTimestamp(s.startAt, '/startAt').errors);
  return errors;
}

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
  const wire = s.startAt instanceof Date ? { ...s, startAt: '1970-01-01T00:00:00Z' } : s;
  const errors: FieldError[] = scheduleCreate.check(wire) ? [] : scheduleCreate.errors(wire);
  const more = [...scheduleRules(s), ...checkJsonValue(s.payload === undefined ? {} : s.payload, '/payload').errors];
  errors.push(...more.filter((e) => !errors.some((known) => known.pointer === e.pointer)));
  const hasCron = s.cron !== undefined && s.cron !== null;
  const hasInterval = s.intervalMs !== undefined && s.intervalMs !== null;
  const jobOptions = (s.jobOptions ?? {}) as Record<string, unknown>;
  if (errors.length === 0) {
    try {
      normalizeJobSpec({ ...(jobOptions), task: s.task, queue: s.queue }, '');
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      errors.push(...error.errors.map((e) => ({ pointer: e.pointer.startsWith('/task') || e.pointer.startsWith('/queue') ? e.pointer : `/jobOptions${e.pointer}`, message: e.message })));
    }
  }
  if (errors.length > 0) throw new AppError('VALIDATION_FAILED', `${errors[0]!.pointer}: ${errors[0]!.message}`, { errors });
  const startAt = s.startAt === undefined ? undefined : parseTimestamp(s.startAt, '/startAt').value;
  const timezone = (s.timezone as string | undefined) ?? 'UTC';
  assertTimezone(timezone);
  const intervalMs = hasInterval ? validateInterval(s.intervalMs, '/intervalMs') : null;
  const anchorAt = startAt ?? previousAnchor ?? now;
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
    jobOptions: jobOptions,
    misfirePolicy: (s.misfirePolicy as MisfirePolicy | undefined) ?? 'run-once',
    catchUpMax: (s.catchUpMax as number | undefined) ?? 10,
    misfireGraceMs: (s.misfireGraceMs as number | undefined) ?? 60_000,
    overlapPolicy: (s.overlapPolicy as OverlapPolicy | undefined) ?? 'allow',
    paused: (s.paused as boolean | undefined) ?? false,
    nextFireAt,
  };
}
