/** The overview statistics (job counts and time series) the dashboard's first page shows. */
import type { Queryable } from '../db/pool.js';
import { overviewStats, type OverviewStats } from '../db/queries/stats.js';

export type { OverviewStats };

/** The overview of one tenant over the last `windowMinutes`, by the database clock. */
export function readOverview(db: Queryable, tenantId: string, windowMinutes: number): Promise<OverviewStats> {
  return overviewStats(db, tenantId, windowMinutes);
}
