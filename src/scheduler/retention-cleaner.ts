import type { Logger } from '../core/deps.js';
import { COUNTER_IDLE_RESET_S } from '../core/login-throttle.js';
import type { Pool } from '../db/pool.js';
import { deleteExpiredJobs, deleteExpiredSecurityRecords, deleteOldRecords } from '../db/queries/maintenance.js';
import { MaintenancePass, type PassTiming } from './maintenance-pass.js';

/** Options of {@link RetentionCleaner}. */
export interface RetentionCleanerOptions extends PassTiming {
  /** Keep completed jobs this long. */
  completedMs: number;
  /** Keep failed and cancelled jobs this long. */
  failedMs: number;
}

/** Cleaner: applies retention to finished jobs (with their log lines), old schedule runs, dead workers and the security tables. */
export class RetentionCleaner extends MaintenancePass {
  constructor(private readonly pool: Pool, logger: Logger, private readonly options: RetentionCleanerOptions) {
    super('retention-cleaner', logger, options);
  }

  /** Returns how many jobs were deleted. Bounded work per call. */
  protected async pass(): Promise<number> {
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
