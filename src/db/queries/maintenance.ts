import type { Queryable } from '../pool.js';
import type { JobChange } from '../../core/live-events.js';
import { JOB_CHANGE_COLUMNS } from './event-channel.js';
import type { AttemptError } from './job-rows.js';

/** A running job whose lease ran out. */
export interface ExpiredLease {
  id: string;
  attempt: number;
  attemptBase: number;
  maxAttempts: number;
  backoff: Record<string, unknown> | null;
  workerId: string | null;
  cancelRequested: boolean;
  /** How long ago the lease ran out (database clock): the rescuer's lag. */
  expiredForMs: number;
}

/**
 * Lock up to `limit` running jobs whose lease expired (docs/decisions.md #8: by lease, never by elapsed time).
 * Compared with the database clock (docs/decisions.md #3). `tx` must be in a transaction.
 */
export async function lockExpiredLeases(tx: Queryable, limit: number): Promise<ExpiredLease[]> {
  const { rows } = await tx.query<ExpiredLease>(
    `SELECT id, attempt, attempt_base AS "attemptBase", max_attempts AS "maxAttempts", backoff,
            worker_id AS "workerId", cancel_requested_at IS NOT NULL AS "cancelRequested",
            (extract(epoch FROM now() - lease_expires_at) * 1000)::float8 AS "expiredForMs"
     FROM jobplane.jobs WHERE status = 'running' AND lease_expires_at < now()
     ORDER BY lease_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows;
}

/** What to do with one expired lease. */
export interface LeaseResolution {
  id: string;
  status: 'queued' | 'failed' | 'cancelled';
  error: AttemptError;
}

/**
 * Apply rescuer decisions; the lease token is bumped so the lost worker's late reports are fenced.
 * A job that goes back to the queue keeps its `run_at` (the time it was due when claimed): claims
 * order by priority then run_at, so it runs again ahead of everything that became due after it,
 * and kill → re-run stays within lease + rescue interval however deep the backlog.
 */
export async function resolveExpiredLeases(tx: Queryable, resolutions: readonly LeaseResolution[]): Promise<JobChange[]> {
  if (resolutions.length === 0) return [];
  const { rows } = await tx.query<JobChange>(
    `UPDATE jobplane.jobs j SET status = x.status, lease_token = j.lease_token + 1, lease_expires_at = NULL,
       errors = j.errors || jsonb_build_array(x.error),
       finished_at = CASE WHEN x.status = 'queued' THEN NULL ELSE now() END,
       assigned_zone = NULL, assigned_worker = NULL
     FROM json_to_recordset($1::json) AS x(id uuid, status text, error jsonb)
     WHERE j.id = x.id AND j.status = 'running'
     RETURNING ${JOB_CHANGE_COLUMNS}`,
    [JSON.stringify(resolutions.map((r) => ({ id: r.id, status: r.status, error: r.error })))],
  );
  return rows;
}

/**
 * Running jobs whose cancel request is older than the grace period: the handler did not stop, so
 * the lease is revoked and the job is cancelled anyway (docs/decisions.md #5).
 */
export async function revokeOverdueCancels(db: Queryable, graceMs: number, limit: number): Promise<JobChange[]> {
  const { rows } = await db.query<JobChange>(
    `WITH overdue AS (
       SELECT id FROM jobplane.jobs
       WHERE status = 'running' AND cancel_requested_at < now() - $1 * interval '1 millisecond'
       LIMIT $2 FOR UPDATE SKIP LOCKED)
     UPDATE jobplane.jobs j SET status = 'cancelled', finished_at = now(), lease_expires_at = NULL,
       lease_token = j.lease_token + 1, assigned_zone = NULL, assigned_worker = NULL,
       errors = j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempt, 'kind', 'cancelled',
         'message', 'cancelled: the handler did not stop within the grace period; lease revoked',
         'workerId', j.worker_id, 'at', now()))
     FROM overdue o WHERE j.id = o.id RETURNING ${JOB_CHANGE_COLUMNS}`,
    [graceMs, limit],
  );
  return rows;
}

/**
 * Delete finished jobs past their retention, with their log lines. The id range bound lets the
 * scan use the primary key: ids are UUID v7, and a job cannot finish before it was created.
 */
export async function deleteExpiredJobs(
  db: Queryable,
  retention: { completedMs: number; failedMs: number },
  limit: number,
): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `WITH bound AS (
       SELECT (lpad(to_hex((extract(epoch FROM now() - least($1::bigint, $2::bigint) * interval '1 millisecond') * 1000)::bigint), 12, '0')
               || '00000000000000000000')::uuid AS max_id
     ), doomed AS (
       SELECT j.id FROM jobplane.jobs j, bound
       WHERE j.id < bound.max_id AND (
         (j.status = 'completed' AND j.finished_at < now() - $1 * interval '1 millisecond') OR
         (j.status IN ('failed', 'cancelled') AND j.finished_at < now() - $2 * interval '1 millisecond'))
       LIMIT $3 FOR UPDATE SKIP LOCKED
     ), gone AS (
       DELETE FROM jobplane.jobs j USING doomed d WHERE j.id = d.id RETURNING j.id
     ), logs AS (
       DELETE FROM jobplane.job_logs l USING gone g WHERE l.job_id = g.id
     )
     SELECT count(*)::int AS n FROM gone`,
    [retention.completedMs, retention.failedMs, limit],
  );
  return rows[0]?.n ?? 0;
}

/** Delete schedule runs and stopped/dead worker rows older than `olderThanMs`. */
export async function deleteOldRecords(db: Queryable, olderThanMs: number): Promise<void> {
  await db.query(
    `DELETE FROM jobplane.schedule_runs WHERE created_at < now() - $1 * interval '1 millisecond'`,
    [olderThanMs],
  );
  await db.query(
    `DELETE FROM jobplane.workers WHERE last_heartbeat_at < now() - $1 * interval '1 millisecond'`,
    [Math.min(olderThanMs, 86_400_000)],
  );
}

/** How long the failed-login trail is kept, and the most lines it keeps. */
export const LOGIN_TRAIL_RETENTION = Object.freeze({ maxAgeMs: 30 * 86_400_000, maxRows: 100_000 });

/**
 * Keep the security tables bounded: failed-login lines past their age (and the oldest beyond the
 * row cap, so a flood of distinct addresses and names cannot fill the disk), revoked sessions
 * whose access tokens have all expired, and throttle counters idle past `idleMs` and unlocked.
 */
export async function deleteExpiredSecurityRecords(db: Queryable, idleMs: number): Promise<void> {
  await db.query(`DELETE FROM jobplane.login_failures WHERE last_at < now() - $1 * interval '1 millisecond'`, [LOGIN_TRAIL_RETENTION.maxAgeMs]);
  await db.query(
    `DELETE FROM jobplane.login_failures WHERE last_at < (
       SELECT last_at FROM jobplane.login_failures ORDER BY last_at DESC OFFSET $1 LIMIT 1)`,
    [LOGIN_TRAIL_RETENTION.maxRows],
  );
  await db.query(`DELETE FROM jobplane.revoked_sessions WHERE expires_at < now()`);
  await db.query(
    `DELETE FROM jobplane.login_attempts
     WHERE updated_at < now() - $1 * interval '1 millisecond' AND (locked_until IS NULL OR locked_until < now())`,
    [idleMs],
  );
}

/** Place due jobs pinned to an explicit zone or worker: the decision needs no policy. */
export async function placeExplicitJobs(db: Queryable, limit: number): Promise<JobChange[]> {
  const { rows } = await db.query<JobChange>(
    `WITH due AS (
       SELECT id FROM jobplane.jobs
       WHERE status = 'queued' AND placement IN ('zone', 'worker') AND run_at <= now()
       ORDER BY run_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     UPDATE jobplane.jobs j SET status = 'scheduled', assigned_zone = j.placement_zone,
       assigned_worker = j.placement_worker
     FROM due WHERE j.id = due.id RETURNING ${JOB_CHANGE_COLUMNS}`,
    [limit],
  );
  return rows;
}

/** A due job waiting for a policy placement. */
export interface UnplacedJob {
  id: string;
  tenantId: string;
  task: string;
  queue: string;
  deadlineAt: Date | null;
}

/** Lock due jobs waiting for the greenest placement. `tx` must be in a transaction. */
export async function lockUnplacedJobs(tx: Queryable, limit: number): Promise<UnplacedJob[]> {
  const { rows } = await tx.query<UnplacedJob>(
    `SELECT id, tenant_id AS "tenantId", task, queue, deadline_at AS "deadlineAt" FROM jobplane.jobs
     WHERE status = 'queued' AND placement = 'greenest' AND run_at <= now()
     ORDER BY run_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows;
}

