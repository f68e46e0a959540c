import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { type Clock, type Logger } from '../core/deps.js';
import { systemClock } from '../engine/clock.js';
import { nullEventSink, type EventSink, type JobChange } from '../core/live-events.js';
import { normalizeJobSpec, type NormalizedJob } from '../core/job-spec.js';
import { decideFires, type FireState } from '../core/schedule-fire.js';
import { planFires, type FirePlan, type ScheduleTiming } from '../core/schedule-plan.js';
import { timingOf } from '../core/schedule-spec.js';
import { withTransaction, type Pool, type Queryable } from '../db/pool.js';
import { notifyNewJobs, type NewJobRow } from '../db/queries/jobs.js';
import {
  activeJobsOfSchedules, insertScheduleRuns, lockDueSchedules, lockPreparableAt, msUntil, nextDueAt, nextPreparableFire,
  scheduleRunKey, setFireStates, type NewScheduleRun, type ScheduleRow,
} from '../db/queries/schedules.js';
import { cancelActive, enqueueFire, recordSkip } from '../engine/schedule-jobs.js';
import { insertRows, toNewJobRow } from '../engine/submit.js';
import { traceParentOf, tracer, tracingEnabled } from '../telemetry/trace-context.js';
import { announceChanges } from './maintenance-pass.js';

/**
 * How many schedules one transaction handles. Each batch costs a fixed handful of statements
 * (lock, unfinished jobs, runs, jobs, states), so 10,000 schedules due at the same minute are
 * twenty transactions, not 40,000 statements.
 */
const BATCH = 500;

/** Compiled timings kept between passes (a schedule's cron is parsed once, not at every fire). */
const TIMING_CACHE_SIZE = 10_000;

/** Longest a fire is prepared before its time (the transaction holding it stays open that long). */
export const MAX_LEAD_MS = 2000;
/** Shortest lead: enough for a handful of schedules and the commit (tests may ask for more). */
const MIN_LEAD_MS = 50;
/** Most schedules prepared ahead for one fire time; the rest fire at the time, in batches. */
const MAX_PREPARED = 50_000;

/**
 * Turns due fire times into jobs, applying each schedule's misfire and overlap policies. Runs on
 * the elected leader only, but its correctness does not depend on that: every fire time goes
 * through a unique row (see `enqueueFire`).
 */
