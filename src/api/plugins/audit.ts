import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { actorOf } from '../../core/access.js';
import type { Logger } from '../../core/deps.js';
import type { Pool } from '../../db/pool.js';
import { recordAuditBatch, type AuditEntry } from '../../engine/audit.js';

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
 * Entries are group-committed: a request waits until its entry is stored, but entries from
 * concurrent requests share one transaction (each tenant's chain lock is taken once per batch),
 * so auditing every submit does not serialise submits behind one commit each. Written right after
 * the action commits (not yet in its transaction): a crash between the two loses the entry. A
 * failure to write is logged as an error, never turned into a failed request.
 */
export function createAuditor(pool: Pool, logger: Logger) {
  let pending: Array<{ entry: AuditEntry; done: () => void }> = [];
  let flushing = false;

  async function flush(): Promise<void> {
    if (flushing || pending.length === 0) return;
    flushing = true;
    while (pending.length > 0) {
      const batch = pending.slice(0, 500);
      pending = pending.slice(batch.length);
      try {
        await recordAuditBatch(pool, batch.map((b) => b.entry));
      } catch (error) {
        logger.error({ err: (error as Error).message, entries: batch.length }, 'could not write audit entries');
      }
      for (const item of batch) item.done();
    }
    flushing = false;
  }

  return function audit(request: FastifyRequest, entry: AuditedAction): Promise<void> {
    const principal = request.principal;
    const tenantId = entry.tenantId ?? principal?.tenantId;
    if (!tenantId) return Promise.resolve();
    return new Promise<void>((resolve) => {
      pending.push({
        entry: {
          tenantId,
          actor: entry.actor ?? (principal ? actorOf(principal) : 'anonymous'),
          action: entry.action,
          targetType: entry.targetType ?? null,
          targetId: entry.targetId ?? null,
          before: entry.before ?? null,
          after: entry.after ?? null,
          requestId: request.id,
          clientIp: request.ip,
        },
        done: resolve,
      });
      void flush();
    });
  };
}

/** The audit function routes call. */
export type Auditor = ReturnType<typeof createAuditor>;

declare module 'fastify' {
  interface FastifyInstance {
    /** Record what a state-changing request did (see {@link createAuditor}); set by {@link auditPlugin}. */
    audit: Auditor;
  }
}

/** Options of {@link auditPlugin}. */
export interface AuditPluginOptions {
  pool: Pool;
  logger: Logger;
}

/** Decorates the app with `audit` (an auditor on `pool`), for the routes registered after it. Not encapsulated. */
export const auditPlugin = fp<AuditPluginOptions>(async (app, options) => {
  app.decorate('audit', createAuditor(options.pool, options.logger));
}, { name: 'jobplane-audit' });
