import type { JobChange } from '../core/live-events.js';
import { previewFires } from '../core/schedule-plan.js';
import { normalizeScheduleSpec, timingOf, type NormalizedSchedule, type ScheduleSpec } from '../core/schedule-spec.js';
import { DEFAULT_TENANT_ID } from '../core/tenants.js';
import { AppError, invalidField } from '../errors/index.js';
import { uuidv7 } from '../db/ids.js';
import { isPgError, withTransaction, type Queryable } from '../db/pool.js';
import { databaseNow } from '../db/queries/clock.js';
import { notifyNewJobs } from '../db/queries/jobs.js';
import {
  deleteSchedule as deleteScheduleRow,
  getSchedule,
  insertSchedule,
  listScheduleRuns,
  listSchedules,
  notifySchedulesChanged,
  updateSchedule,
  type ScheduleRow,
  type ScheduleRunRow,
} from '../db/queries/schedules.js';
import { checkJobId, type Actor } from './job-service.js';
import { enqueueFire } from './schedule-jobs.js';
import { checkSubmission, type SubmitPolicy } from './submit-checks.js';

/** A change to a schedule, before and after (for the audit log). */
export interface ScheduleChange {
  before: ScheduleRow | null;
  after: ScheduleRow | null;
}

function toSpec(row: ScheduleRow): ScheduleSpec {
  return {
    name: row.name,
    description: row.description,
    cron: row.cron,
    intervalMs: row.intervalMs,
    timezone: row.timezone,
    task: row.task,
    queue: row.queue,
    payload: row.payload,
    jobOptions: row.jobOptions,
    misfirePolicy: row.misfirePolicy,
    catchUpMax: row.catchUpMax,
    misfireGraceMs: row.misfireGraceMs,
    overlapPolicy: row.overlapPolicy,
    paused: row.paused,
  };
}

function translateUnique(error: unknown, name: string): never {
  if (isPgError(error, '23505')) throw new AppError('SCHEDULE_NAME_TAKEN', `a schedule named ${name} already exists`);
  throw error;
}

async function requireSchedule(db: Queryable, actor: Actor, id: string, lock: boolean): Promise<ScheduleRow> {
  const row = await getSchedule(db, actor.tenantId, checkJobId(id), lock);
  if (!row) throw new AppError('SCHEDULE_NOT_FOUND', `no schedule ${id}`);
  return row;
}

/**
 * The job a schedule will fire is checked like a submit (task policy, built-in payloads, secret
 * references), when the schedule is saved rather than at every fire. No policy: nothing checked.
 */
async function checkTemplate(db: Queryable, tenantId: string, task: unknown, payload: unknown, policy: SubmitPolicy | undefined): Promise<void> {
  if (policy) await checkSubmission(db, tenantId, [{ pointer: '', task, payload }], policy);
}

/**
 * Create a schedule; it fires first at its next fire time after now (database clock). With a
 * `policy`, its job template must pass the submit checks (the API and the SDK pass theirs).
 */
export async function createSchedule(db: Queryable, actor: Actor & { createdBy?: string | null }, spec: unknown, policy?: SubmitPolicy): Promise<ScheduleRow> {
  const template = (spec ?? {}) as { task?: unknown; payload?: unknown };
  await checkTemplate(db, actor.tenantId ?? DEFAULT_TENANT_ID, template.task, template.payload, policy);
  const fields = normalizeScheduleSpec(spec, await databaseNow(db));
  try {
    const row = await insertSchedule(db, uuidv7(), actor.tenantId ?? DEFAULT_TENANT_ID, actor.createdBy ?? null, fields);
    await notifySchedulesChanged(db);
    return row;
  } catch (error) {
    return translateUnique(error, fields.name);
  }
}

/**
 * Change a schedule: `patch` fields replace the current ones. A timing change recomputes the next
 * fire time from now; other edits keep it.
 */
