import type { Queryable } from '../pool.js';

/** What a tenant's admin may set for the tenant. */
export interface TenantSettings {
  /** Refuse (422 TASK_UNKNOWN) a submit for a task no live worker handles, instead of warning. */
  strictTasks: boolean;
}

const COLUMNS = `strict_tasks AS "strictTasks"`;

/** A tenant's settings, or null for an unknown tenant. */
export async function readTenantSettings(db: Queryable, tenantId: string): Promise<TenantSettings | null> {
  const { rows } = await db.query<TenantSettings>(`SELECT ${COLUMNS} FROM jobplane.tenants WHERE id = $1`, [tenantId]);
  return rows[0] ?? null;
}

/** Change a tenant's settings (fields left undefined keep their value); null for an unknown tenant. */
export async function updateTenantSettings(db: Queryable, tenantId: string, change: Partial<TenantSettings>): Promise<TenantSettings | null> {
  const { rows } = await db.query<TenantSettings>(
    `UPDATE jobplane.tenants SET strict_tasks = coalesce($2, strict_tasks) WHERE id = $1 RETURNING ${COLUMNS}`,
    [tenantId, change.strictTasks ?? null],
  );
  return rows[0] ?? null;
}
