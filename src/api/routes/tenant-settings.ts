import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Pool } from '../../db/pool.js';
import { changeTenantSettings, getTenantSettings } from '../../engine/tenant-settings.js';
import type { Auditor } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses } from '../schemas/common.js';

const Settings = Type.Object({
  strictTasks: Type.Boolean({ description: 'Refuse (422 TASK_UNKNOWN) a submit for a task no live worker handles, instead of storing it with a warning' }),
});

/** Dependencies of the tenant settings routes. */
export interface TenantSettingsRouteDeps {
  pool: Pool;
  audit: Auditor;
}

/** /api/v1/settings: the caller's tenant's settings (read by members, changed by admins). */
export async function tenantSettingsRoutes(app: FastifyInstance, deps: TenantSettingsRouteDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/api/v1/settings', {
    config: { permission: 'jobs:read' },
    schema: { tags: ['tenants'], summary: "Your tenant's settings", response: { 200: Settings, ...problemResponses } },
  }, async (request) => getTenantSettings(deps.pool, principalOf(request).tenantId));

  r.patch('/api/v1/settings', {
    config: { permission: 'admin' },
    schema: {
      tags: ['tenants'],
      summary: "Change your tenant's settings (fields left out keep their value)",
      body: Type.Partial(Settings, { additionalProperties: false }),
      response: { 200: Settings, ...problemResponses },
    },
  }, async (request) => {
    const { before, after } = await changeTenantSettings(deps.pool, principalOf(request).tenantId, request.body);
    await deps.audit(request, { action: 'tenant.settings', targetType: 'tenant', targetId: principalOf(request).tenantId, before, after });
    return after;
  });
}
