/**
 * Submitting fault-battery jobs through the SDK path (src/engine/submit.ts addJobs). Every job
 * has an idempotency key, so a batch whose commit reply was lost to a fault can be sent again
 * without creating a second copy.
 */
import { addJobs } from '../../../src/engine/submit.js';
import type { JobSpec } from '../../../src/core/job-spec.js';
import type { Queryable } from '../../../src/db/pool.js';
import { retrying } from './retry.js';

/** The task the fault fixtures run (test/fixtures/fault-worker.ts). */
export const FAULT_TASK = 'fault';

/** Options for {@link submitJobs}. */
export interface SubmitOptions {
  /** Idempotency keys are `<prefix>-<i>`; unique per file and call. */
  prefix: string;
  /** @defaultValue FAULT_TASK */
  task?: string;
  /** @defaultValue 'faults' */
  queue?: string;
  /** The handler's run time (fault task: `payload.ms`). */
  ms?: number;
  /** Payload (replaces `{ ms }`). */
  payload?: unknown;
  /** Faults burn attempts (a killed attempt counts): keep enough for every fault. @defaultValue 50 */
  maxAttempts?: number;
  delayMs?: number;
  /** Fixed retry delay. @defaultValue 50 */
  backoffMs?: number;
  placement?: JobSpec['placement'];
  /** Jobs per statement. @defaultValue 500 */
  batch?: number;
  /** How long to keep retrying a batch the database refuses. @defaultValue 30000 */
  retryForMs?: number;
}

/** Submit `count` jobs; resolves with their ids in order. */
export async function submitJobs(db: Queryable, count: number, options: SubmitOptions): Promise<string[]> {
  const ids: string[] = [];
  const batch = options.batch ?? 500;
  for (let start = 0; start < count; start += batch) {
    const specs: JobSpec[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      specs.push({
        task: options.task ?? FAULT_TASK,
        queue: options.queue ?? 'faults',
        payload: options.payload ?? (options.ms !== undefined ? { ms: options.ms } : {}),
        maxAttempts: options.maxAttempts ?? 50,
        backoff: { type: 'fixed', baseMs: options.backoffMs ?? 50, jitter: 0 },
        idempotencyKey: `${options.prefix}-${i}`,
        ...(options.delayMs !== undefined ? { delayMs: options.delayMs } : {}),
        ...(options.placement ? { placement: options.placement } : {}),
      });
    }
    const submitted = await retrying(() => addJobs(db, specs), options.retryForMs ?? 30_000, `submit ${options.prefix}`);
    ids.push(...submitted.map((s) => s.id));
  }
  return ids;
}
