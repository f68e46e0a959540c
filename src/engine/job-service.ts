import { isJobStatus, type JobStatus } from '../core/job-states.js';
import { checkInteger, checkString, parseTimestamp } from '../core/validate.js';
import type { FieldError } from '../errors/app-error.js';
import { AppError, invalidField } from '../errors/index.js';
import { uuidv7Floor } from '../db/ids.js';
import { isPgError, withTransaction, type Queryable } from '../db/pool.js';
import {
  cancelWaitingJob,
  getJob,
  getJobLogs,
  limitStatementTime,
  listJobs,
  lockJob,
  requeueFinishedJob,
  requestCancel,
  rescheduleWaitingJob,
  type JobLogLine,
} from '../db/queries/job-admin.js';
import type { JobRow } from '../db/queries/job-rows.js';
import { notifyNewJobs } from '../db/queries/jobs.js';
import type { Clock } from '../core/deps.js';
import { systemClock } from './clock.js';

/**
 * What an operator's action on one job (cancel, retry, reschedule) did: the row before and after,
 * for the audit log and the live event. (The changed-job summary that statements return for
 * events is `JobChange` in src/core/live-events.ts.)
 */
export interface JobEdit {
  before: JobRow;
  after: JobRow;
  /**
   * Whether the action changed anything. A repeated cancel (of a cancelled job, or of a running
   * one whose cancel is already requested) or a reschedule to the same time and priority answers
   * like the first one but is no change: nothing to audit, no event to announce.
   */
  changed: boolean;
}

