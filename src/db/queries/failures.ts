import type { JobChange } from '../../core/live-events.js';
import { MESSAGE_NORMALISERS } from '../../core/failures.js';
import type { Queryable } from '../pool.js';
import { JOB_CHANGE_COLUMNS } from './event-channel.js';

/** The last error's message of job alias `j` ('' when a failed job somehow has none). */
const LAST_MESSAGE = `coalesce(j.errors -> -1 ->> 'message', '')`;

/** SQL that normalises `expr` with the rules of src/core/failures.ts (the same regexes, in order). */
function normalisedSql(expr: string): string {
  const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
  return MESSAGE_NORMALISERS.reduce((inner, n) => `regexp_replace(${inner}, ${literal(n.pattern)}, ${literal(n.replacement)}, 'g')`, expr);
}

/** Which failed jobs a failure query looks at. */
export interface FailureScope {
  tenantId: string;
  /** Primary-key lower bound (ids are UUID v7): narrows the scan to the window, does not decide. */
  fromId: string;
  /** Created at or after (decides). */
  createdFrom: Date;
  task?: string | undefined;
  queue?: string | undefined;
}

/** One group of failed jobs with the same task and normalised last-error message. */
export interface FailureGroupRow {
  task: string;
  message: string;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  sampleJobId: string;
  sampleMessage: string;
  kind: string | null;
  queues: string[];
}

/**
 * Failed jobs of a tenant created in the window, grouped by task and normalised last-error
 * message, largest group first. The jobs table has no index on failed jobs (each index costs
 * every status change), so the scan is bounded by a primary-key range instead; callers put a
 * statement timeout around it.
 */
export async function listFailureGroups(db: Queryable, scope: FailureScope, limit: number): Promise<FailureGroupRow[]> {
  const { rows } = await db.query<FailureGroupRow>(
    `WITH failed AS (
       SELECT j.id, j.task, j.queue, j.finished_at, j.errors -> -1 ->> 'kind' AS kind, ${LAST_MESSAGE} AS raw
       FROM jobplane.jobs j
       WHERE j.tenant_id = $1 AND j.status = 'failed' AND j.id >= $2::uuid AND j.created_at >= $3
         AND ($4::text IS NULL OR j.task = $4::text) AND ($5::text IS NULL OR j.queue = $5::text)
     ), keyed AS (
       SELECT f.*, ${normalisedSql('f.raw')} AS message FROM failed f
     )
     SELECT task, message, count(*)::int AS count, min(finished_at) AS "firstSeen", max(finished_at) AS "lastSeen",
            (array_agg(id ORDER BY finished_at DESC, id DESC))[1] AS "sampleJobId",
            (array_agg(raw ORDER BY finished_at DESC, id DESC))[1] AS "sampleMessage",
            (array_agg(kind ORDER BY finished_at DESC, id DESC))[1] AS kind,
            array_agg(DISTINCT queue ORDER BY queue) AS queues
     FROM keyed GROUP BY task, message
     ORDER BY count(*) DESC, max(finished_at) DESC, task, message
     LIMIT $6`,
    [scope.tenantId, scope.fromId, scope.createdFrom, scope.task ?? null, scope.queue ?? null, limit],
  );
  return rows;
}

/**
 * Put up to `limit` failed jobs of one group back in the queue with a fresh run of attempts (as
 * `requeueFinishedJob` does for one job), in one statement. Rows locked by someone else are
 * skipped. Answers the changed jobs and whether more of the group were left for another call.
 */
export async function requeueFailureGroup(
  db: Queryable,
  scope: FailureScope & { task: string },
  message: string,
  limit: number,
): Promise<{ changes: JobChange[]; more: boolean }> {
  const { rows } = await db.query<JobChange & { picked: number }>(
    `WITH picked AS (
       SELECT j.id FROM jobplane.jobs j
       WHERE j.tenant_id = $1 AND j.status = 'failed' AND j.id >= $2::uuid AND j.created_at >= $3
         AND j.task = $4::text AND ($5::text IS NULL OR j.queue = $5::text)
         AND ${normalisedSql(LAST_MESSAGE)} = $6::text
       ORDER BY j.id LIMIT $7 + 1
       FOR UPDATE SKIP LOCKED
     ), changed AS (
       UPDATE jobplane.jobs j SET status = 'queued', attempt_base = j.attempt, run_at = now(),
         finished_at = NULL, result = NULL, progress = NULL, cancel_requested_at = NULL
       WHERE j.id IN (SELECT id FROM picked ORDER BY id LIMIT $7) AND j.status = 'failed'
       RETURNING ${JOB_CHANGE_COLUMNS}
     )
     SELECT c.*, (SELECT count(*)::int FROM picked) AS picked FROM changed c`,
    [scope.tenantId, scope.fromId, scope.createdFrom, scope.task, scope.queue ?? null, message, limit],
  );
  const more = (rows[0]?.picked ?? 0) > limit;
  return { changes: rows.map(({ picked: _picked, ...change }) => change), more };
}
