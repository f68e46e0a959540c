import { decideExpiredLease } from '../core/attempt-outcome.js';
import type { Logger } from '../core/deps.js';
import type { EventSink } from '../core/live-events.js';
import { withTransaction, type Pool } from '../db/pool.js';
import { notifyNewJobs } from '../db/queries/jobs.js';
import { lockExpiredLeases, resolveExpiredLeases, revokeOverdueCancels, type LeaseResolution } from '../db/queries/maintenance.js';
import { MaintenancePass, type PassTiming } from './maintenance-pass.js';

const BATCH = 500;

/** Options of {@link LeaseRescuer}. */
export interface LeaseRescuerOptions extends PassTiming {
  /** Grace for a cancelled running job before its lease is revoked. */
  cancelGraceMs: number;
  events?: EventSink;
  /** Told, per batch, how long each rescued job's lease had been expired (for metrics). */
  onRescued?: (expiredForMs: readonly number[]) => void;
}

/**
 * Rescuer: running jobs whose lease expired (the worker crashed or was cut off) go back to the
 * queue, or fail when their run has no attempts left (docs/decisions.md #8: a crash counts as an attempt), as
 * `decideExpiredLease` in src/core/attempt-outcome.ts decides. Also revokes running jobs whose
 * cancel request outlived the grace period.
 */
export class LeaseRescuer extends MaintenancePass {
  constructor(private readonly pool: Pool, logger: Logger, private readonly options: LeaseRescuerOptions) {
    super('lease-rescuer', logger, options);
  }

  /** Returns how many jobs were rescued or revoked. */
  protected async pass(): Promise<number> {
    let total = 0;
    for (;;) {
      const resolved = await withTransaction(this.pool, async (tx) => {
        const expired = await lockExpiredLeases(tx, BATCH);
        const at = new Date(this.clock.nowMs()).toISOString();
        const resolutions = expired.map((job): LeaseResolution => ({ id: job.id, ...decideExpiredLease(job, at) }));
        return { count: resolutions.length, lags: expired.map((job) => job.expiredForMs), changes: await resolveExpiredLeases(tx, resolutions) };
      });
      if (resolved.count > 0) this.options.onRescued?.(resolved.lags);
      this.announce(this.options.events, resolved.changes);
      total += resolved.count;
      if (resolved.count < BATCH) break;
    }
    const revoked = await revokeOverdueCancels(this.pool, this.options.cancelGraceMs, BATCH);
    this.announce(this.options.events, revoked);
    if (total > 0) {
      this.logger.warn({ rescued: total }, 'rescued jobs whose lease expired');
      await notifyNewJobs(this.pool);
    }
    return total + revoked.length;
  }
}
