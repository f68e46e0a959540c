import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { pendingMigrations } from '../../engine/database-status.js';
import type { Pool } from '../../db/pool.js';
import type { DatabaseState } from '../../engine/database-health.js';

/** Why the process is not ready beyond the database (e.g. it is draining), or null when it is. */
export type Readiness = () => string | null;

/** The process's database health monitor, as far as the probe needs it. */
export interface HealthState {
  readonly state: DatabaseState;
  readonly lastError: string | null;
}

/** A probe's own database check gives up after this, so /readyz answers even when packets vanish. */
const PROBE_TIMEOUT_MS = 5000;

/** Dependencies of the probes. */
export interface HealthRouteDeps {
  pool: Pool;
  /** @defaultValue always ready */
  readiness?: Readiness | undefined;
  health?: HealthState | undefined;
}

/**
 * /healthz (the process is alive) and /readyz (the database answers, migrations are current and
 * `readiness` has no objection). With `health`, a database its last ping found down is answered
 * at once; a read-only database is ready (`status: read-only`: reads work, and no other process
 * could take writes either).
 */
export async function healthRoutes(app: FastifyInstance, { pool, readiness = () => null, health }: HealthRouteDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/healthz', { schema: { tags: ['ops'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, () => ({ status: 'ok' as const }));
  r.get('/readyz', {
    schema: {
      tags: ['ops'],
      response: { 200: Type.Object({ status: Type.String(), pendingMigrations: Type.Array(Type.String()) }), 503: Type.Object({ status: Type.String(), reason: Type.String() }) },
    },
  }, async (_request, reply) => {
    const objection = readiness();
    if (objection) return reply.code(503).send({ status: 'not-ready', reason: objection });
    if (health?.state === 'down') return reply.code(503).send({ status: 'not-ready', reason: `database unreachable: ${health.lastError ?? 'no answer'}` });
    let timer: NodeJS.Timeout | undefined;
    try {
      const pending = await Promise.race([
        pendingMigrations(pool),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
        }),
      ]);
      if (pending.length > 0) return reply.code(503).send({ status: 'not-ready', reason: `migrations pending: ${pending.join(', ')}` });
      return { status: health?.state === 'read-only' ? 'read-only' : 'ready', pendingMigrations: [] };
    } catch (error) {
      return reply.code(503).send({ status: 'not-ready', reason: `database unreachable: ${(error as Error).message}` });
    } finally {
      clearTimeout(timer);
    }
  });
}
