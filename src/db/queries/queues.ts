import type { Queryable } from '../pool.js';

/** A queue's settings. */
export interface QueueSettings {
  tenantId: string;
  name: string;
  paused: boolean;
  concurrencyLimit: number | null;
  updatedAt: Date;
}

const COLUMNS = `tenant_id AS "tenantId", name, paused, concurrency_limit AS "concurrencyLimit", updated_at AS "updatedAt"`;

/** Create or change a queue's settings; fields left undefined keep their value. */
export async function upsertQueueSettings(
  db: Queryable,
  tenantId: string,
  name: string,
  change: { paused?: boolean | undefined; concurrencyLimit?: number | null | undefined },
): Promise<{ before: QueueSettings | null; after: QueueSettings }> {
  const { rows: before } = await db.query<QueueSettings>(
    `SELECT ${COLUMNS} FROM jobplane.queues WHERE tenant_id = $1 AND name = $2`,
    [tenantId, name],
  );
  const setLimit = change.concurrencyLimit !== undefined;
  const { rows } = await db.query<QueueSettings>(
    `INSERT INTO jobplane.queues (tenant_id, name, paused, concurrency_limit)
     VALUES ($1, $2, coalesce($3, false), CASE WHEN $4 THEN $5::integer END)
     ON CONFLICT (tenant_id, name) DO UPDATE SET
       paused = coalesce($3, jobplane.queues.paused),
       concurrency_limit = CASE WHEN $4 THEN $5::integer ELSE jobplane.queues.concurrency_limit END,
       updated_at = now()
     RETURNING ${COLUMNS}`,
    [tenantId, name, change.paused ?? null, setLimit, change.concurrencyLimit ?? null],
  );
  return { before: before[0] ?? null, after: rows[0]! };
}

/** Settings of every queue of a tenant that has any. */
export async function listQueueSettings(db: Queryable, tenantId: string | null): Promise<QueueSettings[]> {
  const { rows } = await db.query<QueueSettings>(
    `SELECT ${COLUMNS} FROM jobplane.queues WHERE $1::uuid IS NULL OR tenant_id = $1::uuid ORDER BY tenant_id, name`,
    [tenantId],
  );
  return rows;
}

/** Drop a queue's settings row when it carries no setting (not paused, no limit); true when dropped. */
export async function deleteDefaultQueueSettings(db: Queryable, tenantId: string, name: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM jobplane.queues WHERE tenant_id = $1 AND name = $2 AND NOT paused AND concurrency_limit IS NULL`,
    [tenantId, name],
  );
  return (rowCount ?? 0) > 0;
}
