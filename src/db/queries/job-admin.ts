import type { JobStatus } from '../../core/job-states.js';
import type { Queryable } from '../pool.js';
import { JOB_COLUMNS, type AttemptError, type JobRow } from './job-rows.js';
import { CANCEL_CHANNEL } from './jobs.js';

/**
 * The payload as text search sees it: string values of sensitive fields replaced by `[redacted]`,
 * so a search cannot confirm a header value a read would not show (the SQL mirror of
 * `SENSITIVE_NAME` in src/core/redaction.ts, for string values; test/integration/redaction-sql.test.ts
 * keeps the two in step). jsonb text is normalised (`"key": value`), so a key is a quoted string
 * followed by `": `.
 */
export const SEARCHABLE_PAYLOAD =
  'regexp_replace(j.payload::text, ' +
  `'("(?!\\$secret")(?:auth|(?:[^"\\\\]|\\\\.)*(?:token|secret|passw(?:or)?d|api[-_]?key|authori[sz]ation|cookie|private[-_]?key|credential)(?:[^"\\\\]|\\\\.)*)": )"(?:[^"\\\\]|\\\\.)*"', ` +
  `'\\1"[redacted]"', 'gi')`;

/** Fetch one job; `tenantId` null means any tenant (operator tools). */
export async function getJob(db: Queryable, tenantId: string | null, id: string): Promise<JobRow | null> {
  const { rows } = await db.query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobplane.jobs j WHERE j.id = $1 AND ($2::uuid IS NULL OR j.tenant_id = $2::uuid)`,
    [id, tenantId],
  );
  return rows[0] ?? null;
}

/** Fetch and row-lock one job inside a transaction. */
export async function lockJob(tx: Queryable, tenantId: string | null, id: string): Promise<JobRow | null> {
  const { rows } = await tx.query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobplane.jobs j
     WHERE j.id = $1 AND ($2::uuid IS NULL OR j.tenant_id = $2::uuid) FOR UPDATE`,
    [id, tenantId],
  );
  return rows[0] ?? null;
}

/** Cancel a queued or scheduled job at once. */
export async function cancelWaitingJob(tx: Queryable, id: string, error: AttemptError): Promise<JobRow> {
  const { rows } = await tx.query<JobRow>(
    `UPDATE jobplane.jobs j SET status = 'cancelled', finished_at = now(), assigned_zone = NULL,
       assigned_worker = NULL, errors = j.errors || jsonb_build_array($2::jsonb)
     WHERE j.id = $1 AND j.status IN ('queued', 'scheduled') RETURNING ${JOB_COLUMNS}`,
    [id, JSON.stringify(error)],
  );
  return requireRow(rows, id);
}

/**
 * Ask the worker running a job to stop: mark the request and notify in-process workers (the
 * notification is delivered at commit). Remote workers learn it from their next heartbeat.
 */
export async function requestCancel(tx: Queryable, id: string): Promise<JobRow> {
  const { rows } = await tx.query<JobRow>(
    `UPDATE jobplane.jobs j SET cancel_requested_at = coalesce(j.cancel_requested_at, now())
     WHERE j.id = $1 AND j.status = 'running' RETURNING ${JOB_COLUMNS}`,
    [id],
  );
  await tx.query(`SELECT pg_notify('${CANCEL_CHANNEL}', $1)`, [id]);
  return requireRow(rows, id);
}

/** Put a failed or cancelled job back in the queue with a fresh run of attempts; history stays. */
export async function requeueFinishedJob(tx: Queryable, id: string, runAt: Date | null): Promise<JobRow> {
  const { rows } = await tx.query<JobRow>(
    `UPDATE jobplane.jobs j SET status = 'queued', attempt_base = j.attempt, run_at = coalesce($2, now()),
       finished_at = NULL, result = NULL, progress = NULL, cancel_requested_at = NULL
     WHERE j.id = $1 AND j.status IN ('failed', 'cancelled') RETURNING ${JOB_COLUMNS}`,
    [id, runAt],
  );
  return requireRow(rows, id);
}

/** Change the due time and/or priority of a job that is not running yet. */
export async function rescheduleWaitingJob(
  tx: Queryable,
  id: string,
  change: { runAt?: Date | undefined; priority?: number | undefined },
): Promise<JobRow> {
  const { rows } = await tx.query<JobRow>(
    `UPDATE jobplane.jobs j SET run_at = coalesce($2, j.run_at), priority = coalesce($3, j.priority)
     WHERE j.id = $1 AND j.status IN ('queued', 'scheduled') RETURNING ${JOB_COLUMNS}`,
    [id, change.runAt ?? null, change.priority ?? null],
  );
  return requireRow(rows, id);
}

function requireRow(rows: JobRow[], id: string): JobRow {
  const row = rows[0];
  if (!row) throw new Error(`job ${id} changed status concurrently`);
  return row;
}

/** Filters for {@link listJobs}. */
export interface JobListFilter {
  tenantId: string | null;
  statuses?: readonly JobStatus[] | undefined;
  queue?: string | undefined;
  task?: string | undefined;
  scheduleId?: string | undefined;
  /** Only jobs with an id below this one (cursor: ids are time-ordered). */
  beforeId?: string | undefined;
  /** Only jobs with an id at or above this one (created at or after a time: ids are UUID v7). */
  fromId?: string | undefined;
  /** Created at or after / before (exact, on created_at). */
  createdFrom?: Date | undefined;
  createdBefore?: Date | undefined;
  /** Text to find (case-insensitive) in the id, task, queue or payload. */
  text?: string | undefined;
  limit: number;
}

