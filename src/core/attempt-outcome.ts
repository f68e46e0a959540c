/**
 * What a finished attempt means for its job, decided once for every way an attempt ends: the
 * in-process worker's handler settling ({@link decideOutcome}), a remote worker's failure report
 * ({@link decideReportedFailure}) and the rescuer finding an expired lease
 * ({@link decideExpiredLease}). All three go through {@link retryOrFail} (attempts left?) and end in
 * {@link finalStatus}, the one fact the deciding process cannot know: whether a cancel was
 * requested meanwhile. The report statement (`recordReports` in `src/db/queries/jobs.ts`) applies
 * that last rule in SQL, fenced by the lease token, so a batch needs no read first;
 * `test/integration/attempt-outcome-sql.test.ts` proves the SQL and {@link finalStatus} agree.
 */
import { classifyTaskError } from '../errors/task-errors.js';
import { backoffDelayMs, resolveBackoff, type BackoffOptions } from './backoff.js';
import type { JobStatus } from './job-states.js';
import { badTextReason, checkJsonValue } from './validate.js';

/** One recorded failure (or abandonment) of an attempt, kept in the job's `errors` array. */
export interface AttemptError {
  attempt: number;
  /** `error`: the handler threw; `permanent`: PermanentError or unusable result; `timeout`; `lease-expired`; `cancelled`. */
  kind: 'error' | 'timeout' | 'lease-expired' | 'cancelled' | 'permanent';
  message: string;
  name?: string;
  stack?: string;
  workerId: string | null;
  at: string;
}

/** Why an attempt's signal fired, if it did. */
export type AbortCause = 'cancelled' | 'timeout' | 'lease-lost' | 'shutdown';

/** The decision for one attempt. */
export type AttemptOutcome =
  | { kind: 'completed'; resultJson: string }
  | { kind: 'retry'; error: AttemptError; delayMs: number }
  | { kind: 'failed'; error: AttemptError }
  | { kind: 'cancelled'; error: AttemptError }
  | { kind: 'released' }
  | { kind: 'dropped' };

/** How the handler settled. */
export type Settlement = { ok: true; value: unknown } | { ok: false; error: unknown };

/** The parts of a job the decision needs (as claimed: a fenced report sees the same counters). */
export interface AttemptJob {
  attempt: number;
  attemptBase: number;
  maxAttempts: number;
  backoff: BackoffOptions | null;
}

/** The kind of a report that reaches the store (`dropped` outcomes are not reported). */
export type ReportKind = Exclude<AttemptOutcome['kind'], 'dropped'>;

/** Report kinds, for tests that walk every case. */
export const REPORT_KINDS: readonly ReportKind[] = ['completed', 'retry', 'failed', 'cancelled', 'released'];

/**
 * The status a running job moves to when the report of its attempt is recorded. A job whose
 * cancel was requested never goes back to the queue and does not end as failed, even if its
 * worker had not heard of the request yet (released at shutdown, or failed meanwhile); a
 * completed attempt stays completed. Mirrored by the report statement's CASE.
 */
export function finalStatus(kind: Exclude<ReportKind, 'completed'>, cancelRequested: boolean): Extract<JobStatus, 'queued' | 'failed' | 'cancelled'>;
export function finalStatus(kind: ReportKind, cancelRequested: boolean): Extract<JobStatus, 'queued' | 'completed' | 'failed' | 'cancelled'>;
export function finalStatus(kind: ReportKind, cancelRequested: boolean): Extract<JobStatus, 'queued' | 'completed' | 'failed' | 'cancelled'> {
  if (kind === 'completed') return 'completed';
  if (kind === 'cancelled' || cancelRequested) return 'cancelled';
  return kind === 'failed' ? 'failed' : 'queued';
}

/** Context of the decision. */
export interface DecideContext {
  workerId: string;
  nowIso: string;
  random: () => number;
  /** Largest stored result, in bytes. */
  maxResultBytes: number;
}

const MAX_MESSAGE = 4096;
const MAX_STACK = 8192;
const MAX_NAME = 200;

/** Make text safe to store: no NUL, no lone surrogates, bounded length. */
export function storableText(text: string, max: number): string {
  let out = badTextReason(text) === null ? text : text.replaceAll('\u0000', '\\0').toWellFormed();
  if (out.length > max) out = `${out.slice(0, max - 1)}…`;
  return out;
}

declare global {
  interface String {
    /** ES2024; present in Node ≥ 20. */
    toWellFormed(): string;
  }
}

/** An error as described by whoever saw it: a thrown `Error`, or a remote worker's report. */
export interface ErrorDescription {
  message: string;
  name?: string | undefined;
  stack?: string | undefined;
}

/** Who records an attempt error, and when. */
export interface ErrorContext {
  workerId: string | null;
  nowIso: string;
}

/** Store an error description as an attempt error: bounded, storable text; name and stack kept when given. */
export function describeAttemptError(error: ErrorDescription, kind: AttemptError['kind'], attempt: number, ctx: ErrorContext): AttemptError {
  return {
    attempt,
    kind,
    message: storableText(error.message || 'unknown error', MAX_MESSAGE),
    ...(error.name ? { name: storableText(error.name, MAX_NAME) } : {}),
    ...(error.stack ? { stack: storableText(error.stack, MAX_STACK) } : {}),
    workerId: ctx.workerId,
    at: ctx.nowIso,
  };
}

