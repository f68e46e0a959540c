/** The live workers of a tenant, as the workers list shows them. */
import type { Queryable } from '../db/pool.js';
import { listLiveWorkers, type WorkerRow } from '../db/queries/workers.js';

export type { WorkerRow };

/** Workers serving `tenantId` (or every tenant) whose heartbeat is fresher than `staleMs`. */
export function listWorkers(db: Queryable, tenantId: string, staleMs: number): Promise<WorkerRow[]> {
  return listLiveWorkers(db, tenantId, staleMs);
}
