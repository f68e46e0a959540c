/** A tenant's own settings (today: `strictTasks`), read by its members and changed by its admins. */
import type { Queryable } from '../db/pool.js';
import { readTenantSettings, updateTenantSettings, type TenantSettings } from '../db/queries/tenant-settings.js';
import { AppError } from '../errors/index.js';

export type { TenantSettings };

/** The settings of `tenantId`; TENANT_NOT_FOUND when it does not exist. */
export async function getTenantSettings(db: Queryable, tenantId: string): Promise<TenantSettings> {
  const settings = await readTenantSettings(db, tenantId);
  if (!settings) throw new AppError('TENANT_NOT_FOUND');
  return settings;
}

/** Change the settings of `tenantId`, answering them before and after. */
export async function changeTenantSettings(db: Queryable, tenantId: string, change: Partial<TenantSettings>): Promise<{ before: TenantSettings; after: TenantSettings }> {
  const before = await getTenantSettings(db, tenantId);
  const after = await updateTenantSettings(db, tenantId, change);
  if (!after) throw new AppError('TENANT_NOT_FOUND');
  return { before, after };
}
