import type { Logger } from '../core/deps.js';
import type { EventSink } from '../core/live-events.js';
import { greenestZone, type PlacementPolicy } from '../core/placement.js';
import { withTransaction, type Pool } from '../db/pool.js';
import { notifyNewJobs } from '../db/queries/jobs.js';
import { assignZones, listLiveZones, lockUnplacedJobs, placeExplicitJobs } from '../db/queries/maintenance.js';
import { MaintenancePass, type PassTiming } from './maintenance-pass.js';

const BATCH = 500;

/** Options of {@link Placer}. */
export interface PlacerOptions extends PassTiming {
  /** A worker whose heartbeat is older than this is not live. */
  workerStaleMs: number;
  /** Zone choice for `placement: { policy: 'greenest' }`. @defaultValue greenestZone */
  policy?: PlacementPolicy;
  events?: EventSink;
}

/** Placer: moves due jobs that need placement to `scheduled` on a zone or worker. */
export class Placer extends MaintenancePass {
  constructor(private readonly pool: Pool, logger: Logger, private readonly options: PlacerOptions) {
    super('placer', logger, options);
  }

  /** Returns how many jobs were placed. */
  protected async pass(): Promise<number> {
    const explicit = await placeExplicitJobs(this.pool, BATCH);
    this.announce(this.options.events, explicit);
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
    this.announce(this.options.events, byPolicy);
    const placed = explicit.length + byPolicy.length;
    if (placed > 0) {
      this.logger.debug({ placed }, 'placed jobs');
      await notifyNewJobs(this.pool);
    }
    return placed;
  }
}
