import { context, trace } from '@opentelemetry/api';
import type { JobChange } from '../core/live-events.js';
import { normalizeJobSpec } from '../core/job-spec.js';
import type { Queryable } from '../db/pool.js';
import { cancelWaitingJob, requestCancel } from '../db/queries/job-admin.js';
import { insertScheduleRun, type ScheduleRow } from '../db/queries/schedules.js';
import { traceParentOf } from '../telemetry/trace-context.js';
import { insertRows, toNewJobRow } from './submit.js';
import type { Clock } from '../core/deps.js';
import { systemClock } from './clock.js';

/**
 * Create the job for one fire time of a schedule, inside `tx`. The schedule_runs row is written
 * first: its primary key (schedule, fire time) makes a second scheduler's attempt for the same
 * fire time a no-op (guarantee 3), even with two leaders at once. Returns the job id, or null when
 * this fire time was already handled. The job's submitter, for tracing, is `traceParent`, by
 * default the active span: the scheduler's fire span, or the request of a manual trigger.
 */
export async function enqueueFire(
  tx: Queryable,
  schedule: ScheduleRow,
  fireAt: Date,
  reason: string,
  changes: JobChange[] = [],
  traceParent = traceParentOf(trace.getSpan(context.active())),
): Promise<string | null> {
  const spec = normalizeJobSpec({ ...schedule.jobOptions, task: schedule.task, queue: schedule.queue, payload: schedule.payload });
  const row = toNewJobRow(spec, { tenantId: schedule.tenantId, createdBy: `schedule:${schedule.name}`, ...(traceParent ? { traceParent } : {}) }, { scheduleId: schedule.id, fireAt });
  const fresh = await insertScheduleRun(tx, { scheduleId: schedule.id, fireAt, outcome: 'enqueued', reason, jobId: row.id });
  if (!fresh) return null;
  const [job] = await insertRows(tx, [row]);
  if (job?.created) {
    changes.push({ id: row.id, tenantId: row.tenant_id, queue: row.queue, task: row.task, status: job.status, attempt: 0, scheduleId: schedule.id });
  }
  return row.id;
}

/** Record a fire time that produced no job, and why. */
export async function recordSkip(tx: Queryable, scheduleId: string, fireAt: Date, reason: string): Promise<void> {
  await insertScheduleRun(tx, { scheduleId, fireAt, outcome: 'skipped', reason, jobId: null });
}

/** Cancel the still-active jobs of a schedule (overlap policy `cancel-previous`). */
export async function cancelActive(
  tx: Queryable,
  jobs: ReadonlyArray<{ id: string; status: string }>,
  by: string,
  changes: JobChange[] = [],
  clock: Clock = systemClock,
): Promise<void> {
  for (const job of jobs) {
    if (job.status === 'running') await requestCancel(tx, job.id);
    else {
      const after = await cancelWaitingJob(tx, job.id, {
        attempt: 0,
        kind: 'cancelled',
        message: `cancelled by ${by}: a newer fire replaced it`,
        workerId: null,
        at: new Date(clock.nowMs()).toISOString(),
      });
      changes.push(after);
    }
  }
}
