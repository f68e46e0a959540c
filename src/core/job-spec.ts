import { isDeepStrictEqual } from 'node:util';
/**
 * What a caller may ask for when submitting a job, and its validation into the normalised shape
 * the store inserts. Pure: ids and the clock are supplied by the caller.
 */
import { AppError, type FieldError } from '../errors/app-error.js';
import { type BackoffOptions } from './backoff.js';
import {
  checkInteger,
  checkJsonValue,
  checkLabels,
  checkNumber,
  checkString,
  DEFAULT_JSON_LIMITS,
  NAME_PATTERN,
  parseTimestamp,
  TASK_PATTERN,
  type JsonLimits,
} from './validate.js';

/** Where a job may run. Omit for "any worker that has the task". */
export interface PlacementOptions {
  /** Only workers in this zone may run the job. */
  zone?: string;
  /** Only this worker (by id) may run the job. */
  workerId?: string;
  /** `greenest`: the zone with the lowest carbon intensity among zones with a live worker. */
  policy?: 'greenest';
  /** Latest acceptable start; the greenest policy stops waiting for a cleaner zone past it. */
  deadline?: Date | string;
}

/** A job to submit. */
export interface JobSpec {
  /** Task name; a worker must have a handler for it. */
  task: string;
  /** JSON payload handed to the handler. @defaultValue {} */
  payload?: unknown;
  /** @defaultValue 'default' */
  queue?: string;
  /** -1000…1000; higher runs first. @defaultValue 0 */
  priority?: number;
  /** Do not run before this time (RFC 3339 with offset, or a Date). */
  runAt?: Date | string;
  /** Do not run before now + delayMs (database clock). Ignored when `runAt` is given. */
  delayMs?: number;
  /** Attempts before the job fails (1…1000). @defaultValue 3 */
  maxAttempts?: number;
  /** Retry delays. @defaultValue exponential, 1 s base, ×2, ±20 % jitter, capped at 1 h */
  backoff?: BackoffOptions;
  /** Abort an attempt after this many ms (1 ms…7 days). @defaultValue none */
  timeoutMs?: number;
  /** Same key within a tenant → the existing job is returned instead of a new one. */
  idempotencyKey?: string;
  /** Where it may run. */
  placement?: PlacementOptions;
  /** Free-form string labels (≤ 32). */
  labels?: Record<string, string>;
}

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
const SPEC_KEYS = new Set([
  'task', 'payload', 'queue', 'priority', 'runAt', 'delayMs', 'maxAttempts', 'backoff', 'timeoutMs',
  'idempotencyKey', 'placement', 'labels',
]);
const MAX_DELAY_MS = 366 * 86_400_000;

/**
 * Validate a job spec, collecting every field error. Throws AppError VALIDATION_FAILED (or
 * PAYLOAD_TOO_LARGE) with JSON pointers under `pointer`.
 */
