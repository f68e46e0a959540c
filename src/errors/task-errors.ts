/**
 * Control-flow errors a task handler throws to steer its job. Each sets `name` and keeps
 * `instanceof` working across module copies by also checking `name` (see `classifyTaskError`).
 */

/** Fail the job now, without further attempts (a bad payload, a 4xx from a partner). */
export class PermanentError extends Error {
  constructor(message = 'permanent failure', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/**
 * Retry after `delayMs` instead of the job's backoff. The attempt still counts; when no
 * attempts are left the job fails.
 */
export class RetryAfterError extends Error {
  /** Milliseconds to wait before the next attempt. */
  readonly delayMs: number;
  constructor(delayMs: number, message = `retry in ${delayMs} ms`, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryAfterError';
    this.delayMs = Math.max(0, Math.round(delayMs));
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** End the job as `cancelled` (the handler decided the work is no longer wanted). */
export class CancelError extends Error {
  constructor(message = 'cancelled by the handler', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CancelError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** How the worker treats an error thrown by a handler. */
export type TaskErrorKind =
  | { kind: 'permanent' }
  | { kind: 'retry-after'; delayMs: number }
  | { kind: 'cancel' }
  | { kind: 'error' };

/** Classify a thrown value. Works even when the error class came from another copy of the package. */
export function classifyTaskError(error: unknown): TaskErrorKind {
  if (typeof error === 'object' && error !== null) {
    const name = (error as { name?: unknown }).name;
    if (name === 'PermanentError') return { kind: 'permanent' };
    if (name === 'CancelError') return { kind: 'cancel' };
    if (name === 'RetryAfterError') {
      const delayMs = Number((error as { delayMs?: unknown }).delayMs);
      return { kind: 'retry-after', delayMs: Number.isFinite(delayMs) && delayMs >= 0 ? delayMs : 0 };
    }
  }
  return { kind: 'error' };
}
