import type { NormalizedSchedule } from '../../core/schedule-spec.js';
import type { Queryable } from '../pool.js';

/** Channel on which schedule edits wake the scheduler (payload empty). */
export const SCHEDULES_CHANNEL = 'jobplane_schedules';

/** Wake the scheduler (delivered at commit when inside a transaction). */
export async function notifySchedulesChanged(db: Queryable): Promise<void> {
  await db.query(`SELECT pg_notify('${SCHEDULES_CHANNEL}', '')`);
}

/** A schedule as stored: its validated fields plus bookkeeping. */
export interface ScheduleRow extends NormalizedSchedule {
  id: string;
  tenantId: string;
  pendingFireAt: Date | null;
  lastFireAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `s.id, s.tenant_id AS "tenantId", s.name, s.description, s.cron, s.interval_ms::float8 AS "intervalMs",
  s.timezone, s.anchor_at AS "anchorAt", s.task, s.queue, s.payload, s.job_options AS "jobOptions",
  s.misfire_policy AS "misfirePolicy", s.catch_up_max AS "catchUpMax", s.misfire_grace_ms AS "misfireGraceMs",
  s.overlap_policy AS "overlapPolicy", s.paused, s.next_fire_at AS "nextFireAt", s.pending_fire_at AS "pendingFireAt",
  s.last_fire_at AS "lastFireAt", s.created_by AS "createdBy", s.created_at AS "createdAt", s.updated_at AS "updatedAt"`;

/** The writable fields of a schedule. */
export type ScheduleFields = NormalizedSchedule;

function fieldValues(f: ScheduleFields): unknown[] {
  return [
    f.name,
    f.description,
    f.cron,
    f.intervalMs,
    f.timezone,
    f.anchorAt,
    f.task,
    f.queue,
    JSON.stringify(f.payload ?? null),
    JSON.stringify(f.jobOptions),
    f.misfirePolicy,
    f.catchUpMax,
    f.misfireGraceMs,
    f.overlapPolicy,
    f.paused,
    f.nextFireAt,
  ];
}

/** Insert a schedule. A duplicate name in the tenant raises unique_violation (23505). */
export async function insertSchedule(
  db: Queryable,
  id: string,
  tenantId: string,
  createdBy: string | null,
  fields: ScheduleFields,
): Promise<ScheduleRow> {
  const { rows } = await db.query<ScheduleRow>(
    `INSERT INTO jobplane.schedules AS s (id, tenant_id, created_by, name, description, cron, interval_ms, timezone,
       anchor_at, task, queue, payload, job_options, misfire_policy, catch_up_max, misfire_grace_ms, overlap_policy,
       paused, next_fire_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13::jsonb, $14, $15, $16, $17, $18, $19)
     RETURNING ${COLUMNS}`,
    [id, tenantId, createdBy, ...fieldValues(fields)],
  );
  return rows[0]!;
}

/** Replace a schedule's writable fields. */
export async function updateSchedule(db: Queryable, id: string, fields: ScheduleFields): Promise<ScheduleRow> {
  const { rows } = await db.query<ScheduleRow>(
    `UPDATE jobplane.schedules AS s SET name = $2, description = $3, cron = $4, interval_ms = $5, timezone = $6,
       anchor_at = $7, task = $8, queue = $9, payload = $10::jsonb, job_options = $11::jsonb, misfire_policy = $12,
       catch_up_max = $13, misfire_grace_ms = $14, overlap_policy = $15, paused = $16, next_fire_at = $17,
       pending_fire_at = CASE WHEN $16 THEN NULL ELSE s.pending_fire_at END, updated_at = now()
     WHERE s.id = $1 RETURNING ${COLUMNS}`,
    [id, ...fieldValues(fields)],
  );
  return rows[0]!;
}

/** Fetch a schedule, optionally locking it. */
export async function getSchedule(
  db: Queryable,
  tenantId: string | null,
  id: string,
  lock = false,
): Promise<ScheduleRow | null> {
  const { rows } = await db.query<ScheduleRow>(
    `SELECT ${COLUMNS} FROM jobplane.schedules s WHERE s.id = $1 AND ($2::uuid IS NULL OR s.tenant_id = $2::uuid)
     ${lock ? 'FOR UPDATE' : ''}`,
    [id, tenantId],
  );
  return rows[0] ?? null;
}

/** Schedules of a tenant by name, keyset-paginated. */
export async function listSchedules(
  db: Queryable,
  tenantId: string | null,
  afterName: string | null,
  limit: number,
): Promise<ScheduleRow[]> {
  const { rows } = await db.query<ScheduleRow>(
    `SELECT ${COLUMNS} FROM jobplane.schedules s
     WHERE ($1::uuid IS NULL OR s.tenant_id = $1::uuid) AND ($2::text IS NULL OR s.name > $2::text)
     ORDER BY s.name LIMIT $3`,
    [tenantId, afterName, limit],
  );
  return rows;
}

/** Delete a schedule (its runs go with it; its jobs stay). Returns whether it existed. */
export async function deleteSchedule(db: Queryable, tenantId: string | null, id: string): Promise<ScheduleRow | null> {
  const { rows } = await db.query<ScheduleRow>(
    `DELETE FROM jobplane.schedules s WHERE s.id = $1 AND ($2::uuid IS NULL OR s.tenant_id = $2::uuid)
     RETURNING ${COLUMNS}`,
    [id, tenantId],
  );
  return rows[0] ?? null;
}

/**
 * Lock schedules with work to do: a fire time that has come, or a buffered (queue-one) fire.
 * Also returns the database clock, which all fire decisions use (docs/decisions.md #3). `tx` must be in a transaction.
 */
export async function lockDueSchedules(
  tx: Queryable,
  limit: number,
): Promise<{ now: Date; schedules: ScheduleRow[] }> {
  const { rows } = await tx.query<ScheduleRow & { dbNow: Date }>(
    `SELECT ${COLUMNS}, now() AS "dbNow" FROM jobplane.schedules s
     WHERE NOT s.paused AND ((s.next_fire_at IS NOT NULL AND s.next_fire_at <= now()) OR s.pending_fire_at IS NOT NULL)
     ORDER BY s.next_fire_at NULLS LAST LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  if (rows.length === 0) {
    const { rows: clock } = await tx.query<{ now: Date }>('SELECT now() AS now');
    return { now: clock[0]!.now, schedules: [] };
  }
  return { now: rows[0]!.dbNow, schedules: rows.map(({ dbNow: _dbNow, ...s }) => s) };
}

/**
 * Which schedules a pass may prepare before their fire time: active, overlap `allow`, nothing
 * buffered. Their fire does not depend on what runs at the fire time, so it can be written ahead
 * and committed at that time (see CronEnqueuer).
 */
const PREPARABLE = `NOT s.paused AND s.overlap_policy = 'allow' AND s.pending_fire_at IS NULL`;

/**
 * The earliest future fire time of preparable schedules, how many share it, and how far off it
 * is on the database clock. Plan: schedules_due_idx in next_fire_at order for the min, then the
 * same index for the equal rows.
 */
export async function nextPreparableFire(db: Queryable): Promise<{ at: Date; count: number; inMs: number } | null> {
  const { rows } = await db.query<{ at: Date; count: number; inMs: number }>(
    `SELECT s.next_fire_at AS at, count(*)::int AS count,
            (extract(epoch FROM s.next_fire_at - clock_timestamp()) * 1000)::float8 AS "inMs"
     FROM jobplane.schedules s
     WHERE ${PREPARABLE} AND s.next_fire_at = (
       SELECT min(s.next_fire_at) FROM jobplane.schedules s WHERE ${PREPARABLE} AND s.next_fire_at > now())
     GROUP BY s.next_fire_at`,
  );
  return rows[0] ?? null;
}

/** Lock up to `limit` preparable schedules whose next fire time is exactly `at`. `tx` must be in a transaction. */
export async function lockPreparableAt(tx: Queryable, at: Date, limit: number): Promise<ScheduleRow[]> {
  const { rows } = await tx.query<ScheduleRow>(
    `SELECT ${COLUMNS} FROM jobplane.schedules s WHERE ${PREPARABLE} AND s.next_fire_at = $1
     LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [at, limit],
  );
  return rows;
}

/** Milliseconds from the database clock's now to `at` (negative once it has passed). */
export async function msUntil(db: Queryable, at: Date): Promise<number> {
  const { rows } = await db.query<{ ms: number }>('SELECT (extract(epoch FROM $1::timestamptz - clock_timestamp()) * 1000)::float8 AS ms', [at]);
  return rows[0]!.ms;
}

/** The soonest fire time of any active schedule (to sleep until it). */
export async function nextDueAt(db: Queryable): Promise<{ next: Date | null; now: Date }> {
  const { rows } = await db.query<{ next: Date | null; now: Date }>(
    `SELECT (SELECT min(next_fire_at) FROM jobplane.schedules WHERE NOT paused AND next_fire_at IS NOT NULL) AS next,
            now() AS now`,
  );
  return rows[0]!;
}

/** Record one fire time. Returns false when that fire time was already recorded (docs/decisions.md #10). */
export async function insertScheduleRun(
  tx: Queryable,
  run: { scheduleId: string; fireAt: Date; outcome: 'enqueued' | 'skipped'; reason: string; jobId: string | null },
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO jobplane.schedule_runs (schedule_id, fire_at, outcome, reason, job_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (schedule_id, fire_at) DO NOTHING`,
    [run.scheduleId, run.fireAt, run.outcome, run.reason, run.jobId],
  );
  return (rowCount ?? 0) > 0;
}


/** One fire time to record, for {@link insertScheduleRuns}. */
export interface NewScheduleRun {
  scheduleId: string;
  fireAt: Date;
  outcome: 'enqueued' | 'skipped';
  reason: string;
  jobId: string | null;
}

/**
 * Record many fire times in one statement. Returns the keys (`scheduleId|fireAt ms`) of the runs
 * this statement wrote; a fire time already recorded, by another scheduler or earlier in the
 * same list, is left as it was and missing from the result (docs/decisions.md #10).
 * Plan: one insert from unnest; each row probes schedule_runs_pkey.
 */
export async function insertScheduleRuns(tx: Queryable, runs: readonly NewScheduleRun[]): Promise<Set<string>> {
  if (runs.length === 0) return new Set();
  const { rows } = await tx.query<{ scheduleId: string; fireAt: Date }>(
    `INSERT INTO jobplane.schedule_runs (schedule_id, fire_at, outcome, reason, job_id)
     SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::uuid[])
     ON CONFLICT (schedule_id, fire_at) DO NOTHING
     RETURNING schedule_id AS "scheduleId", fire_at AS "fireAt"`,
    [runs.map((r) => r.scheduleId), runs.map((r) => r.fireAt), runs.map((r) => r.outcome), runs.map((r) => r.reason), runs.map((r) => r.jobId)],
  );
  // Keyed the way the caller keys its runs: the fire times went in as, and come back as, JS dates.
  return new Set(rows.map((r) => scheduleRunKey(r.scheduleId, r.fireAt)));
}

/** The key {@link insertScheduleRuns} returns for a run. */
export function scheduleRunKey(scheduleId: string, fireAt: Date): string {
  return `${scheduleId}|${fireAt.getTime()}`;
}

/**
 * Unfinished jobs of many schedules, by schedule id (schedules without any are absent).
 * Plan: jobs_schedule_active_idx, a partial index holding only unfinished scheduled jobs.
 */
export async function activeJobsOfSchedules(
  db: Queryable,
  scheduleIds: readonly string[],
): Promise<Map<string, Array<{ id: string; status: string }>>> {
  const byId = new Map<string, Array<{ id: string; status: string }>>();
  if (scheduleIds.length === 0) return byId;
  const { rows } = await db.query<{ scheduleId: string; id: string; status: string }>(
    `SELECT schedule_id AS "scheduleId", id, status FROM jobplane.jobs
     WHERE schedule_id = ANY($1::uuid[]) AND status IN ('queued', 'scheduled', 'running') ORDER BY id`,
    [scheduleIds],
  );
  for (const { scheduleId, id, status } of rows) {
    const list = byId.get(scheduleId);
    if (list) list.push({ id, status });
    else byId.set(scheduleId, [{ id, status }]);
  }
  return byId;
}

/** Store the fire bookkeeping of schedules after the enqueuer handled them, in one statement. `lastFireAt` null keeps the stored value. */
export async function setFireStates(
  tx: Queryable,
  states: ReadonlyArray<{ id: string; nextFireAt: Date | null; pendingFireAt: Date | null; lastFireAt: Date | null }>,
): Promise<void> {
  if (states.length === 0) return;
  await tx.query(
    `UPDATE jobplane.schedules s SET next_fire_at = u.next_fire_at, pending_fire_at = u.pending_fire_at,
       last_fire_at = coalesce(u.last_fire_at, s.last_fire_at)
     FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[]) AS u (id, next_fire_at, pending_fire_at, last_fire_at)
     WHERE s.id = u.id`,
    [states.map((x) => x.id), states.map((x) => x.nextFireAt), states.map((x) => x.pendingFireAt), states.map((x) => x.lastFireAt)],
  );
}

/** One recorded fire of a schedule, with its job's status. */
export interface ScheduleRunRow {
  fireAt: Date;
  outcome: 'enqueued' | 'skipped';
  reason: string;
  jobId: string | null;
  jobStatus: string | null;
  createdAt: Date;
}

/** Recorded fires, newest first. */
export async function listScheduleRuns(
  db: Queryable,
  scheduleId: string,
  before: Date | null,
  limit: number,
): Promise<ScheduleRunRow[]> {
  const { rows } = await db.query<ScheduleRunRow>(
    `SELECT r.fire_at AS "fireAt", r.outcome, r.reason, r.job_id AS "jobId", j.status AS "jobStatus",
            r.created_at AS "createdAt"
     FROM jobplane.schedule_runs r LEFT JOIN jobplane.jobs j ON j.id = r.job_id
     WHERE r.schedule_id = $1 AND ($2::timestamptz IS NULL OR r.fire_at < $2::timestamptz)
     ORDER BY r.fire_at DESC LIMIT $3`,
    [scheduleId, before, limit],
  );
  return rows;
}