export class CronEnqueuer {
  private readonly timings = new Map<string, ScheduleTiming>();
  /** Measured cost of preparing one schedule's fire, ms (a moving average; starts pessimistic). */
  private msPerSchedule = 0.1;
  /** The fire time last prepared (or tried): once tried, it is waited for like any due time. */
  private triedAhead = 0;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly events: EventSink = nullEventSink,
    private readonly clock: Clock = systemClock,
    private readonly options: { minLeadMs?: number } = {},
  ) {}

  /**
   * Handle every due schedule, then prepare the next fire time if it is within its lead; returns
   * the number of jobs created.
   */
  async runOnce(): Promise<number> {
    return (await this.fireDue()) + (await this.prepareNext());
  }

  /**
   * How long the scheduler may sleep before this enqueuer has work: until the next due fire time,
   * or until the next preparable fire time minus its lead.
   */
  async msUntilWork(): Promise<number> {
    const [{ next, now }, ahead] = await Promise.all([nextDueAt(this.pool), nextPreparableFire(this.pool)]);
    const untilDue = next ? next.getTime() - now.getTime() : Infinity;
    const untilAhead = !ahead ? Infinity : ahead.inMs - (ahead.at.getTime() === this.triedAhead ? 0 : this.leadMs(ahead.count));
    return Math.max(0, Math.min(untilDue, untilAhead));
  }

  /** How long before a fire time shared by `count` schedules its preparation starts. */
  leadMs(count: number): number {
    const floor = this.options.minLeadMs ?? MIN_LEAD_MS;
    return Math.min(Math.max(MAX_LEAD_MS, floor), floor + 2 * Math.min(count, MAX_PREPARED) * this.msPerSchedule);
  }

  /**
   * Prepare the next fire time of the schedules whose fire does not depend on what runs then
   * (overlap `allow`, nothing buffered), when it is within its lead: lock them, write their runs,
   * jobs (due at the fire time) and next fire times, wait for the fire time, and commit. Nothing
   * is visible before that commit, so 10,000 schedules of the same minute start on time instead
   * of over the second their writes take. An edit, pause or delete of one of those schedules in
   * the lead (≤ 2 s) waits for the commit and applies after that fire. If this process dies
   * before the commit, nothing was written and the fire is made by the next pass (late, once).
   */
  private async prepareNext(): Promise<number> {
    const ahead = await nextPreparableFire(this.pool);
    if (!ahead || ahead.inMs > this.leadMs(ahead.count) || ahead.at.getTime() === this.triedAhead) return 0;
    const at = ahead.at;
    this.triedAhead = at.getTime();
    const changes: JobChange[] = [];
    const started = performance.now();
    let prepared = 0;
    const created = await withTransaction(this.pool, async (tx) => {
      changes.length = 0;
      prepared = 0;
      let n = 0;
      while (prepared < MAX_PREPARED) {
        const schedules = await lockPreparableAt(tx, at, BATCH);
        if (schedules.length === 0) break;
        prepared += schedules.length;
        n += await this.fireBatchTraced(tx, schedules, at, changes, at);
        if (schedules.length < BATCH) break;
      }
      if (n === 0) return 0;
      const spent = performance.now() - started;
      const wait = await msUntil(tx, at);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
      this.msPerSchedule = 0.5 * this.msPerSchedule + 0.5 * (spent / prepared);
      return n;
    });
    announceChanges(this.events, changes, this.clock);
    if (created > 0) {
      await notifyNewJobs(this.pool);
      this.logger.debug({ fireAt: at.toISOString(), schedules: prepared, created, leadMs: Math.round(ahead.inMs) }, 'prepared fire committed');
    }
    return created;
  }

  /** Fire every schedule whose fire time has come, in batches. */
  private async fireDue(): Promise<number> {
    let created = 0;
    for (;;) {
      const changes: JobChange[] = [];
      const { count, more } = await withTransaction(this.pool, async (tx) => {
        changes.length = 0;
        const { now, schedules } = await lockDueSchedules(tx, BATCH);
        const count = schedules.length === 0 ? 0 : await this.fireBatchTraced(tx, schedules, now, changes, null);
        return { count, more: schedules.length === BATCH };
      });
      announceChanges(this.events, changes, this.clock);
      created += count;
      if (!more) break;
    }
    if (created > 0) await notifyNewJobs(this.pool);
    return created;
  }

  /** With tracing on, a batch is one `cron pass` span: its statements are the pass's children, each schedule's fire a child span. */
  private async fireBatchTraced(tx: Queryable, schedules: ScheduleRow[], now: Date, changes: JobChange[], preparedFor: Date | null): Promise<number> {
    if (!tracingEnabled()) return this.fireBatch(tx, schedules, now, changes, null, preparedFor);
    return tracer.startActiveSpan('cron pass', { kind: SpanKind.INTERNAL, attributes: { 'jobplane.schedules.due': schedules.length } }, async (span) => {
      const spans = new Map<string, Span>();
      try {
        return await this.fireBatch(tx, schedules, now, changes, spans, preparedFor);
      } catch (error) {
        for (const s of [span, ...spans.values()]) {
          s.recordException(error as Error);
          s.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        }
        throw error;
      } finally {
        for (const s of spans.values()) s.end();
        span.end();
      }
    });
  }

  /**
   * Fire a batch of locked, due schedules: decide every schedule in memory, then write all runs,
   * all jobs and all states with one statement each. A schedule whose overlap policy must cancel
   * a job (`cancel-previous`) is handled on its own, statement by statement. `spans`, when
   * tracing, receives one `schedule fire <name>` span per schedule; its jobs carry it as submitter.
   * `preparedFor`: the fire time a batch is prepared ahead for; its jobs are due and created then.
   */
  private async fireBatch(
    tx: Queryable,
    schedules: ScheduleRow[],
    now: Date,
    changes: JobChange[],
    spans: Map<string, Span> | null,
    preparedFor: Date | null,
  ): Promise<number> {
    // Unfinished jobs matter only to an overlap policy or a buffered fire.
    const active = await activeJobsOfSchedules(tx, schedules.filter((s) => s.overlapPolicy !== 'allow' || s.pendingFireAt).map((s) => s.id));
    const plans = new Map<string, FirePlan>();
    const runs: NewScheduleRun[] = [];
    const rows = new Map<string, { schedule: ScheduleRow; row: NewJobRow }>();
    const states: Array<FireState & { id: string }> = [];
    const oneByOne: ScheduleRow[] = [];
    for (const schedule of schedules) {
      const decision = decideFires({
        overlapPolicy: schedule.overlapPolicy,
        misfirePolicy: schedule.misfirePolicy,
        misfireGraceMs: schedule.misfireGraceMs,
        nextFireAt: schedule.nextFireAt,
        pendingFireAt: schedule.pendingFireAt,
        active: active.get(schedule.id)?.length ?? 0,
        plan: schedule.nextFireAt && schedule.nextFireAt <= now ? this.planFor(schedule, now, plans) : null,
        now,
      });
      if (!decision) {
        oneByOne.push(schedule);
        continue;
      }
      let traceParent: string | undefined;
      if (spans) {
        const span = tracer.startSpan(`schedule fire ${schedule.name}`, { kind: SpanKind.INTERNAL, attributes: { 'jobplane.schedule.id': schedule.id, 'jobplane.schedule.name': schedule.name, 'jobplane.tenant.id': schedule.tenantId } });
        spans.set(schedule.id, span);
        traceParent = traceParentOf(span);
      }
      let spec: NormalizedJob | null = null;
      for (const run of decision.runs) {
        let jobId: string | null = null;
        if (run.outcome === 'enqueued') {
          spec ??= normalizeJobSpec({ ...schedule.jobOptions, task: schedule.task, queue: schedule.queue, payload: schedule.payload });
          const row = toNewJobRow(spec, { tenantId: schedule.tenantId, createdBy: `schedule:${schedule.name}`, ...(traceParent ? { traceParent } : {}) }, { scheduleId: schedule.id, fireAt: run.at });
          if (preparedFor) row.run_at = row.created_at = preparedFor.toISOString();
          rows.set(scheduleRunKey(schedule.id, run.at), { schedule, row });
          jobId = row.id;
        }
        runs.push({ scheduleId: schedule.id, fireAt: run.at, outcome: run.outcome, reason: run.reason, jobId });
      }
      states.push({ id: schedule.id, ...decision.state });
    }
    const fresh = await insertScheduleRuns(tx, runs);
    const toInsert = [...rows].filter(([key]) => fresh.has(key)).map(([, value]) => value);
    const jobs = toInsert.length === 0 ? [] : await insertRows(tx, toInsert.map((r) => r.row));
    const perSchedule = new Map<string, number>();
    jobs.forEach((job, i) => {
      const { schedule, row } = toInsert[i]!;
      perSchedule.set(schedule.id, (perSchedule.get(schedule.id) ?? 0) + 1);
      if (job.created) changes.push({ id: row.id, tenantId: row.tenant_id, queue: row.queue, task: row.task, status: job.status, attempt: 0, scheduleId: schedule.id });
    });
    await setFireStates(tx, states);
    for (const [id, span] of spans ?? []) span.setAttribute('jobplane.schedule.jobs_created', perSchedule.get(id) ?? 0);
    let created = toInsert.length;
    for (const schedule of oneByOne) created += await this.fireTraced(tx, schedule, now, changes, plans);
    if (toInsert.length > 0) this.logger.debug({ schedules: perSchedule.size, created: toInsert.length }, 'schedules fired');
    return created;
  }

  /** The fire plan of a due schedule. Schedules with the same timing, due time and policies share one plan per batch. */
  private planFor(schedule: ScheduleRow, now: Date, plans: Map<string, FirePlan>): FirePlan {
    const timingKey = schedule.cron !== null ? `c\u0000${schedule.cron}\u0000${schedule.timezone}` : `i\u0000${schedule.intervalMs}\u0000${schedule.anchorAt.getTime()}`;
    const key = `${timingKey}\u0000${schedule.nextFireAt!.getTime()}\u0000${schedule.misfirePolicy}\u0000${schedule.catchUpMax}\u0000${schedule.misfireGraceMs}`;
    let plan = plans.get(key);
    if (!plan) {
      plan = planFires({ timing: this.timingOf(timingKey, schedule), dueFrom: schedule.nextFireAt!, now, misfirePolicy: schedule.misfirePolicy, catchUpMax: schedule.catchUpMax, misfireGraceMs: schedule.misfireGraceMs });
      plans.set(key, plan);
    }
    return plan;
  }

  private timingOf(key: string, schedule: ScheduleRow): ScheduleTiming {
    let timing = this.timings.get(key);
    if (!timing) {
      if (this.timings.size >= TIMING_CACHE_SIZE) this.timings.clear();
      timing = timingOf(schedule);
      this.timings.set(key, timing);
    }
    return timing;
  }

  /**
   * With tracing on, each due schedule's handling is one span (its statements are children); the
   * jobs it creates carry that span as their submitter, so each attempt's span links back to the
   * fire. Idle passes make no spans.
   */
  private async fireTraced(tx: Queryable, schedule: ScheduleRow, now: Date, changes: JobChange[], plans: Map<string, FirePlan>): Promise<number> {
    if (!tracingEnabled()) return this.fire(tx, schedule, now, changes, plans);
    const attributes = { 'jobplane.schedule.id': schedule.id, 'jobplane.schedule.name': schedule.name, 'jobplane.tenant.id': schedule.tenantId };
    return tracer.startActiveSpan(`schedule fire ${schedule.name}`, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
      try {
        const created = await this.fire(tx, schedule, now, changes, plans);
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

  /**
   * Fire a `cancel-previous` schedule that has a run to cancel, statement by statement: each fire
   * first cancels the unfinished job before it (a job an earlier fire of this pass just made, too).
   * What fires is decided as for `allow`; only the cancelling is added.
   */
  private async fire(tx: Queryable, schedule: ScheduleRow, now: Date, changes: JobChange[], plans: Map<string, FirePlan>): Promise<number> {
    let active = (await activeJobsOfSchedules(tx, [schedule.id])).get(schedule.id) ?? [];
    const decision = decideFires({
      overlapPolicy: 'allow',
      misfirePolicy: schedule.misfirePolicy,
      misfireGraceMs: schedule.misfireGraceMs,
      nextFireAt: schedule.nextFireAt,
      pendingFireAt: schedule.pendingFireAt,
      active: 0,
      plan: schedule.nextFireAt && schedule.nextFireAt <= now ? this.planFor(schedule, now, plans) : null,
      now,
    })!;
    let created = 0;
    for (const run of decision.runs) {
      if (run.outcome === 'skipped') {
        await recordSkip(tx, schedule.id, run.at, run.reason);
        continue;
      }
      if (active.length > 0) await cancelActive(tx, active, `schedule ${schedule.name}`, changes);
      const id = await enqueueFire(tx, schedule, run.at, run.reason, changes);
      active = id ? [{ id, status: 'queued' }] : [];
      if (id) created += 1;
    }
    await setFireStates(tx, [{ id: schedule.id, ...decision.state }]);
    if (created > 0) this.logger.debug({ scheduleId: schedule.id, created }, 'schedule fired');
    return created;
  }
}