export async function updateScheduleFields(db: Queryable, actor: Actor, id: string, patch: unknown, policy?: SubmitPolicy): Promise<ScheduleChange> {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw invalidField('/', 'must be an object');
  const change = await withTransaction(db, async (tx) => {
    const before = await requireSchedule(tx, actor, id, true);
    const p = patch as Partial<ScheduleSpec>;
    // The template after the patch: a new payload for the old task, or the old payload for a new task.
    if (p.task !== undefined || p.payload !== undefined) await checkTemplate(tx, before.tenantId, p.task ?? before.task, p.payload !== undefined ? p.payload : before.payload, policy);
    const merged: Record<string, unknown> = { ...toSpec(before), ...p };
    if (p.cron !== undefined && p.cron !== null) merged.intervalMs = null;
    if (p.intervalMs !== undefined && p.intervalMs !== null) merged.cron = null;
    const fields = normalizeScheduleSpec(merged, await databaseNow(tx), before.anchorAt);
    const timingChanged = fields.cron !== before.cron || fields.intervalMs !== before.intervalMs || fields.timezone !== before.timezone || 'startAt' in p;
    const next: NormalizedSchedule = timingChanged ? fields : { ...fields, nextFireAt: before.nextFireAt };
    try {
      return { before, after: await updateSchedule(tx, before.id, next) };
    } catch (error) {
      return translateUnique(error, fields.name);
    }
  });
  await notifySchedulesChanged(db);
  return change;
}

/** Pause or resume. Resuming skips the fire times that passed while paused (recomputed from now). */
export async function setSchedulePaused(db: Queryable, actor: Actor, id: string, paused: boolean): Promise<ScheduleChange> {
  const change = await withTransaction(db, async (tx) => {
    const before = await requireSchedule(tx, actor, id, true);
    if (before.paused === paused) return { before, after: before };
    const fields = normalizeScheduleSpec({ ...toSpec(before), paused }, await databaseNow(tx), before.anchorAt);
    return { before, after: await updateSchedule(tx, before.id, fields) };
  });
  await notifySchedulesChanged(db);
  return change;
}

/**
 * Fire a schedule now, outside its timing (always runs, whatever the overlap policy).
 * `traceParent` names the job's submitter when no span is active (the caller's own header).
 */
export async function triggerSchedule(db: Queryable, actor: Actor, id: string, options: { traceParent?: string } = {}): Promise<{ jobId: string; fireAt: Date; changes: JobChange[] }> {
  const result = await withTransaction(db, async (tx) => {
    const changes: JobChange[] = [];
    const schedule = await requireSchedule(tx, actor, id, true);
    const fireAt = await databaseNow(tx);
    const jobId = await enqueueFire(tx, schedule, fireAt, 'manual', changes, options.traceParent);
    if (!jobId) throw new AppError('SCHEDULE_INVALID', 'this schedule was already triggered at this instant; try again');
    return { jobId, fireAt, changes };
  });
  await notifyNewJobs(db, true);
  return result;
}

/** Read one schedule. */
export async function readSchedule(db: Queryable, actor: Actor, id: string): Promise<ScheduleRow> {
  return requireSchedule(db, actor, id, false);
}

/** List schedules by name. */
export async function searchSchedules(db: Queryable, actor: Actor, options: { after?: string; limit?: number } = {}): Promise<ScheduleRow[]> {
  const limit = options.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw invalidField('/limit', 'must be an integer between 1 and 500');
  return listSchedules(db, actor.tenantId, options.after ?? null, limit);
}

/** Delete a schedule; its jobs stay. */
export async function removeSchedule(db: Queryable, actor: Actor, id: string): Promise<ScheduleRow> {
  const row = await deleteScheduleRow(db, actor.tenantId, checkJobId(id));
  if (!row) throw new AppError('SCHEDULE_NOT_FOUND', `no schedule ${id}`);
  return row;
}

/** The next `count` fire times (1…100) of a stored schedule or of a spec not yet saved. */
export async function previewSchedule(db: Queryable, actor: Actor, source: { id: string } | { spec: unknown }, count = 10): Promise<Date[]> {
  if (!Number.isInteger(count) || count < 1 || count > 100) throw invalidField('/count', 'must be an integer between 1 and 100');
  const now = await databaseNow(db);
  const fields = 'id' in source ? await requireSchedule(db, actor, source.id, false) : normalizeScheduleSpec(source.spec, now);
  return previewFires(timingOf(fields), new Date(now.getTime() - 1), count);
}

/** Recorded fires of a schedule, newest first, with why each fired or was skipped. */
export async function readScheduleRuns(db: Queryable, actor: Actor, id: string, options: { before?: Date; limit?: number } = {}): Promise<ScheduleRunRow[]> {
  const schedule = await requireSchedule(db, actor, id, false);
  return listScheduleRuns(db, schedule.id, options.before ?? null, Math.min(options.limit ?? 50, 500));
}
