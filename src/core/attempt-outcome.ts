/**
 * What a finished attempt means for its job: pure decision from the handler's settlement, the
 * abort reason and the job's retry options. The store re-checks "attempts left" against the row.
 */
import { classifyTaskError } from '../errors/task-errors.js';
import { backoffDelayMs, resolveBackoff, type BackoffOptions } from './backoff.js';
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

/** The parts of a job the decision needs. */
export interface AttemptJob {
  attempt: number;
  attemptBase: number;
  maxAttempts: number;
  backoff: BackoffOptions | null;
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

/** Describe a thrown value as an attempt error. */
export function toAttemptError(
  error: unknown,
  kind: AttemptError['kind'],
  attempt: number,
  ctx: Pick<DecideContext, 'workerId' | 'nowIso'>,
): AttemptError {
  const e = error instanceof Error ? error : null;
  const message = e ? e.message || e.name : typeof error === 'string' ? error : safeString(error);
  return {
    attempt,
    kind,
    message: storableText(message || 'unknown error', MAX_MESSAGE),
    ...(e?.name ? { name: storableText(e.name, 200) } : {}),
    ...(e?.stack ? { stack: storableText(e.stack, MAX_STACK) } : {}),
    workerId: ctx.workerId,
    at: ctx.nowIso,
  };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Retry if attempts are left in this run, else fail. */
function retryOrFail(job: AttemptJob, error: AttemptError, delayMs: number): AttemptOutcome {
  const used = job.attempt - job.attemptBase;
  return used >= job.maxAttempts ? { kind: 'failed', error } : { kind: 'retry', error, delayMs };
}

/** Decide the outcome of an attempt. */
export function decideOutcome(job: AttemptJob, settled: Settlement, cause: AbortCause | null, ctx: DecideContext): AttemptOutcome {
  if (cause === 'lease-lost') return { kind: 'dropped' };
  if (cause === 'shutdown') return { kind: 'released' };
  const backoff = () => backoffDelayMs(resolveBackoff(job.backoff), job.attempt - job.attemptBase, ctx.random);
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