/** Who acts on a job; `tenantId` null is an operator acting across tenants. */
export interface Actor {
  tenantId: string | null;
  /** Recorded in the job's history. */
  name?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reject ids that are not UUIDs before they reach SQL (no 22P02 from PostgreSQL). */
export function checkJobId(id: string): string {
  if (!UUID.test(id)) throw invalidField('/id', 'must be a UUID');
  return id.toLowerCase();
}

async function requireJob(db: Queryable, actor: Actor, id: string, lock: boolean): Promise<JobRow> {
  const job = lock ? await lockJob(db, actor.tenantId, checkJobId(id)) : await getJob(db, actor.tenantId, checkJobId(id));
  if (!job) throw new AppError('JOB_NOT_FOUND', `no job ${id}`);
  return job;
}

/** Read one job. */
export async function readJob(db: Queryable, actor: Actor, id: string): Promise<JobRow> {
  return requireJob(db, actor, id, false);
}

/**
 * Cancel a job (docs/decisions.md #5): queued/scheduled → cancelled at once; running → a cancel request
 * that fires the handler's AbortSignal (the lease is revoked after the grace period if the
 * handler does not stop). Cancelling a cancelled job is a no-op; finished jobs cannot be.
 */
export async function cancelJob(db: Queryable, actor: Actor, id: string, clock: Clock = systemClock): Promise<JobEdit> {
  return withTransaction(db, async (tx) => {
    const before = await requireJob(tx, actor, id, true);
    switch (before.status) {
      case 'queued':
      case 'scheduled': {
        const after = await cancelWaitingJob(tx, before.id, {
          attempt: before.attempt,
          kind: 'cancelled',
          message: `cancelled${actor.name ? ` by ${actor.name}` : ''} before it ran`,
          workerId: null,
          at: new Date(clock.nowMs()).toISOString(),
        });
        return { before, after, changed: true };
      }
      case 'running':
        // Asked again, the worker is nudged again (the notification), but nothing changes.
        return { before, after: await requestCancel(tx, before.id), changed: before.cancelRequestedAt === null };
      case 'cancelled':
        return { before, after: before, changed: false };
      default:
        throw new AppError('JOB_NOT_CANCELLABLE', `job ${before.id} is ${before.status}; only queued, scheduled or running jobs can be cancelled`);
    }
  });
}

/** Put a failed or cancelled job back in the queue with a fresh run of attempts. */
export async function retryJob(db: Queryable, actor: Actor, id: string, options: { runAt?: unknown } = {}): Promise<JobEdit> {
  const runAt = options.runAt === undefined ? null : parseTimestamp(options.runAt, '/runAt');
  if (runAt?.errors.length) throw new AppError('VALIDATION_FAILED', runAt.errors[0]!.message, { errors: runAt.errors });
  const change = await withTransaction(db, async (tx) => {
    const before = await requireJob(tx, actor, id, true);
    if (before.status !== 'failed' && before.status !== 'cancelled') {
      throw new AppError('JOB_NOT_RETRYABLE', `job ${before.id} is ${before.status}; only failed or cancelled jobs can be retried`);
    }
    return { before, after: await requeueFinishedJob(tx, before.id, runAt?.value ?? null), changed: true };
  });
  await notifyNewJobs(db, true);
  return change;
}

/** Change when (and/or at which priority) a job that has not started runs. */
export async function rescheduleJob(
  db: Queryable,
  actor: Actor,
  id: string,
  change: { runAt?: unknown; priority?: unknown },
): Promise<JobEdit> {
  const runAt = change.runAt === undefined ? undefined : parseTimestamp(change.runAt, '/runAt');
  const errors = [...(runAt?.errors ?? []), ...(change.priority === undefined ? [] : checkInteger(change.priority, '/priority', -1000, 1000))];
  if (runAt === undefined && change.priority === undefined) errors.push({ pointer: '/', message: 'give runAt and/or priority' });
  if (errors.length > 0) throw new AppError('VALIDATION_FAILED', errors[0]!.message, { errors });
  const result = await withTransaction(db, async (tx) => {
    const before = await requireJob(tx, actor, id, true);
    if (before.status !== 'queued' && before.status !== 'scheduled') {
      throw new AppError('JOB_NOT_RESCHEDULABLE', `job ${before.id} is ${before.status}; only jobs that have not started can be rescheduled`);
    }
    const after = await rescheduleWaitingJob(tx, before.id, { runAt: runAt?.value, priority: change.priority as number | undefined });
    return { before, after, changed: after.runAt.getTime() !== before.runAt.getTime() || after.priority !== before.priority || after.status !== before.status };
  });
  await notifyNewJobs(db, true);
  return result;
}

/** Filters for {@link searchJobs}; strings come straight from a query string. */
export interface JobSearch {
  status?: string | readonly string[];
  queue?: string;
  task?: string;
  scheduleId?: string;
  /** Created at or after (RFC 3339). */
  since?: string;
  /** Created before (RFC 3339). */
  until?: string;
  /** Text in the id, task, queue or payload (case-insensitive). */
  q?: string;
  cursor?: string;
  limit?: number;
}

/** Clock difference between an app process and the database tolerated by time-range filters. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** A text search gets this long before it is refused as too broad. */
const SEARCH_TIMEOUT_MS = 5000;

/** List jobs newest first with a cursor. */
export async function searchJobs(
  db: Queryable,
  actor: Actor,
  search: JobSearch,
): Promise<{ jobs: JobRow[]; nextCursor: string | null }> {
  const statuses = parseStatuses(search.status);
  const limit = search.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw invalidField('/limit', 'must be an integer between 1 and 500');
  const since = search.since === undefined ? undefined : parseTimestamp(search.since, '/since');
  const until = search.until === undefined ? undefined : parseTimestamp(search.until, '/until');
  const timeErrors = [...(since?.errors ?? []), ...(until?.errors ?? [])];
  if (timeErrors.length > 0) throw new AppError('VALIDATION_FAILED', timeErrors[0]!.message, { errors: timeErrors });
  const cursor = search.cursor === undefined ? undefined : checkJobId(search.cursor);
  // Ids carry the submitting process's clock, created_at the database's: the id range is widened
  // by a generous clock skew and only narrows the scan; created_at decides.
  const untilId = until?.value ? uuidv7Floor(until.value.getTime() + MAX_CLOCK_SKEW_MS) : undefined;
  const text = search.q?.trim() ? search.q.trim() : undefined;
  if (text !== undefined) errorsOf(checkString(text, '/q', { max: 200 }));
  const filter = {
    tenantId: actor.tenantId,
    statuses,
    queue: search.queue,
    task: search.task,
    scheduleId: search.scheduleId === undefined ? undefined : checkJobId(search.scheduleId),
    // Both bounds are primary-key bounds (ids are time-ordered), so ranges use the index.
    beforeId: cursor !== undefined && untilId !== undefined ? (cursor < untilId ? cursor : untilId) : cursor ?? untilId,
    fromId: since?.value ? uuidv7Floor(since.value.getTime() - MAX_CLOCK_SKEW_MS) : undefined,
    createdFrom: since?.value,
    createdBefore: until?.value,
    text,
    limit: limit + 1,
  };
  let jobs: JobRow[];
  if (text === undefined) {
    jobs = await listJobs(db, filter);
  } else {
    try {
      jobs = await withTransaction(db, async (tx) => {
        await limitStatementTime(tx, SEARCH_TIMEOUT_MS);
        return listJobs(tx, filter);
      });
    } catch (error) {
      if (isPgError(error, '57014')) {
        throw new AppError('SEARCH_TOO_BROAD', `the text search did not finish within ${SEARCH_TIMEOUT_MS / 1000} s; narrow it with status, queue, task or a time range`);
      }
      throw error;
    }
  }
  const page = jobs.slice(0, limit);
  return { jobs: page, nextCursor: jobs.length > limit ? page[page.length - 1]!.id : null };
}

function parseStatuses(value: string | readonly string[] | undefined): JobStatus[] | undefined {
  if (value === undefined) return undefined;
  const parts = (typeof value === 'string' ? [value] : [...value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  // `status=` (empty) means no filter, as if the parameter were absent.
  if (parts.length === 0) return undefined;
  const bad = parts.filter((p) => !isJobStatus(p));
  if (bad.length > 0) throw invalidField('/status', `unknown status ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  return parts as JobStatus[];
}

/** Log lines of a job the actor may see. */
export async function readJobLogs(
  db: Queryable,
  actor: Actor,
  id: string,
  options: { after?: string; limit?: number } = {},
): Promise<JobLogLine[]> {
  const job = await requireJob(db, actor, id, false);
  if (options.after !== undefined && !/^\d{1,18}$/.test(options.after)) throw invalidField('/after', 'must be a log line id');
  return getJobLogs(db, job.id, options.after ?? null, Math.min(options.limit ?? 500, 5000));
}

function errorsOf(errors: readonly FieldError[]): void {
  if (errors.length > 0) throw new AppError('VALIDATION_FAILED', `${errors[0]!.pointer}: ${errors[0]!.message}`, { errors: [...errors] });
}
