import type { JobChange } from '../core/live-events.js';
import { DEFAULT_FAILURE_WINDOW_MS, MAX_FAILURE_GROUPS, MAX_RETRY_PER_CALL } from '../core/failures.js';
import { checkString, parseTimestamp } from '../core/validate.js';
import type { FieldError } from '../errors/app-error.js';
import { AppError } from '../errors/index.js';
import { uuidv7Floor } from '../db/ids.js';
import { isPgError, withTransaction, type Queryable } from '../db/pool.js';
import { limitStatementTime } from '../db/queries/job-admin.js';
import { listFailureGroups, requeueFailureGroup, type FailureGroupRow, type FailureScope } from '../db/queries/failures.js';
import { notifyNewJobs } from '../db/queries/jobs.js';
import { systemClock } from './clock.js';

/** Clock difference between an app process and the database tolerated by the id range. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** A failure scan gets this long before it is refused as too broad. */
const FAILURE_SCAN_TIMEOUT_MS = 5000;
/** A group retry (it writes up to MAX_RETRY_PER_CALL rows) gets this long. */
const FAILURE_RETRY_TIMEOUT_MS = 15_000;

/** Filters of the failure list; strings come straight from a query string or body. */
export interface FailureFilter {
  /** Jobs created at or after (RFC 3339); default 7 days ago. */
  since?: string | undefined;
  task?: string | undefined;
  queue?: string | undefined;
}

/** Longest group message accepted back (stored messages are at most 4,096 characters). */
const MAX_MESSAGE = 5000;

function scopeOf(tenantId: string, filter: FailureFilter & { message?: string }, now: number): FailureScope & { since: Date } {
  const errors: FieldError[] = [];
  const parsed = filter.since === undefined ? undefined : parseTimestamp(filter.since, '/since');
  errors.push(...(parsed?.errors ?? []));
  if (filter.task !== undefined) errors.push(...checkString(filter.task, '/task', { max: 128 }));
  if (filter.queue !== undefined) errors.push(...checkString(filter.queue, '/queue', { max: 128 }));
  if (filter.message !== undefined) errors.push(...checkString(filter.message, '/message', { min: 0, max: MAX_MESSAGE }));
  if (errors.length > 0) throw new AppError('VALIDATION_FAILED', `${errors[0]!.pointer}: ${errors[0]!.message}`, { errors });
  const since = parsed?.value ?? new Date(now - DEFAULT_FAILURE_WINDOW_MS);
  return {
    tenantId,
    // Ids carry the submitting process's clock, created_at the database's: the id bound is
    // widened by a generous skew and only narrows the scan; created_at decides.
    fromId: uuidv7Floor(since.getTime() - MAX_CLOCK_SKEW_MS),
    createdFrom: since,
    since,
    task: filter.task,
    queue: filter.queue,
  };
}

async function bounded<T>(db: Queryable, ms: number, what: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  try {
    return await withTransaction(db, async (tx) => {
      await limitStatementTime(tx, ms);
      return fn(tx);
    });
  } catch (error) {
    if (isPgError(error, '57014')) {
      throw new AppError('SEARCH_TOO_BROAD', `${what} did not finish within ${ms / 1000} s; narrow it with a later since, a task or a queue`);
    }
    throw error;
  }
}

/** Failed jobs grouped by task and normalised last-error message, largest group first. */
export async function listFailures(
  db: Queryable,
  tenantId: string,
  filter: FailureFilter,
  now = systemClock.nowMs(),
): Promise<{ since: Date; groups: FailureGroupRow[]; truncated: boolean }> {
  const scope = scopeOf(tenantId, filter, now);
  const rows = await bounded(db, FAILURE_SCAN_TIMEOUT_MS, 'the failure scan', (tx) => listFailureGroups(tx, scope, MAX_FAILURE_GROUPS + 1));
  return { since: scope.since, groups: rows.slice(0, MAX_FAILURE_GROUPS), truncated: rows.length > MAX_FAILURE_GROUPS };
}

/**
 * Retry every failed job of one group (as `retryJob` does one job): up to
 * {@link MAX_RETRY_PER_CALL} per call in one statement; `more` says to call again. Wakes workers.
 */
export async function retryFailureGroup(
  db: Queryable,
  tenantId: string,
  group: FailureFilter & { task: string; message: string },
  options: { now?: number; limit?: number } = {},
): Promise<{ since: Date; changes: JobChange[]; more: boolean }> {
  const scope = scopeOf(tenantId, group, options.now ?? systemClock.nowMs());
  const { changes, more } = await bounded(db, FAILURE_RETRY_TIMEOUT_MS, 'the group retry', (tx) =>
    requeueFailureGroup(tx, { ...scope, task: group.task }, group.message, options.limit ?? MAX_RETRY_PER_CALL));
  if (changes.length > 0) await notifyNewJobs(db, true);
  return { since: scope.since, changes, more };
}
