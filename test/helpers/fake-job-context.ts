/**
 * A JobContext for unit-testing task handlers without a worker: the test owns the
 * AbortController and can read back every log line and progress report.
 */
import { silentLogger, type LogFields } from '../../src/core/deps.js';
import type { AbortReason, JobContext, JobInfo } from '../../src/worker/types.js';

/** A context plus the handles a test needs to steer and observe it. */
export interface FakeJobContext {
  /** Pass this to the handler. */
  ctx: JobContext;
  /** Owns `ctx.signal`. */
  controller: AbortController;
  /** Every `ctx.log` call, in order. */
  logs: { message: string; fields: LogFields | undefined }[];
  /** Every `ctx.progress` value, in order (no throttling). */
  progress: (number | Record<string, unknown>)[];
  /** Fire `ctx.signal` the way the worker does: with an `AbortError` carrying `reason`. Returns that error. */
  abort(reason?: AbortReason): Error;
}

/** Build a fake context; `job` overrides fields of a plausible JobInfo. */
export function fakeJobContext(job: Partial<JobInfo> = {}): FakeJobContext {
  const controller = new AbortController();
  const logs: FakeJobContext['logs'] = [];
  const progress: FakeJobContext['progress'] = [];
  const now = new Date('2025-01-01T00:00:00Z');
  const info: JobInfo = {
    id: '01940000-0000-7000-8000-000000000001',
    tenantId: '01940000-0000-7000-8000-0000000000aa',
    task: 'test',
    queue: 'default',
    priority: 0,
    attempt: 1,
    maxAttempts: 3,
    leaseToken: '1',
    idempotencyKey: null,
    labels: {},
    scheduleId: null,
    fireAt: null,
    createdAt: now,
    runAt: now,
    timeoutMs: null,
    ...job,
  };
  const ctx: JobContext = {
    job: info,
    signal: controller.signal,
    log: (message, fields) => { logs.push({ message, fields }); },
    progress: (value) => { progress.push(value); },
    logger: silentLogger,
  };
  const abort = (reason: AbortReason = 'cancelled'): Error => {
    const error = Object.assign(new Error(`job ${reason}`), { name: 'AbortError', reason });
    controller.abort(error);
    return error;
  };
  return { ctx, controller, logs, progress, abort };
}