export function normalizeJobSpec(spec: unknown, pointer = '', limits: JsonLimits = DEFAULT_JSON_LIMITS): NormalizedJob {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new AppError('VALIDATION_FAILED', 'a job must be an object', { errors: [{ pointer: pointer || '/', message: 'must be an object' }] });
  }
  const s = spec as Record<string, unknown>;
  const errors: FieldError[] = Object.keys(s)
    .filter((k) => !SPEC_KEYS.has(k))
    .map((k) => ({ pointer: `${pointer}/${k}`, message: 'is not a known job option' }));
  errors.push(...checkString(s.task, `${pointer}/task`, { max: 128, pattern: TASK_PATTERN, patternHint: 'must be letters, digits and . _ : / - (starting with a letter or digit)' }));
  const payload = checkJsonValue(s.payload === undefined ? {} : s.payload, `${pointer}/payload`, limits);
  errors.push(...payload.errors);
  if (s.queue !== undefined) errors.push(...checkString(s.queue, `${pointer}/queue`, { max: 128, pattern: NAME_PATTERN, patternHint: 'must be letters, digits and . _ : - (starting with a letter or digit)' }));
  if (s.priority !== undefined) errors.push(...checkInteger(s.priority, `${pointer}/priority`, -1000, 1000));
  const runAt = s.runAt === undefined ? { errors: [] } : parseTimestamp(s.runAt, `${pointer}/runAt`);
  errors.push(...runAt.errors);
  if (s.delayMs !== undefined) errors.push(...checkInteger(s.delayMs, `${pointer}/delayMs`, 0, MAX_DELAY_MS));
  if (s.maxAttempts !== undefined) errors.push(...checkInteger(s.maxAttempts, `${pointer}/maxAttempts`, 1, 1000));
  if (s.timeoutMs !== undefined) errors.push(...checkInteger(s.timeoutMs, `${pointer}/timeoutMs`, 1, 604_800_000));
  if (s.idempotencyKey !== undefined) errors.push(...checkString(s.idempotencyKey, `${pointer}/idempotencyKey`, { max: 255 }));
  if (s.labels !== undefined) errors.push(...checkLabels(s.labels, `${pointer}/labels`));
  if (s.backoff !== undefined) errors.push(...checkBackoff(s.backoff, `${pointer}/backoff`));
  const placement = normalizePlacement(s.placement, `${pointer}/placement`);
  errors.push(...placement.errors);
  if (errors.length > 0) {
    const code = payload.tooLarge && errors.length === 1 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_FAILED';
    const first = errors[0]!;
    throw new AppError(code, `${first.pointer}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, { errors });
  }
  return {
    task: s.task as string,
    payload: s.payload === undefined ? {} : s.payload,
    queue: (s.queue as string | undefined) ?? 'default',
    priority: (s.priority as number | undefined) ?? 0,
    runAt: runAt.value ?? null,
    delayMs: (s.delayMs as number | undefined) ?? 0,
    maxAttempts: (s.maxAttempts as number | undefined) ?? DEFAULT_MAX_ATTEMPTS,
    backoff: (s.backoff as BackoffOptions | undefined) ?? null,
    timeoutMs: (s.timeoutMs as number | undefined) ?? null,
    idempotencyKey: (s.idempotencyKey as string | undefined) ?? null,
    labels: (s.labels as Record<string, string> | undefined) ?? null,
    ...placement.value,
  };
}

function checkBackoff(value: unknown, pointer: string): FieldError[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [{ pointer, message: 'must be an object' }];
  const b = value as Record<string, unknown>;
  const known = new Set(['type', 'baseMs', 'factor', 'maxMs', 'jitter']);
  return [
    ...Object.keys(b).filter((k) => !known.has(k)).map((k) => ({ pointer: `${pointer}/${k}`, message: 'is not a known backoff option' })),
    ...(b.type !== undefined && b.type !== 'exponential' && b.type !== 'fixed'
      ? [{ pointer: `${pointer}/type`, message: "must be 'exponential' or 'fixed'" }]
      : []),
    ...(b.baseMs !== undefined ? checkInteger(b.baseMs, `${pointer}/baseMs`, 0, 86_400_000) : []),
    ...(b.factor !== undefined ? checkNumber(b.factor, `${pointer}/factor`, 1, 100) : []),
    ...(b.maxMs !== undefined ? checkInteger(b.maxMs, `${pointer}/maxMs`, 0, 7 * 86_400_000) : []),
    ...(b.jitter !== undefined ? checkNumber(b.jitter, `${pointer}/jitter`, 0, 1) : []),
  ];
}

type PlacementFields = Pick<NormalizedJob, 'placement' | 'placementZone' | 'placementWorker' | 'deadlineAt'>;

function normalizePlacement(value: unknown, pointer: string): { value: PlacementFields; errors: FieldError[] } {
  const none: PlacementFields = { placement: 'any', placementZone: null, placementWorker: null, deadlineAt: null };
  if (value === undefined || value === null) return { value: none, errors: [] };
  if (typeof value !== 'object' || Array.isArray(value)) return { value: none, errors: [{ pointer, message: 'must be an object' }] };
  const p = value as Record<string, unknown>;
  const errors: FieldError[] = Object.keys(p)
    .filter((k) => !['zone', 'workerId', 'policy', 'deadline'].includes(k))
    .map((k) => ({ pointer: `${pointer}/${k}`, message: 'is not a known placement option' }));
  if (p.zone !== undefined) errors.push(...checkString(p.zone, `${pointer}/zone`, { max: 64, pattern: NAME_PATTERN }));
  if (p.workerId !== undefined) errors.push(...checkString(p.workerId, `${pointer}/workerId`, { max: 128 }));
  if (p.policy !== undefined && p.policy !== 'greenest') errors.push({ pointer: `${pointer}/policy`, message: "must be 'greenest'" });
  const given = [p.zone, p.workerId, p.policy].filter((v) => v !== undefined).length;
  if (given > 1) errors.push({ pointer, message: 'give only one of zone, workerId or policy' });
  const deadline = p.deadline === undefined ? { errors: [] } : parseTimestamp(p.deadline, `${pointer}/deadline`);
  errors.push(...deadline.errors);
  const kind = p.zone !== undefined ? 'zone' : p.workerId !== undefined ? 'worker' : p.policy !== undefined ? 'greenest' : 'any';
  return {
    value: {
      placement: kind,
      placementZone: (p.zone as string | undefined) ?? null,
      placementWorker: (p.workerId as string | undefined) ?? null,
      deadlineAt: deadline.value ?? null,
    },
    errors,
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
