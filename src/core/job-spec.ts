/**
 * What a caller may ask for when submitting a job (one TypeBox schema, shared with the API and its
 * OpenAPI document), and its validation into the normalised shape the store inserts. Pure: ids
 * and the clock are supplied by the caller.
 */
import { isDeepStrictEqual } from 'node:util';
import { Type, type Static } from 'typebox';
import { AppError, type FieldError } from '../errors/app-error.js';
import { type BackoffOptions } from './backoff.js';
import { compileSchema, describePattern } from './schema-errors.js';
import {
  checkJsonValue,
  DEFAULT_JSON_LIMITS,
  NAME_PATTERN,
  parseTimestamp,
  TASK_PATTERN,
  unstorableText,
  type JsonLimits,
} from './validate.js';

const MAX_DELAY_MS = 366 * 86_400_000;
const LABEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/** Retry delays of a job (see src/core/backoff.ts for what each does). */
export const BackoffSchema = Type.Object(
  {
    type: Type.Optional(Type.Union([Type.Literal('exponential'), Type.Literal('fixed')], { description: '`exponential` grows by `factor` per attempt; `fixed` always waits `baseMs`' })),
    baseMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'delay after the first failed attempt' })),
    factor: Type.Optional(Type.Number({ minimum: 1, maximum: 100, description: 'growth per attempt (exponential)' })),
    maxMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86_400_000, description: 'upper bound on the delay before jitter' })),
    jitter: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'random spread as a fraction of the delay' })),
  },
  { additionalProperties: false },
);

/** Where a job may run; omit for "any worker that has the task". Give at most one of zone, workerId, policy. */
export const PlacementSchema = Type.Object(
  {
    zone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: NAME_PATTERN.source, description: 'only workers in this zone' })),
    workerId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'only this worker' })),
    policy: Type.Optional(Type.Literal('greenest', { description: 'the zone with the lowest carbon intensity among zones with a live worker' })),
    deadline: Type.Optional(Type.String({ description: 'RFC 3339 with offset: latest acceptable start; the greenest policy stops waiting past it' })),
  },
  { additionalProperties: false },
);

/** What a caller may ask for when submitting a job: the one declaration the SDK, the API and its OpenAPI document share. */
export const JobSubmitSchema = Type.Object(
  {
    task: Type.String({ minLength: 1, maxLength: 128, pattern: TASK_PATTERN.source, description: 'a worker must have a handler for it' }),
    payload: Type.Optional(Type.Unknown({ description: 'any JSON value' })),
    queue: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: NAME_PATTERN.source, description: "default: 'default'" })),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000, description: 'higher runs first (default 0)' })),
    runAt: Type.Optional(Type.String({ description: 'RFC 3339 with offset' })),
    delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DELAY_MS, description: 'do not run before now + delayMs (database clock); ignored when runAt is given' })),
    maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'attempts before the job fails (default 3)' })),
    backoff: Type.Optional(BackoffSchema),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 604_800_000, description: 'abort an attempt after this many ms' })),
    idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'same key within a tenant: the existing job is returned instead of a new one' })),
    placement: Type.Optional(PlacementSchema),
    labels: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: 256 }), {
        maxProperties: 32,
        propertyNames: { maxLength: 64, pattern: describePattern(LABEL_NAME, 'label names are letters, digits, . _ / -') },
        description: 'free-form string labels',
      }),
    ),
  },
  { $id: 'JobSubmit', additionalProperties: false },
);

/** Where a job may run (timestamps may also be Dates in the SDK). */
export type PlacementOptions = Omit<Static<typeof PlacementSchema>, 'deadline'> & { deadline?: Date | string };

/** A job to submit: {@link JobSubmitSchema}, with Dates allowed where the API takes RFC 3339 strings. */
export type JobSpec = Omit<Static<typeof JobSubmitSchema>, 'runAt' | 'placement'> & { runAt?: Date | string; placement?: PlacementOptions };

/** A validated job, ready for the store. */
export interface NormalizedJob {
  task: string;
  /** The payload as given (validated as storable JSON). */
  payload: unknown;
  queue: string;
  priority: number;
  runAt: Date | null;
  delayMs: number;
  maxAttempts: number;
  backoff: BackoffOptions | null;
  timeoutMs: number | null;
  idempotencyKey: string | null;
  labels: Record<string, string> | null;
  placement: 'any' | 'zone' | 'worker' | 'greenest';
  placementZone: string | null;
  placementWorker: string | null;
  deadlineAt: Date | null;
}

/** Default number of attempts. */
export const DEFAULT_MAX_ATTEMPTS = 3;
const jobSubmit = compileSchema(JobSubmitSchema);
// A valid Date stands where the schema (shared with the API) has a string; parseTimestamp checks it.
const DATE_STAND_IN = '1970-01-01T00:00:00Z';

