import { checkInteger, checkString, NAME_PATTERN } from '../core/validate.js';
import { DEFAULT_TENANT_ID } from '../core/tenants.js';
import { AppError } from '../errors/index.js';
import type { Queryable } from '../db/pool.js';
import { notifyNewJobs } from '../db/queries/jobs.js';
import { upsertQueueSettings, type QueueSettings } from '../db/queries/queues.js';
import type { Actor } from './job-service.js';

/** Pause/resume a queue or set its global concurrency limit (null removes it). */
export async function changeQueue(
  db: Queryable,
  actor: Actor,
  name: string,
  change: { paused?: boolean; concurrencyLimit?: number | null },
): Promise<{ before: QueueSettings | null; after: QueueSettings }> {
  const errors = [
    ...checkString(name, '/name', { max: 128, pattern: NAME_PATTERN, patternHint: 'must be a queue name' }),
    ...(change.concurrencyLimit === undefined || change.concurrencyLimit === null ? [] : checkInteger(change.concurrencyLimit, '/concurrencyLimit', 1, 1_000_000)),
  ];
  if (errors.length > 0) throw new AppError('VALIDATION_FAILED', errors[0]!.message, { errors });
  const result = await upsertQueueSettings(db, actor.tenantId ?? DEFAULT_TENANT_ID, name, change);
  // Resuming or raising a limit can make jobs claimable at once.
  if (change.paused === false || change.concurrencyLimit !== undefined) await notifyNewJobs(db);
  return result;
}
