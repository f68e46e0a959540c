/**
 * Run-time payload checks shared by the built-in handlers. The API validates at submit time
 * too, but the worker cannot trust that: a payload may predate a stricter rule or a changed
 * allow-list. A bad payload will never get better by retrying, so it fails the job for good.
 */
import { validateBuiltinPayload, type BuiltinPayloadPolicy } from '../../core/builtin-payloads.js';
import { AppError, PermanentError } from '../../errors/index.js';

/**
 * Validate `payload` for the built-in `task` and return it typed, or throw a `PermanentError`
 * listing every field problem (with a `VALIDATION_FAILED` AppError as its cause).
 */
export function checkedPayload<T>(task: string, payload: unknown, policy: BuiltinPayloadPolicy = {}): T {
  const errors = validateBuiltinPayload(task, payload, policy);
  if (errors.length === 0) return payload as T;
  const detail = errors.map((error) => `${error.pointer || '/'} ${error.message}`).join('; ');
  throw new PermanentError(`invalid ${task} payload: ${detail}`, {
    cause: new AppError('VALIDATION_FAILED', detail, { errors }),
  });
}

/** Wait for a macrotask turn, so timers, I/O and heartbeats run between slices of CPU work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