/** The spec as the API would receive it (Dates as strings), for the schema check. */
function onTheWire(s: Record<string, unknown>): Record<string, unknown> {
  const placement = s.placement as Record<string, unknown> | undefined;
  const dateDeadline = typeof placement === 'object' && placement !== null && placement.deadline instanceof Date;
  if (!(s.runAt instanceof Date) && !dateDeadline) return s;
  return {
    ...s,
    ...(s.runAt instanceof Date ? { runAt: DATE_STAND_IN } : {}),
    ...(dateDeadline ? { placement: { ...placement, deadline: DATE_STAND_IN } } : {}),
  };
}

/** Rules the schema cannot say: real timestamps, storable text, one placement kind. Errors at pointers the schema already named are left out. */
function jobRules(s: Record<string, unknown>, pointer: string, schemaErrors: readonly FieldError[]): FieldError[] {
  const errors: FieldError[] = [];
  if (s.runAt !== undefined) errors.push(...parseTimestamp(s.runAt, `${pointer}/runAt`).errors);
  // task, queue and zone patterns admit only ASCII; the free-text fields are checked here.
  for (const key of ['idempotencyKey', 'labels', 'placement']) {
    if (s[key] !== undefined) errors.push(...unstorableText(s[key], `${pointer}/${key}`));
  }
  const p = s.placement;
  if (typeof p === 'object' && p !== null && !Array.isArray(p)) {
    const placement = p as Record<string, unknown>;
    if (placement.deadline !== undefined) errors.push(...parseTimestamp(placement.deadline, `${pointer}/placement/deadline`).errors);
    errors.push(...placementConflicts(placement, `${pointer}/placement`));
  }
  return errors.filter((e) => !schemaErrors.some((known) => known.pointer === e.pointer));
}

/** Cross-field rule: at most one of zone, workerId and policy. */
export function placementConflicts(placement: Readonly<Record<string, unknown>>, pointer: string): FieldError[] {
  const given = [placement.zone, placement.workerId, placement.policy].filter((v) => v !== undefined).length;
  return given > 1 ? [{ pointer, message: 'give only one of zone, workerId or policy' }] : [];
}

/**
 * Validate a job spec against {@link JobSubmitSchema} and the rules next to it, collecting every
 * field error. Throws AppError VALIDATION_FAILED (or PAYLOAD_TOO_LARGE) with JSON pointers under
 * `pointer`, worded as the API words them.
 */
export function normalizeJobSpec(spec: unknown, pointer = '', limits: JsonLimits = DEFAULT_JSON_LIMITS): NormalizedJob {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new AppError('VALIDATION_FAILED', 'a job must be an object', { errors: [{ pointer: pointer || '/', message: 'must be an object' }] });
  }
  const s = spec as Record<string, unknown>;
  const wire = onTheWire(s);
  const errors: FieldError[] = jobSubmit.check(wire) ? [] : jobSubmit.errors(wire, pointer);
  errors.push(...jobRules(s, pointer, errors));
  const payload = checkJsonValue(s.payload === undefined ? {} : s.payload, `${pointer}/payload`, limits);
  errors.push(...payload.errors);
  if (errors.length > 0) {
    const code = payload.tooLarge && errors.length === 1 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_FAILED';
    const first = errors[0]!;
    throw new AppError(code, `${first.pointer}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, { errors });
  }
  const job = s as JobSpec;
  const p = job.placement;
  return {
    task: job.task,
    payload: job.payload === undefined ? {} : job.payload,
    queue: job.queue ?? 'default',
    priority: job.priority ?? 0,
    runAt: job.runAt === undefined ? null : parseTimestamp(job.runAt, '').value!,
    delayMs: job.delayMs ?? 0,
    maxAttempts: job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    backoff: job.backoff ?? null,
    timeoutMs: job.timeoutMs ?? null,
    idempotencyKey: job.idempotencyKey ?? null,
    labels: job.labels ?? null,
    placement: p?.zone !== undefined ? 'zone' : p?.workerId !== undefined ? 'worker' : p?.policy !== undefined ? 'greenest' : 'any',
    placementZone: p?.zone ?? null,
    placementWorker: p?.workerId ?? null,
    deadlineAt: p?.deadline === undefined ? null : parseTimestamp(p.deadline, '').value!,
  };
}

/** The stored fields an idempotent resubmission must repeat. */
export interface IdempotentFields {
  task: string;
  queue: string;
  payload: unknown;
  priority: number;
  maxAttempts: number;
}

/**
 * Fields in which a resubmission differs from the job its idempotency key already names (empty:
 * it is a true repeat). Payloads compare as JSON values: key order and `1.0` vs `1` do not count.
 */
export function idempotencyMismatch(spec: NormalizedJob, existing: IdempotentFields): Array<keyof IdempotentFields> {
  const fields: Array<keyof IdempotentFields> = [];
  if (spec.task !== existing.task) fields.push('task');
  if (spec.queue !== existing.queue) fields.push('queue');
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(spec.payload ?? null)) as unknown, existing.payload)) fields.push('payload');
  if (spec.priority !== existing.priority) fields.push('priority');
  if (spec.maxAttempts !== existing.maxAttempts) fields.push('maxAttempts');
  return fields;
}
