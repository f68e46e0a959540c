import type { Logger, LogFields } from '../core/deps.js';

/** What a handler knows about the job it runs. */
export interface JobInfo {
  /** Job id (UUID v7). */
  id: string;
  /** Owning tenant. */
  tenantId: string;
  /** Task name. */
  task: string;
  /** Queue name. */
  queue: string;
  /** Priority; higher runs first. */
  priority: number;
  /** 1-based number of this attempt, counted over the job's whole life. */
  attempt: number;
  /** Attempts allowed in the current run (a manual retry starts a new run). */
  maxAttempts: number;
  /** Fencing token of this attempt's lease; grows with every claim. */
  leaseToken: string;
  /** The idempotency key given at submit, if any. */
  idempotencyKey: string | null;
  /** Labels given at submit. */
  labels: Record<string, string>;
  /** Schedule that created the job, if any. */
  scheduleId: string | null;
  /** The schedule fire time this job stands for, if any. */
  fireAt: Date | null;
  /** When the job was submitted. */
  createdAt: Date;
  /** When the job became due. */
  runAt: Date;
  /** Per-attempt timeout in ms, if any. */
  timeoutMs: number | null;
}

/** Why a handler's signal fired. */
export type AbortReason = 'cancelled' | 'timeout' | 'lease-lost' | 'shutdown';

/** The second argument of every handler. */
export interface JobContext {
  /** The job being run. */
  job: JobInfo;
  /**
   * Fires when the handler should stop: the job was cancelled, timed out, lost its lease,
   * or the worker is shutting down past its grace period. `signal.reason` is an `Error`
   * whose `name` is `AbortError` and whose `reason` field is an {@link AbortReason}.
   */
  signal: AbortSignal;
  /** Append a log line to the job (kept with the job, visible in the API). */
  log(message: string, fields?: LogFields): void;
  /** Report progress: a number (0–100) or a small JSON object. Throttled; last value wins. */
  progress(value: number | Record<string, unknown>): void;
  /** A process logger bound to this job (goes to the process log, not the job). */
  logger: Logger;
  /**
   * W3C `traceparent` of this attempt's span when tracing is on (else the one stored with the job,
   * if any): send it on outgoing calls to continue the trace (the http task does).
   */
  traceParent?: string;
}

/**
 * A task handler: gets the payload and a context, returns a JSON-serialisable result
 * (stored with the job) or throws. Throw `PermanentError`, `RetryAfterError` or `CancelError`
 * to steer the job; any other error is retried with the job's backoff.
 */
export type TaskHandler<Payload = unknown, Result = unknown> = (
  payload: Payload,
  context: JobContext,
) => Promise<Result> | Result;

/** Handlers by task name. */
export type TaskList = Record<string, TaskHandler<never, unknown>>;
