/**
 * Pure decisions of the cron enqueuer for one due schedule: given its fire plan, its overlap policy
 * and how many of its jobs are still unfinished, which fire times become jobs, which are recorded
 * as skipped (and why), and the schedule's new fire bookkeeping. No I/O, so a pass can decide for
 * hundreds of schedules and then write all their runs, jobs and states in one statement each.
 */
import type { FirePlan, MisfirePolicy } from './schedule-plan.js';
import type { OverlapPolicy } from './schedule-spec.js';

/** Why a fire time became a job (stored as the run's reason). */
export type FireReason = 'on-time' | 'catch-up' | 'misfire-run-once' | 'overlap-buffered';

/** One fire time's outcome, in the order the runs are recorded. */
export type FireRun =
  | { at: Date; outcome: 'enqueued'; reason: FireReason }
  | { at: Date; outcome: 'skipped'; reason: string };

/** A schedule's fire bookkeeping after a pass. `lastFireAt` null keeps the stored value. */
export interface FireState {
  nextFireAt: Date | null;
  pendingFireAt: Date | null;
  lastFireAt: Date | null;
}

/** What a pass does for one schedule. */
export interface FireDecision {
  runs: FireRun[];
  state: FireState;
}

/** Input to {@link decideFires}. */
export interface FireInput {
  overlapPolicy: OverlapPolicy;
  misfirePolicy: MisfirePolicy;
  misfireGraceMs: number;
  /** The stored `next_fire_at`. */
  nextFireAt: Date | null;
  /** The fire buffered by `queue-one`, if any. */
  pendingFireAt: Date | null;
  /** How many of the schedule's jobs are queued, scheduled or running. */
  active: number;
  /** The fire plan, or null when no fire time is due (only a buffered fire may be). */
  plan: FirePlan | null;
  /** The database clock. */
  now: Date;
}

/** The reason text of a misfire skip, naming the policy and, when only a sample is recorded, the total. */
export function misfireReason(policy: MisfirePolicy, skipped: FirePlan['skipped']): string {
  const more = skipped.count > skipped.sample.length ? ` (${skipped.countIsLowerBound ? 'at least ' : ''}${skipped.count} missed in all)` : '';
  return `misfire: the scheduler was not running at this time; policy ${policy}${more}`;
}

/**
 * Decide one schedule's pass. A fire is assumed to create its job: when another scheduler already
 * recorded that fire time, the caller's insert of the run is a no-op and no job is made (guarantee 3).
 * Returns null when the overlap policy `cancel-previous` must cancel an unfinished job first; the
 * caller then handles that schedule statement by statement.
 */
export function decideFires(input: FireInput): FireDecision | null {
  const runs: FireRun[] = [];
  let active = input.active;
  let pending = input.pendingFireAt;
  let last: Date | null = null;
  // A fire buffered by `queue-one` starts once the previous run has finished.
  if (pending && active === 0) {
    runs.push({ at: pending, outcome: 'enqueued', reason: 'overlap-buffered' });
    active += 1;
    last = pending;
    pending = null;
  }
  let nextFireAt = input.nextFireAt;
  const plan = input.plan;
  if (plan) {
    for (const at of plan.skipped.sample) runs.push({ at, outcome: 'skipped', reason: misfireReason(input.misfirePolicy, plan.skipped) });
    for (const at of plan.fires) {
      const late = input.now.getTime() - at.getTime() > input.misfireGraceMs;
      const reason: FireReason = late ? (input.misfirePolicy === 'catch-up' ? 'catch-up' : 'misfire-run-once') : 'on-time';
      if (active > 0 && input.overlapPolicy !== 'allow') {
        if (input.overlapPolicy === 'cancel-previous') return null;
        if (input.overlapPolicy === 'skip') {
          runs.push({ at, outcome: 'skipped', reason: 'overlap: the previous run is still active' });
          continue;
        }
        if (pending) runs.push({ at: pending, outcome: 'skipped', reason: 'overlap: replaced by a newer buffered fire' });
        pending = at;
        continue;
      }
      runs.push({ at, outcome: 'enqueued', reason });
      active += 1;
      last = at;
    }
    nextFireAt = plan.nextFireAt;
  }
  return { runs, state: { nextFireAt, pendingFireAt: pending, lastFireAt: last } };
}
