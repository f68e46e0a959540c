/**
 * Queues: listing (job counts, recent throughput and settings) and changing their settings. A
 * queue exists while it has jobs or carries a setting: pausing an empty queue lists it as paused
 * with no jobs, and resuming it (with no limit left) drops its settings row, so no ghost queue
 * stays listed.
 */
import { checkInteger, checkString, NAME_PATTERN } from '../core/validate.js';
import { DEFAULT_TENANT_ID } from '../core/tenants.js';
import { AppError } from '../errors/index.js';
import type { Queryable } from '../db/pool.js';
import { queueStats, type QueueStats } from '../db/queries/job-admin.js';
import { notifyNewJobs } from '../db/queries/jobs.js';
import { deleteDefaultQueueSettings, listQueueSettings, upsertQueueSettings, type QueueSettings } from '../db/queries/queues.js';
import type { Actor } from './job-service.js';

export type { QueueSettings, QueueStats };

/** A queue as listed: its settings (defaults when it has none) and its jobs. */
export interface QueueOverview {
  name: string;
  settings: QueueSettings | undefined;
  stats: QueueStats | undefined;
}

/** Whether a settings row says anything a queue without it would not (paused, or a limit). */
function carriesSetting(settings: QueueSettings): boolean {
  return settings.paused || settings.concurrencyLimit !== null;
}

/**
 * The queues of a tenant, by name: every queue with jobs, and every queue whose settings carry
 * something (a paused or limited queue with no jobs). `recentMs`: the throughput window.
 */
export async function listQueues(db: Queryable, tenantId: string, recentMs: number): Promise<QueueOverview[]> {
  const [stats, settings] = await Promise.all([queueStats(db, tenantId, recentMs), listQueueSettings(db, tenantId)]);
  const statsByName = new Map(stats.map((s) => [s.queue, s]));
  const settingsByName = new Map(settings.map((s) => [s.name, s]));
  const names = new Set([...statsByName.keys(), ...settings.filter(carriesSetting).map((s) => s.name)]);
  return [...names].sort().map((name) => ({ name, settings: settingsByName.get(name), stats: statsByName.get(name) }));
}

/**
 * Pause/resume a queue or set its global concurrency limit (null removes it). A change that
 * leaves the queue at the defaults (resumed, no limit) drops its settings row.
 */
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
  const tenantId = actor.tenantId ?? DEFAULT_TENANT_ID;
  const result = await upsertQueueSettings(db, tenantId, name, change);
  if (!carriesSetting(result.after)) await deleteDefaultQueueSettings(db, tenantId, name);
  // Resuming or raising a limit can make jobs claimable at once.
  if (change.paused === false || change.concurrencyLimit !== undefined) await notifyNewJobs(db);
  return result;
}
