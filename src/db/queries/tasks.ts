import type { Queryable } from '../pool.js';

/** The filter of a live worker row: running, heartbeat fresher than $staleMs, serving the tenant (or every tenant). */
const LIVE_WORKER = (tenant: string, staleMs: string) =>
  `w.stopped_at IS NULL AND w.last_heartbeat_at > now() - ${staleMs} * interval '1 millisecond'
   AND (w.tenant_id IS NULL OR w.tenant_id = ${tenant})`;

/** A task some live worker announced. */
export interface LiveTaskRow {
  task: string;
  workers: number;
  zones: string[];
}

/** Every task the live workers of `tenantId` (and the tenant-less ones) handle, by name. */
export async function listLiveTasks(db: Queryable, tenantId: string, staleMs: number): Promise<LiveTaskRow[]> {
  const { rows } = await db.query<LiveTaskRow>(
    `SELECT t.task, count(*)::int AS workers,
            coalesce(array_agg(DISTINCT w.zone ORDER BY w.zone) FILTER (WHERE w.zone IS NOT NULL), '{}') AS zones
     FROM jobplane.workers w CROSS JOIN LATERAL unnest(w.tasks) AS t(task)
     WHERE ${LIVE_WORKER('$1::uuid', '$2')}
     GROUP BY t.task ORDER BY t.task`,
    [tenantId, staleMs],
  );
  return rows;
}

/** Of `tasks`, those no live worker of `tenantId` handles, with the tenant's `strictTasks` setting (one round trip). */
export async function findUnhandledTasks(db: Queryable, tenantId: string, tasks: readonly string[], staleMs: number): Promise<{ strictTasks: boolean; unhandled: string[] }> {
  const { rows } = await db.query<{ strictTasks: boolean | null; unhandled: string[] }>(
    `SELECT (SELECT strict_tasks FROM jobplane.tenants WHERE id = $1::uuid) AS "strictTasks",
            ARRAY(SELECT DISTINCT t FROM unnest($2::text[]) AS t
                  WHERE NOT EXISTS (SELECT 1 FROM jobplane.workers w WHERE ${LIVE_WORKER('$1::uuid', '$3')} AND t = ANY (w.tasks))
                  ORDER BY t) AS unhandled`,
    [tenantId, tasks, staleMs],
  );
  return { strictTasks: rows[0]?.strictTasks ?? false, unhandled: rows[0]?.unhandled ?? [] };
}
