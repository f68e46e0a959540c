import { ERROR_CODES, type ErrorCode } from './codes.js';

/** One problem with one field, addressed by a JSON pointer (RFC 6901). */
export interface FieldError {
  /** JSON pointer to the offending field, e.g. `/options/maxAttempts`. */
  pointer: string;
  /** What is wrong, in words. */
  message: string;
}

/**
 * The one error type Jobplane throws for expected failures. It carries a stable `code`
 * (see `codes.ts`) so callers can branch on it, and maps to RFC 9457 problem JSON.
 */
export class AppError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** HTTP status that goes with the code. */
  readonly status: number;
  /** Field-level problems, if any. */
  readonly errors: readonly FieldError[];

  constructor(code: ErrorCode, detail?: string, options: { errors?: FieldError[]; cause?: unknown } = {}) {
    super(detail ?? ERROR_CODES[code].title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.errors = options.errors ?? [];
  }

  /** The RFC 9457 problem document for this error. */
  toProblem(instance?: string): Record<string, unknown> {
    return {
      type: `https://jobplane.dev/errors#${this.code.toLowerCase()}`,
      title: ERROR_CODES[this.code].title,
      status: this.status,
      code: this.code,
      detail: this.message,
      ...(instance === undefined ? {} : { instance }),
      ...(this.errors.length > 0 ? { errors: this.errors } : {}),
    };
  }
}

/** Whether `error` is an AppError with the given code (or any code when omitted). */
export function isAppError(error: unknown, code?: ErrorCode): error is AppError {
  return error instanceof AppError && (code === undefined || error.code === code);
}

/** Shorthand for a VALIDATION_FAILED error about one field. */
export function invalidField(pointer: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${pointer || '/'}: ${message}`, { errors: [{ pointer, message }] });
}
