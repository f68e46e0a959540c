import type { FastifyRequest } from 'fastify';
import { actorOf } from '../../core/access.js';
import type { Logger } from '../../core/deps.js';
import type { Pool } from '../../db/pool.js';
import { recordAudit } from '../../engine/audit.js';

/** What one state-changing request did. */
export interface AuditedAction {
  action: string;
  targetType?: string;
  targetId?: string | null;
  before?: unknown;
  after?: unknown;
  /** For requests without a principal (logins): the tenant the entry belongs to. */
  tenantId?: string;
  /** For requests without a principal: who acted (e.g. `anonymous`, `user:<id>`). */
  actor?: string;
}

/**
 * Records audit entries for state-changing requests: actor, tenant, time, action, target,
 * before/after, request id and client address, in the tenant's hash chain.
 *
 * Written right after the action commits (not in the same transaction yet): a crash between the
 * two loses the entry. A failure to write is logged as an error, never turned into a failed request.
 */
export function createAuditor(pool: Pool, logger: Logger) {
  return async function audit(request: FastifyRequest, entry: AuditedAction): Promise<void> {
    const principal = request.principal;
    const tenantId = entry.tenantId ?? principal?.tenantId;
    if (!tenantId) return;
    try {
      await recordAudit(pool, {
        tenantId,
        actor: entry.actor ?? (principal ? actorOf(principal) : 'anonymous'),
        action: entry.action,
        targetType: entry.targetType ?? null,
        targetId: entry.targetId ?? null,
        before: entry.before ?? null,
        after: entry.after ?? null,
        requestId: request.id,
        clientIp: request.ip,
      });
    } catch (error) {
      logger.error({ err: (error as Error).message, action: entry.action, requestId: request.id }, 'could not write the audit entry');
    }
  };
}

/** The audit function routes call. */
export type Auditor = ReturnType<typeof createAuditor>;
