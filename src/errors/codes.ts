/**
 * Every stable error code Jobplane returns, with its HTTP status and a title.
 * `docs/errors.md` lists each one; `test/unit/error-codes.test.ts` keeps the two in step.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The payload is too large' },
  INVALID_TEXT: { status: 400, title: 'Text contains characters PostgreSQL cannot store' },
  CRON_INVALID: { status: 400, title: 'The cron expression is not valid' },
  CRON_NEVER_FIRES: { status: 400, title: 'The cron expression never fires' },
  TIMEZONE_INVALID: { status: 400, title: 'Unknown IANA time zone' },
  SCHEDULE_INVALID: { status: 400, title: 'The schedule is not valid' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication is required' },
  INVALID_CREDENTIALS: { status: 401, title: 'Wrong username or password' },
  TOKEN_INVALID: { status: 401, title: 'The token is invalid or expired' },
  REFRESH_TOKEN_REUSED: { status: 401, title: 'The refresh token was already used; the session is revoked' },
  FORBIDDEN: { status: 403, title: 'Not allowed for this role or key' },
  NOT_FOUND: { status: 404, title: 'No such route' },
  USER_NOT_FOUND: { status: 404, title: 'User not found' },
  API_KEY_NOT_FOUND: { status: 404, title: 'API key not found' },
  WORKER_NOT_FOUND: { status: 404, title: 'Worker not found' },
  USERNAME_TAKEN: { status: 409, title: 'A user with this name already exists' },
  IDEMPOTENCY_CONFLICT: { status: 422, title: 'The idempotency key was used with a different request' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body must be JSON' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  SEARCH_TOO_BROAD: { status: 422, title: 'The search would take too long' },
  JOB_NOT_FOUND: { status: 404, title: 'Job not found' },
  SCHEDULE_NOT_FOUND: { status: 404, title: 'Schedule not found' },
  QUEUE_NOT_FOUND: { status: 404, title: 'Queue not found' },
  TENANT_NOT_FOUND: { status: 404, title: 'Tenant not found' },
  TENANT_SLUG_TAKEN: { status: 409, title: 'A tenant with this slug already exists' },
  SCHEDULE_NAME_TAKEN: { status: 409, title: 'A schedule with this name already exists' },
  JOB_NOT_CANCELLABLE: { status: 409, title: 'The job cannot be cancelled in its current status' },
  JOB_NOT_RETRYABLE: { status: 409, title: 'Only failed or cancelled jobs can be retried' },
  JOB_NOT_RESCHEDULABLE: { status: 409, title: 'Only queued or scheduled jobs can be rescheduled' },
  INVALID_TRANSITION: { status: 409, title: 'The job cannot move to that status' },
  TASK_DISABLED: { status: 400, title: 'The task is not enabled on this installation' },
  URL_NOT_ALLOWED: { status: 400, title: 'The URL targets an address that is not allowed' },
  DATABASE_UNAVAILABLE: { status: 503, title: 'The database is not reachable' },
  SHUTTING_DOWN: { status: 503, title: 'The process is shutting down' },
  TOO_MANY_STREAMS: { status: 503, title: 'Too many event streams on this process' },
  CONFIG_INVALID: { status: 500, title: 'The configuration is not valid' },
  INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;