/** Describe a thrown value as an attempt error. */
export function toAttemptError(error: unknown, kind: AttemptError['kind'], attempt: number, ctx: ErrorContext): AttemptError {
  const e = error instanceof Error ? error : null;
  const message = e ? e.message || e.name : typeof error === 'string' ? error : safeString(error);
  return describeAttemptError({ message, name: e?.name, stack: e?.stack }, kind, attempt, ctx);
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Attempts left in the job's current run (a manual retry starts a new run at `attemptBase`). */
export function attemptsLeft(job: Pick<AttemptJob, 'attempt' | 'attemptBase' | 'maxAttempts'>): number {
  return job.maxAttempts - (job.attempt - job.attemptBase);
}

/** Retry if attempts are left in this run, else fail. */
export function retryOrFail(job: Pick<AttemptJob, 'attempt' | 'attemptBase' | 'maxAttempts'>, error: AttemptError, delayMs: number): Extract<AttemptOutcome, { kind: 'retry' | 'failed' }> {
  return attemptsLeft(job) > 0 ? { kind: 'retry', error, delayMs } : { kind: 'failed', error };
}

/** The job's backoff before its next attempt. */
function backoffFor(job: AttemptJob, random: () => number): number {
  return backoffDelayMs(resolveBackoff(job.backoff), job.attempt - job.attemptBase, random);
}

/** A failure reported by a worker outside this process (the remote-worker protocol). */
export interface ReportedFailure extends ErrorDescription {
  /** false: permanent, never retried. @defaultValue true */
  retryable?: boolean | undefined;
  /** Overrides the job's backoff for the next attempt. */
  retryAfterMs?: number | undefined;
}

/**
 * Decide a reported failure: `cancelled` ends the job as cancelled, `retryable: false` fails it,
 * anything else retries after `retryAfterMs` or the job's backoff while attempts are left.
 */
export function decideReportedFailure(
  job: AttemptJob,
  failure: ReportedFailure,
  cancelled: boolean,
  ctx: ErrorContext & { random: () => number },
): Extract<AttemptOutcome, { kind: 'retry' | 'failed' | 'cancelled' }> {
  if (cancelled) return { kind: 'cancelled', error: describeAttemptError(failure, 'cancelled', job.attempt, ctx) };
  if (failure.retryable === false) return { kind: 'failed', error: describeAttemptError(failure, 'permanent', job.attempt, ctx) };
  return retryOrFail(job, describeAttemptError(failure, 'error', job.attempt, ctx), failure.retryAfterMs ?? backoffFor(job, ctx.random));
}

/** A running job whose lease expired, as the rescuer locked it. */
export interface ExpiredAttempt {
  attempt: number;
  attemptBase: number;
  maxAttempts: number;
  workerId: string | null;
  cancelRequested: boolean;
}

/**
 * Decide a job whose lease expired (its worker crashed, froze or was cut off): the lost attempt
 * counts (docs/decisions.md #8), so the job goes back to the queue while attempts are left, else fails; a job
 * whose cancel was requested is cancelled. It keeps its `run_at`, so it needs no backoff.
 */
export function decideExpiredLease(job: ExpiredAttempt, nowIso: string): { status: 'queued' | 'failed' | 'cancelled'; error: AttemptError } {
  const error = describeAttemptError(
    { message: 'the lease expired: the worker stopped heartbeating (crashed, killed or cut off)' },
    'lease-expired',
    job.attempt,
    { workerId: job.workerId, nowIso },
  );
  return { status: finalStatus(retryOrFail(job, error, 0).kind, job.cancelRequested), error };
}

/** Decide the outcome of an attempt. */
export function decideOutcome(job: AttemptJob, settled: Settlement, cause: AbortCause | null, ctx: DecideContext): AttemptOutcome {
  if (cause === 'lease-lost') return { kind: 'dropped' };
  if (cause === 'shutdown') return { kind: 'released' };
  const backoff = () => backoffFor(job, ctx.random);
  if (cause === 'timeout') {
    const error = toAttemptError(new Error('the attempt timed out'), 'timeout', job.attempt, ctx);
    return retryOrFail(job, error, backoff());
  }
  if (settled.ok) {
    const value = settled.value === undefined ? null : settled.value;
    const checked = checkJsonValue(value, '', { maxBytes: ctx.maxResultBytes, maxDepth: 32 });
    if (checked.errors.length === 0) return { kind: 'completed', resultJson: checked.json ?? JSON.stringify(value) };
    const reason = checked.errors[0];
    const error = toAttemptError(
      new Error(`the handler returned a result that cannot be stored: ${reason?.pointer || '/'} ${reason?.message ?? ''}`),
      'permanent',
      job.attempt,
      ctx,
    );
    return { kind: 'failed', error };
  }
  if (cause === 'cancelled') {
    return { kind: 'cancelled', error: toAttemptError(settled.error, 'cancelled', job.attempt, ctx) };
  }
  const classified = classifyTaskError(settled.error);
  switch (classified.kind) {
    case 'permanent':
      return { kind: 'failed', error: toAttemptError(settled.error, 'permanent', job.attempt, ctx) };
    case 'cancel':
      return { kind: 'cancelled', error: toAttemptError(settled.error, 'cancelled', job.attempt, ctx) };
    case 'retry-after':
      return retryOrFail(job, toAttemptError(settled.error, 'error', job.attempt, ctx), classified.delayMs);
    default:
      return retryOrFail(job, toAttemptError(settled.error, 'error', job.attempt, ctx), backoff());
  }
}