/** Assign zones chosen by a placement policy. */
export async function assignZones(tx: Queryable, assignments: ReadonlyArray<{ id: string; zone: string }>): Promise<JobChange[]> {
  if (assignments.length === 0) return [];
  const { rows } = await tx.query<JobChange>(
    `UPDATE jobplane.jobs j SET status = 'scheduled', assigned_zone = x.zone
     FROM unnest($1::uuid[], $2::text[]) AS x(id, zone) WHERE j.id = x.id AND j.status = 'queued'
     RETURNING ${JOB_CHANGE_COLUMNS}`,
    [assignments.map((a) => a.id), assignments.map((a) => a.zone)],
  );
  return rows;
}

/** A zone with at least one live worker, with the tasks its workers run and its carbon intensity. */
export interface LiveZone {
  zone: string;
  tasks: string[];
  intensity: number | null;
}

/** Zones that have a live worker (heartbeat fresher than `staleMs`). */
export async function listLiveZones(db: Queryable, staleMs: number): Promise<LiveZone[]> {
  const { rows } = await db.query<LiveZone>(
    `SELECT w.zone, array_agg(DISTINCT t) AS tasks, z.intensity
     FROM jobplane.workers w CROSS JOIN LATERAL unnest(w.tasks) AS t
     LEFT JOIN jobplane.zone_intensities z ON z.zone = w.zone
     WHERE w.stopped_at IS NULL AND w.zone IS NOT NULL
       AND w.last_heartbeat_at > now() - $1 * interval '1 millisecond'
     GROUP BY w.zone, z.intensity ORDER BY w.zone`,
    [staleMs],
  );
  return rows;
}

/** Record the carbon intensity of a zone. */
export async function setZoneIntensity(db: Queryable, zone: string, intensity: number): Promise<void> {
  await db.query(
    `INSERT INTO jobplane.zone_intensities (zone, intensity) VALUES ($1, $2)
     ON CONFLICT (zone) DO UPDATE SET intensity = EXCLUDED.intensity, updated_at = now()`,
    [zone, intensity],
  );
}

/** Whether the server runs autovacuum (Jobplane relies on it to reclaim the rows of finished and deleted jobs). */
export async function autovacuumEnabled(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ on: boolean }>(`SELECT current_setting('autovacuum') = 'on' AND current_setting('track_counts') = 'on' AS on`);
  return rows[0]?.on ?? true;
}
