import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { type Clock, type Logger } from '../core/deps.js';
import { systemClock } from '../engine/clock.js';
import { nullEventSink, type EventSink, type JobChange } from '../core/live-events.js';
import { planFires } from '../core/schedule-plan.js';
import { timingOf } from '../core/schedule-spec.js';
import { withTransaction, type Pool, type Queryable } from '../db/pool.js';
import { notifyNewJobs } from '../db/queries/jobs.js';
import { activeScheduleJobs, lockDueSchedules, setFireState, type ScheduleRow } from '../db/queries/schedules.js';
import { cancelActive, enqueueFire, recordSkip } from '../engine/schedule-jobs.js';
import { tracer, tracingEnabled } from '../telemetry/trace-context.js';
import { announceChanges } from './maintenance-pass.js';

/** How many schedules one pass handles (the rest wait for the next pass, moments later). */
const BATCH = 50;

/**
 * Turns due fire times into jobs, applying each schedule's misfire and overlap policies. Runs on
 * the elected leader only, but its correctness does not depend on that: every fire time goes
 * through a unique row (see `enqueueFire`).
 */
export class CronEnqueuer {
  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly events: EventSink = nullEventSink,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Handle every due schedule; returns the number of jobs created. */
  async runOnce(): Promise<number> {
    let created = 0;
    for (;;) {
      const changes: JobChange[] = [];
      const { count, more } = await withTransaction(this.pool, async (tx) => {
        changes.length = 0;
        const { now, schedules } = await lockDueSchedules(tx, BATCH);
        let n = 0;
        for (const schedule of schedules) n += await this.fireTraced(tx, schedule, now, changes);
        return { count: n, more: schedules.length === BATCH };
      });
      announceChanges(this.events, changes, this.clock);
      created += count;
      if (!more) break;
    }
    if (created > 0) await notifyNewJobs(this.pool);
    return created;
  }

  /**
   * With tracing on, each due schedule's handling is one span (its statements are children); the
   * jobs it creates carry that span as their submitter, so each attempt's span links back to the
   * fire. Idle passes make no spans.
   */
  private async fireTraced(tx: Queryable, schedule: ScheduleRow, now: Date, changes: JobChange[]): Promise<number> {
    if (!tracingEnabled()) return this.fire(tx, schedule, now, changes);
    const attributes = { 'jobplane.schedule.id': schedule.id, 'jobplane.schedule.name': schedule.name, 'jobplane.tenant.id': schedule.tenantId };
    return tracer.startActiveSpan(`schedule fire ${schedule.name}`, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
      try {
        const created = await this.fire(tx, schedule, now, changes);
        span.setAttribute('jobplane.schedule.jobs_created', created);
        return created;
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  private async fire(tx: Queryable, schedule: ScheduleRow, now: Date, changes: JobChange[]): Promise<number> {
    let created = 0;
    let active = await activeScheduleJobs(tx, schedule.id);
    let pending = schedule.pendingFireAt;
    let last: Date | null = null;
    // A fire buffered by `queue-one` starts once the previous run has finished.
    if (pending && active.length === 0) {
      const id = await enqueueFire(tx, schedule, pending, 'overlap-buffered', changes);
      if (id) {
        created += 1;
        active = [{ id, status: 'queued' }];
      }
      last = pending;
      pending = null;
    }
    let nextFireAt = schedule.nextFireAt;
    if (schedule.nextFireAt && schedule.nextFireAt <= now) {
      const plan = planFires({
        timing: timingOf(schedule),
        dueFrom: schedule.nextFireAt,
        now,
        misfirePolicy: schedule.misfirePolicy,
        catchUpMax: schedule.catchUpMax,
        misfireGraceMs: schedule.misfireGraceMs,
      });
      for (const at of plan.skipped.sample) {
        const more = plan.skipped.count > plan.skipped.sample.length ? ` (${plan.skipped.countIsLowerBound ? 'at least ' : ''}${plan.skipped.count} missed in all)` : '';
        await recordSkip(tx, schedule.id, at, `misfire: the scheduler was not running at this time; policy ${schedule.misfirePolicy}${more}`);
      }
      for (const at of plan.fires) {
        const late = now.getTime() - at.getTime() > schedule.misfireGraceMs;
        const reason = late ? (schedule.misfirePolicy === 'catch-up' ? 'catch-up' : 'misfire-run-once') : 'on-time';
        if (active.length > 0 && schedule.overlapPolicy !== 'allow') {
          if (schedule.overlapPolicy === 'skip') {
            await recordSkip(tx, schedule.id, at, 'overlap: the previous run is still active');
            continue;
          }
          if (schedule.overlapPolicy === 'queue-one') {
            if (pending) await recordSkip(tx, schedule.id, pending, 'overlap: replaced by a newer buffered fire');
            pending = at;
            continue;
          }
          await cancelActive(tx, active, `schedule ${schedule.name}`, changes);
          active = [];
        }
        const id = await enqueueFire(tx, schedule, at, reason, changes);
        if (id) {
          created += 1;
          active.push({ id, status: 'queued' });
        }
        last = at;
      }
      nextFireAt = plan.nextFireAt;
    }
    await setFireState(tx, schedule.id, { nextFireAt, pendingFireAt: pending, lastFireAt: last });
    if (created > 0) this.logger.debug({ scheduleId: schedule.id, created }, 'schedule fired');
    return created;
  }
}
