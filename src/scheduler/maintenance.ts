import { decideExpiredLease } from '../core/attempt-outcome.js';
import type { Logger } from '../core/deps.js';
import { jobEvent, nullEventSink, type EventSink, type JobChange } from '../core/events.js';
import { COUNTER_IDLE_RESET_S } from '../core/login-throttle.js';
import { greenestZone, type PlacementPolicy } from '../core/placement.js';
import { withTransaction, type Pool } from '../db/pool.js';
import { notifyNewJobs } from '../db/queries/jobs.js';
import {
  assignZones,
  deleteExpiredJobs,
  deleteExpiredSecurityRecords,
  deleteOldRecords,
  listLiveZones,
  lockExpiredLeases,
  lockUnplacedJobs,
  placeExplicitJobs,
  resolveExpiredLeases,
  revokeOverdueCancels,
  type LeaseResolution,
} from '../db/queries/maintenance.js';

const BATCH = 500;

/**
 * Rescuer: running jobs whose lease expired (the worker crashed or was cut off) go back to the
 * queue with backoff, or fail when their run has no attempts left (D6, D12: a crash counts as an
 * attempt). Also revokes running jobs whose cancel request outlived the grace period.
 */
export class LeaseRescuer {
  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly options: {
      cancelGraceMs: number;
      events?: EventSink;
      /** Told, per batch, how long each rescued job's lease had been expired (for metrics). */
      onRescued?: (expiredForMs: readonly number[]) => void;
    },
  ) {}

  /** Returns how many jobs were rescued or revoked. */
  async runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const resolved = await withTransaction(this.pool, async (tx) => {
        const expired = await lockExpiredLeases(tx, BATCH);
        const at = new Date().toISOString();
        const resolutions = expired.map((job): LeaseResolution => ({ id: job.id, ...decideExpiredLease(job, at) }));
        return { count: resolutions.length, lags: expired.map((job) => job.expiredForMs), changes: await resolveExpiredLeases(tx, resolutions) };
      });
      if (resolved.count > 0) this.options.onRescued?.(resolved.lags);
      announce(this.options.events, resolved.changes);
      total += resolved.count;
      if (resolved.count < BATCH) break;
    }
    const revoked = await revokeOverdueCancels(this.pool, this.options.cancelGraceMs, BATCH);
    announce(this.options.events, revoked);
    if (total > 0) {
      this.logger.warn({ rescued: total }, 'rescued jobs whose lease expired');
      await notifyNewJobs(this.pool);
    }
    return total + revoked.length;
  }
}

/** Cleaner: applies retention to finished jobs (with their log lines), old schedule runs, dead workers and the security tables. */
export class RetentionCleaner {
  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly options: { completedMs: number; failedMs: number },
  ) {}

  /** Returns how many jobs were deleted. Bounded work per call. */
  async runOnce(): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < 20; i++) {
      const n = await deleteExpiredJobs(this.pool, { completedMs: this.options.completedMs, failedMs: this.options.failedMs }, 5000);
      deleted += n;
      if (n < 5000) break;
    }
    await deleteOldRecords(this.pool, Math.max(this.options.completedMs, this.options.failedMs));
    await deleteExpiredSecurityRecords(this.pool, COUNTER_IDLE_RESET_S * 1000);
    if (deleted > 0) this.logger.info({ deleted }, 'deleted jobs past retention');
    return deleted;
  }
}

/** Placer: moves due jobs that need placement to `scheduled` on a zone or worker. */
export class Placer {
  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly options: { workerStaleMs: number; policy?: PlacementPolicy; events?: EventSink },
  ) {}

  /** Returns how many jobs were placed. */
  async runOnce(): Promise<number> {
    const explicit = await placeExplicitJobs(this.pool, BATCH);
    announce(this.options.events, explicit);
    const byPolicy = await withTransaction(this.pool, async (tx) => {
      const jobs = await lockUnplacedJobs(tx, BATCH);
      if (jobs.length === 0) return [];
      const zones = await listLiveZones(tx, this.options.workerStaleMs);
      const policy = this.options.policy ?? greenestZone;
      const assignments = jobs.flatMap((job) => {
        const zone = policy(job, zones);
        return zone ? [{ id: job.id, zone }] : [];
      });
      return assignZones(tx, assignments);
    });
    announce(this.options.events, byPolicy);
    const placed = explicit.length + byPolicy.length;
    if (placed > 0) {
      this.logger.debug({ placed }, 'placed jobs');
      await notifyNewJobs(this.pool);
    }
    return placed;
  }
}

/** Announce committed job changes as live events. */
function announce(events: EventSink | undefined, changes: readonly JobChange[]): void {
  if (changes.length === 0) return;
  const at = new Date().toISOString();
  (events ?? nullEventSink).publish(changes.map((c) => jobEvent(c, at)));
}