/** Newest jobs first, keyset-paginated by id. */
export async function listJobs(db: Queryable, filter: JobListFilter): Promise<JobRow[]> {
  const { rows } = await db.query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobplane.jobs j
     WHERE ($1::uuid IS NULL OR j.tenant_id = $1::uuid)
       AND ($2::text[] IS NULL OR j.status = ANY($2::text[]))
       AND ($3::text IS NULL OR j.queue = $3::text)
       AND ($4::text IS NULL OR j.task = $4::text)
       AND ($5::uuid IS NULL OR j.schedule_id = $5::uuid)
       AND ($6::uuid IS NULL OR j.id < $6::uuid)
       AND ($8::uuid IS NULL OR j.id >= $8::uuid)
       AND ($9::text IS NULL OR j.id::text = lower($9::text) OR j.task ILIKE $10 OR j.queue ILIKE $10
            OR ${SEARCHABLE_PAYLOAD} ILIKE $10)
       AND ($11::timestamptz IS NULL OR j.created_at >= $11::timestamptz)
       AND ($12::timestamptz IS NULL OR j.created_at < $12::timestamptz)
     ORDER BY j.id DESC LIMIT $7`,
    [
      filter.tenantId,
      filter.statuses ?? null,
      filter.queue ?? null,
      filter.task ?? null,
      filter.scheduleId ?? null,
      filter.beforeId ?? null,
      filter.limit,
      filter.fromId ?? null,
      filter.text ?? null,
      filter.text === undefined ? null : `%${filter.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
      filter.createdFrom ?? null,
      filter.createdBefore ?? null,
    ],
  );
  return rows;
}

/** A stored log line. */
export interface JobLogLine {
  id: string;
  attempt: number;
  level: string;
  message: string;
  fields: Record<string, unknown> | null;
  at: Date;
}

/** Log lines of a job, oldest first, after the given line id. */
export async function getJobLogs(db: Queryable, jobId: string, afterId: string | null, limit: number): Promise<JobLogLine[]> {
  const { rows } = await db.query<JobLogLine>(
    `SELECT id::text, attempt, level, message, fields, at FROM jobplane.job_logs
     WHERE job_id = $1 AND ($2::bigint IS NULL OR id > $2::bigint) ORDER BY id LIMIT $3`,
    [jobId, afterId, limit],
  );
  return rows;
}

/** Job counts per queue and status. */
export async function countJobs(
  db: Queryable,
  tenantId: string | null,
): Promise<Array<{ queue: string; status: JobStatus; count: number }>> {
  const { rows } = await db.query<{ queue: string; status: JobStatus; count: number }>(
    `SELECT queue, status, count(*)::int AS count FROM jobplane.jobs
     WHERE ($1::uuid IS NULL OR tenant_id = $1::uuid) GROUP BY queue, status ORDER BY queue, status`,
    [tenantId],
  );
  return rows;
}

/** Per queue: jobs by status, and jobs finished in the recent window (throughput). */
export interface QueueStats {
  queue: string;
  counts: Partial<Record<JobStatus, number>>;
  completedRecently: number;
  failedRecently: number;
}

/**
 * Counts by queue and status plus completions in the last `windowMs`. Finished jobs are counted
 * by scanning the time-ordered primary key from the window's start, not the whole table.
 */
export async function queueStats(db: Queryable, tenantId: string | null, windowMs: number): Promise<QueueStats[]> {
  const { rows } = await db.query<{ queue: string; status: JobStatus; count: number; recent: number }>(
    `SELECT queue, status, count(*)::int AS count,
            count(*) FILTER (WHERE finished_at > now() - $2 * interval '1 millisecond')::int AS recent
     FROM jobplane.jobs WHERE ($1::uuid IS NULL OR tenant_id = $1::uuid)
     GROUP BY queue, status ORDER BY queue`,
    [tenantId, windowMs],
  );
  const byQueue = new Map<string, QueueStats>();
  for (const row of rows) {
    const stats = byQueue.get(row.queue) ?? { queue: row.queue, counts: {}, completedRecently: 0, failedRecently: 0 };
    stats.counts[row.status] = row.count;
    if (row.status === 'completed') stats.completedRecently = row.recent;
    if (row.status === 'failed') stats.failedRecently = row.recent;
    byQueue.set(row.queue, stats);
  }
  return [...byQueue.values()];
}

/** Jobs not finished yet, by queue and status (reads only the small per-status partial indexes). */
export async function countActiveJobs(db: Queryable): Promise<Array<{ tenantId: string; queue: string; status: JobStatus; count: number }>> {
  const { rows } = await db.query<{ tenantId: string; queue: string; status: JobStatus; count: number }>(
    `SELECT tenant_id AS "tenantId", queue, status, count(*)::int AS count FROM jobplane.jobs
     WHERE status IN ('queued', 'scheduled', 'running') GROUP BY tenant_id, queue, status`,
  );
  return rows;
}

/** Bound the statements of the current transaction (searches that could scan a whole table). */
export async function limitStatementTime(tx: Queryable, ms: number): Promise<void> {
  await tx.query(`SELECT set_config('statement_timeout', $1, true)`, [String(Math.max(1, Math.floor(ms)))]);
}
